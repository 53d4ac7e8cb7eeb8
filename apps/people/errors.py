from django.utils.translation import gettext_lazy

from apps.core.errors import NotFound, ValidationFailed


class ProfileInvalid(ValidationFailed):
    """Bad input; ``errors`` maps field names to messages (forms and the API show them)."""

    code = "profile_invalid"

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{name}: {message}" for name, message in errors.items()))


class PersonNotFound(NotFound):
    code = "person_not_found"
    title = gettext_lazy("No such person")
