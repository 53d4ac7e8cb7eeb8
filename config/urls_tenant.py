"""URLs of every tenant's site: storefront, the tenant's admin, later the API."""

from django.contrib import admin
from django.urls import path

from apps.storefront import views as storefront

admin.site.site_header = "Administration"

urlpatterns = [
    path("", storefront.home, name="home"),
    path("admin/", admin.site.urls),
]
