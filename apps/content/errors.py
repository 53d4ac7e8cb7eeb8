from django.utils.translation import gettext_lazy

from apps.core.errors import NotFound, ValidationFailed


class ContentInvalid(ValidationFailed):
    """Bad input; ``errors`` maps field names to messages (the API answers 400 with them)."""

    code = "content_invalid"

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{name}: {message}" for name, message in errors.items()))


class NodeNotFound(NotFound):
    code = "node_not_found"
    title = gettext_lazy("No such content")
