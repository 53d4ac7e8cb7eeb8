"""Each tenant's admin: the apps of modules the tenant turned off leave its index and
navigation (their URLs answer 404 through ``ModuleGateMiddleware``), and its index shows
which modules are on."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from .models import Tenant
from .selectors import module_states, serves


def _tenant(request: HttpRequest) -> Tenant | None:
    current = getattr(request, "tenant", None)
    return current if isinstance(current, Tenant) else None


class TenantAdminSite(admin.AdminSite):
    index_template = "admin/tenant_index.html"

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[dict]:
        apps = super().get_app_list(request, app_label)
        tenant = _tenant(request)
        if tenant is None or not tenant.disabled_modules:
            return apps
        return [app for app in apps if serves(tenant, f"/admin/{app['app_label']}/")]

    def index(self, request: HttpRequest, extra_context: dict | None = None):
        tenant = _tenant(request)
        extra = {"module_states": module_states(tenant) if tenant is not None else []}
        return super().index(request, {**extra, **(extra_context or {})})
