"""Reads of tenants that other modules may use."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import Tenant, TenantStatus
from .resolver import tenant_by_host, tenant_by_schema, tenant_by_slug

# The resolver's cached lookups are the reads other modules use: through here.
__all__ = ["tenant_by_host", "tenant_by_schema", "tenant_by_slug", "tenant_get", "tenant_list"]


def tenant_list(*, active_only: bool = False) -> QuerySet[Tenant]:
    tenants = Tenant.objects.all()
    if active_only:
        tenants = tenants.filter(status=TenantStatus.ACTIVE)
    return tenants.order_by("slug")


def tenant_get(*, slug: str) -> Tenant | None:
    """The tenant called ``slug`` through the resolver's cache (no query when warm)."""
    return tenant_by_slug(slug)
