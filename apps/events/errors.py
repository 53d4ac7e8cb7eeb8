from django.utils.translation import gettext_lazy

from apps.core.error_policy import PermanentError
from apps.core.errors import PlatformError, ServiceUnavailable, ValidationFailed


class EventValidationError(ValidationFailed, PermanentError):
    """An event failed its schema. Names the event type and the offending field."""

    code = "event_invalid"
    title = gettext_lazy("Invalid event")

    def __init__(self, event_type: str, field: str, message: str) -> None:
        self.event_type = event_type
        self.field = field
        self.message = message
        super().__init__(f"{event_type}: {field}: {message}")


class UnknownEventType(PermanentError):
    """A stored event whose type or version no code knows how to read."""


class PublishOutsideTransaction(RuntimeError):
    """``publish()`` was called outside ``transaction.atomic()``."""


class Backpressure(ServiceUnavailable):
    code = "backpressure"
    title = gettext_lazy("Busy: too many events waiting")


class FeedQueryInvalid(ValidationFailed):
    """A feed read with a malformed cursor or type filter; ``field`` names which."""

    code = "feed_query_invalid"
    title = gettext_lazy("Invalid feed query")

    def __init__(self, detail: str, *, field: str) -> None:
        super().__init__(detail)
        self.errors = {field: detail}


class FeedCursorExpired(PlatformError):
    """A feed cursor from before the retention window: events after it were pruned."""

    status = 410
    code = "feed_cursor_expired"
    title = gettext_lazy("Cursor past the retention window")
