"""Typed errors of the forum; each delivery channel maps them to HTTP in one place."""

from django.utils.translation import gettext_lazy

from apps.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed


class ForumInvalid(ValidationFailed):
    """Bad input; ``errors`` maps field names to messages (the API answers with them)."""

    code = "forum_invalid"

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{name}: {message}" for name, message in errors.items()))


class BodyTooLarge(ForumInvalid):
    """A body over the forum's size limit (the API answers 413)."""

    status = 413
    code = "body_too_large"
    title = gettext_lazy("Body too large")


class ForumCategoryNotFound(NotFound):
    code = "forum_category_not_found"
    title = gettext_lazy("No such forum category")


class TopicNotFound(NotFound):
    code = "topic_not_found"
    title = gettext_lazy("No such topic")


class ReplyNotFound(NotFound):
    code = "reply_not_found"
    title = gettext_lazy("No such reply")


class FlagNotFound(NotFound):
    code = "flag_not_found"
    title = gettext_lazy("No such report")


class TopicClosed(Conflict):
    """A reply to a topic that is closed, archived or locked."""

    code = "topic_closed"
    title = gettext_lazy("Topic closed")


class ForumConflict(Conflict):
    code = "forum_conflict"


class NotAllowed(PermissionDenied):
    """The user may not do this (start a topic in a staff-only category, edit another's reply,
    edit after the window)."""

    code = "forum_not_allowed"
    title = gettext_lazy("Not allowed")
