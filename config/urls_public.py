"""URLs of the public domain: the platform page and the operators' admin."""

from django.urls import path

from apps.storefront import views as storefront
from apps.tenancy.admin import platform_admin_site

urlpatterns = [
    path("", storefront.platform_home, name="platform-home"),
    path("admin/", platform_admin_site.urls),
]
