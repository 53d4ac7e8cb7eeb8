"""URLs of every tenant's site: storefront, the tenant's admin, the API."""

from django.contrib import admin
from django.db import connection
from django.urls import include, path
from django.utils.functional import lazy
from django.utils.translation import gettext

from apps.commerce import admin_csv


def _tenant_name() -> str:
    """The name of the tenant this request is for (django-tenants sets ``connection.tenant``)."""
    return getattr(getattr(connection, "tenant", None), "name", "") or ""


def _site_header() -> str:
    name = _tenant_name()
    return (
        gettext("%(tenant)s administration") % {"tenant": name}
        if name
        else gettext("Administration")
    )


def _index_title() -> str:
    name = _tenant_name()
    return (
        gettext("%(tenant)s: content and settings") % {"tenant": name}
        if name
        else gettext("Site administration")
    )


# ``admin.site`` is one object for every tenant: its titles are lazy strings, computed
# each time a page renders them, so each tenant's admin names its own tenant.
admin.site.site_header = lazy(_site_header, str)()
admin.site.site_title = lazy(_site_header, str)()
admin.site.index_title = lazy(_index_title, str)()

urlpatterns = [
    # before the admin site's own URLs, which would answer 404 for these paths
    path("admin/", include(admin_csv.urls())),
    path("admin/", admin.site.urls),
    path("api/v1/", include("apps.api.urls")),
    path("blog/", include("apps.storefront.blog_urls")),
    path("forum/", include("apps.storefront.forum_urls")),
    path("shop/", include("apps.storefront.shop_urls")),
    path("cart/", include("apps.storefront.cart_urls")),
    path("checkout/", include("apps.storefront.checkout_urls")),
    path("account/", include("apps.storefront.account_urls")),
    # home, search, sitemap.xml, robots.txt
    path("", include("apps.storefront.urls")),
    # pages by hierarchical path: last, it matches what nothing else did
    path("", include("apps.storefront.page_urls")),
]
