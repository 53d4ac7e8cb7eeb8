from apps.core.errors import NotFound, ValidationFailed


class PagesInvalid(ValidationFailed):
    """Bad input; ``errors`` maps field names (``blocks.en[2].url``) to messages."""

    code = "pages_invalid"

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{name}: {message}" for name, message in errors.items()))


class MenuNotFound(NotFound):
    code = "menu_not_found"
    title = "No such menu"
