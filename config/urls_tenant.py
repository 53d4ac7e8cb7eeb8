"""URLs of every tenant's site: storefront, the tenant's admin, the API."""

from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Administration"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("apps.api.urls")),
    path("blog/", include("apps.storefront.blog_urls")),
    # home, search, sitemap.xml, robots.txt
    path("", include("apps.storefront.urls")),
    # pages by hierarchical path: last, it matches what nothing else did
    path("", include("apps.pages.urls")),
]
