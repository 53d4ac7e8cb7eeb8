"""Events of the tenancy module. Published into the tenant they concern."""

from typing import Any

from apps.events.schema import (
    AggregateVersion,
    DomainEvent,
    ShortText,
    Slug,
    StatusChange,
    upcaster,
)

LOCALE = ShortText


class TenantCreated(DomainEvent):
    event_type = "tenancy.tenant.created"
    schema_version = 2
    aggregate_type = "tenant"
    aggregate_id_field = "tenant_id"
    aggregate_version_field = "version"

    tenant_id: int
    slug: Slug
    name: ShortText
    default_locale: LOCALE
    version: AggregateVersion = 1


@upcaster("tenancy.tenant.created", from_version=1)
def _tenant_created_v1_to_v2(payload: dict[str, Any]) -> dict[str, Any]:
    # v1 had no locale: every tenant of that time was served in English.
    payload.setdefault("default_locale", "en")
    return payload


class TenantStatusChanged(StatusChange):
    event_type = "tenancy.tenant.status_changed"
    aggregate_type = "tenant"
    aggregate_id_field = "tenant_id"
    aggregate_version_field = "version"

    tenant_id: int
    version: AggregateVersion


class TenantRenamed(DomainEvent):
    event_type = "tenancy.tenant.updated"
    aggregate_type = "tenant"
    aggregate_id_field = "tenant_id"
    aggregate_version_field = "version"

    tenant_id: int
    name: ShortText
    default_locale: LOCALE
    version: AggregateVersion


class TenantModulesChanged(DomainEvent):
    event_type = "tenancy.tenant.modules_changed"
    aggregate_type = "tenant"
    aggregate_id_field = "tenant_id"
    aggregate_version_field = "version"

    tenant_id: int
    disabled_modules: list[Slug]
    version: AggregateVersion


class DomainAdded(DomainEvent):
    event_type = "tenancy.domain.added"
    aggregate_type = "tenant"
    aggregate_id_field = "tenant_id"
    aggregate_version_field = "version"

    tenant_id: int
    domain: ShortText
    version: AggregateVersion


class DomainRemoved(DomainEvent):
    event_type = "tenancy.domain.removed"
    aggregate_type = "tenant"
    aggregate_id_field = "tenant_id"
    aggregate_version_field = "version"

    tenant_id: int
    domain: ShortText
    version: AggregateVersion
