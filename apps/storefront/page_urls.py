"""Pages by path (``apps.pages``), served through the storefront's page cache.

Mounted last in the tenant's URLs, in place of ``apps.pages.urls`` (same pattern and names):
the pages module sits below the storefront and cannot wrap its own view in the cache.
A page may hold a product grid, so pages show the shop too; a staff preview
(``?preview=1``) and the redirects are never stored.
"""

from django.urls import re_path

from apps.core.locale import LOCALE_PARAM
from apps.pages import views
from apps.pages.urls import PAGE_PATH

from .page_cache import SHOP, SITE, cached_page

app_name = "pages"
urlpatterns = [
    re_path(
        PAGE_PATH,
        cached_page(shows=(SITE, SHOP), params=(LOCALE_PARAM,))(views.page_detail),
        name="page",
    ),
]
