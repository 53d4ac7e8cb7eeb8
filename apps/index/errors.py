from django.utils.translation import gettext_lazy

from apps.core.errors import NotFound, PlatformError


class PageNotFound(NotFound):
    """A page number (or archive month) that holds nothing: the storefront answers 404."""

    code = "page_not_found"
    title = gettext_lazy("No such page")


class ListingQueryInvalid(PlatformError):
    """A listing asked for with an unknown sort, a bad currency or a bad price: 400."""

    code = "listing_query_invalid"
    title = gettext_lazy("Invalid listing query")
