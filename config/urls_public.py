"""URLs of the public domain: the platform page, the operators' admin and /metrics."""

from django.urls import path

# Registers the outbox pages on platform_admin_site, whatever admin autodiscovery does.
import apps.events.admin  # noqa: F401
from apps.events import views as events
from apps.storefront import views as storefront
from apps.tenancy.admin import platform_admin_site

urlpatterns = [
    path("", storefront.platform_home, name="platform-home"),
    path("admin/", platform_admin_site.urls),
    path("metrics", events.metrics, name="metrics"),
]
