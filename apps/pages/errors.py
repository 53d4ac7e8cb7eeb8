from django.utils.translation import gettext_lazy

from apps.content.errors import ContentInvalid
from apps.core.errors import NotFound


class PagesInvalid(ContentInvalid):
    """Bad input to pages; ``errors`` maps field names (``blocks.en[2].url``) to messages."""

    code = "pages_invalid"


class MenuNotFound(NotFound):
    code = "menu_not_found"
    title = gettext_lazy("No such menu")
