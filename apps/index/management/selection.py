"""What the projection commands work on: ``--projection`` and ``--tenant``, checked."""

from __future__ import annotations

from typing import TypeVar

from django.core.management.base import CommandError

from apps.tenancy.models import Tenant
from apps.tenancy.selectors import tenant_list

T = TypeVar("T")


def chosen_projections(available: dict[str, T], name: str | None) -> dict[str, T]:
    if not name:
        return available
    if name not in available:
        raise CommandError(f"unknown projection; choose from {sorted(available)}")
    return {name: available[name]}


def chosen_tenants(slug: str | None) -> list[Tenant]:
    tenants = list(tenant_list())
    if slug:
        tenants = [tenant for tenant in tenants if tenant.slug == slug]
        if not tenants:
            raise CommandError(f"no tenant '{slug}'")
    return tenants
