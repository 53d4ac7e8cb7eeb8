from django.utils.translation import gettext_lazy

from apps.core.errors import Conflict, NotFound, ValidationFailed


class FieldErrors(ValidationFailed):
    """Bad input; ``errors`` maps field names to messages (forms and the API show them)."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{name}: {message}" for name, message in errors.items()))


class ProfileInvalid(FieldErrors):
    code = "profile_invalid"


class PersonNotFound(NotFound):
    code = "person_not_found"
    title = gettext_lazy("No such person")


# -- customers -------------------------------------------------------------------------------


class CustomerInvalid(FieldErrors):
    code = "customer_invalid"
    title = gettext_lazy("The account cannot be made")


class AddressInvalid(FieldErrors):
    code = "address_invalid"
    title = gettext_lazy("Invalid address")


class AddressNotFound(NotFound):
    code = "address_not_found"
    title = gettext_lazy("No such address")


class AddressBookFull(Conflict):
    code = "address_book_full"
    title = gettext_lazy("The address book is full")


# -- api keys --------------------------------------------------------------------------------


class ApiKeyInvalid(FieldErrors):
    code = "api_key_invalid"
    title = gettext_lazy("The API key cannot be made")


class ApiKeyNotFound(NotFound):
    code = "api_key_not_found"
    title = gettext_lazy("No such API key")
