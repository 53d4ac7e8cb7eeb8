from django.utils.translation import gettext_lazy

from apps.core.errors import NotFound


class PageNotFound(NotFound):
    """A page number (or archive month) that holds nothing: the storefront answers 404."""

    code = "page_not_found"
    title = gettext_lazy("No such page")
