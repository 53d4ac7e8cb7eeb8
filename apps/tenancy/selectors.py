"""Reads of tenants that other modules may use."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.postgres.aggregates import ArrayAgg
from django.db import connection
from django.db.models import QuerySet
from django.urls import Resolver404, resolve

from apps.core import modules

from .models import Tenant, TenantStatus
from .resolver import tenant_by_host, tenant_by_schema, tenant_by_slug

# The resolver's cached lookups are the reads other modules use: through here.
__all__ = [
    "TenantSite", "module_states", "serves", "site_hosts", "site_url", "tenant_by_host", "tenant_by_schema", "tenant_by_slug",
    "tenant_get", "tenant_list", "tenant_sites",
]  # fmt: skip


_RESOLVE = object()


def serves(tenant: Tenant, path: str, namespace: str | object | None = _RESOLVE) -> bool:
    """Whether ``path`` of ``tenant``'s site belongs to no module the tenant turned off
    (``namespace``: the URL namespace it resolves to, looked up when not given)."""
    if not tenant.disabled_modules:
        return True
    path = path.split("?", 1)[0].split("#", 1)[0]
    if namespace is _RESOLVE:
        try:
            namespace = resolve(path).namespace
        except Resolver404:
            namespace = None
    return all(tenant.module_on(s) for s in modules.match(path, namespace).switches)


@dataclass(frozen=True)
class ModuleState:
    name: str
    label: str
    on: bool


def module_states(tenant: Tenant) -> list[ModuleState]:
    """Each module switch and whether it is on for ``tenant``, for people to read."""
    return [
        ModuleState(name, str(label), tenant.module_on(name))
        for name, label in sorted(modules.switches().items())
    ]


def tenant_list(*, active_only: bool = False) -> QuerySet[Tenant]:
    tenants = Tenant.objects.all()
    if active_only:
        tenants = tenants.filter(status=TenantStatus.ACTIVE)
    return tenants.order_by("slug")


def tenant_get(*, slug: str) -> Tenant | None:
    """The tenant called ``slug`` through the resolver's cache (no query when warm)."""
    return tenant_by_slug(slug)


def site_hosts(slug: str, domains: list[str]) -> list[str]:
    """Where a tenant's site lives: its subdomain of the platform, then its custom domains."""
    subdomain = f"{slug}.{settings.TENANT_BASE_DOMAIN}"
    return [subdomain, *sorted(domain for domain in set(domains) if domain != subdomain)]


def site_url(path: str, tenant: Tenant | None = None) -> str:
    """``path`` as an absolute URL on a tenant's own host (``tenant``, or the active one),
    for links that leave without a request to take the host from (emails, set-password
    links): its primary custom domain if it has one, else its subdomain of the platform;
    https where the site redirects to it."""
    if tenant is None:
        tenant = tenant_by_schema(connection.schema_name)
    host = None
    if tenant is not None:
        host = (
            tenant.domains.filter(is_primary=True)
            .order_by("domain")
            .values_list("domain", flat=True)
            .first()
        )
        host = host or site_hosts(tenant.slug, [])[0]
    scheme = "https" if settings.SECURE_SSL_REDIRECT else "http"
    port = f":{settings.SITE_URL_PORT}" if settings.SITE_URL_PORT else ""
    return f"{scheme}://{host or settings.TENANT_BASE_DOMAIN}{port}{path}"


@dataclass(frozen=True)
class TenantSite:
    slug: str
    name: str
    hosts: list[str]


def tenant_sites() -> list[TenantSite]:
    """Every active tenant's name and addresses (suspended ones are left out), in one query."""
    tenants = tenant_list(active_only=True).annotate(
        domain_names=ArrayAgg("domains__domain", distinct=True, default=[])
    )
    return [
        TenantSite(
            slug=tenant.slug,
            name=tenant.name,
            hosts=site_hosts(tenant.slug, [d for d in tenant.domain_names if d]),
        )
        for tenant in tenants.only("slug", "name")
    ]


def current_locales() -> list[str]:
    """The active tenant's enabled locales, its default one first (``["en"]`` outside one)."""
    tenant = tenant_by_schema(connection.schema_name)
    return list(tenant.locales) if tenant else ["en"]
