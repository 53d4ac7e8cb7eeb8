"""Celery tasks that run inside tenants' schemas.

A ``TenantTask`` takes its tenant as the ``tenant`` keyword argument (a slug
on the wire, a ``Tenant`` in the task body). Sending or running one without a
tenant raises ``TenantRequired``: such a task never falls back to ``public``.

A beat task that does the same work for every tenant (``content.publish_due``,
``commerce.expire_reservations``) walks them with ``for_each_active_tenant``.

``tenancy.refill_spares`` is tenancy's own beat job: it keeps the pool of spare
schemas (``apps.tenancy.spares``) full, in ``public``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from celery import Task
from django.db import connection
from django_tenants.utils import schema_context

from apps.core.jobs import scheduled_job

from . import spares
from .errors import TenantNotFound, TenantRequired
from .identifiers import InvalidIdentifier, sanitize_slug
from .models import Tenant
from .resolver import activate, tenant_by_slug
from .selectors import tenant_list


def _slug_of(value: object) -> str:
    if isinstance(value, Tenant):
        return value.slug
    if isinstance(value, str) and value:
        return value
    raise TenantRequired("this task touches tenant data: pass tenant=<slug or Tenant>")


class TenantTask(Task):
    abstract = True

    def apply_async(self, args=None, kwargs=None, **options):
        kwargs = dict(kwargs or {})
        kwargs["tenant"] = _slug_of(kwargs.get("tenant"))
        return super().apply_async(args, kwargs, **options)

    def __call__(self, *args, **kwargs):
        slug = _slug_of(kwargs.pop("tenant", None))
        try:
            tenant = tenant_by_slug(sanitize_slug(slug))
        except InvalidIdentifier as exc:
            raise TenantNotFound(f"invalid tenant '{slug}': {exc.reason}") from None
        if tenant is None:
            raise TenantNotFound(f"no tenant '{slug}'")
        previous = connection.tenant
        activate(tenant)
        try:
            return super().__call__(*args, tenant=tenant, **kwargs)
        finally:
            connection.set_tenant(previous) if previous is not None else activate(None)


def for_each_active_tenant(work: Callable[[], int], *, logger: logging.Logger, done: str) -> int:
    """Run ``work`` in the schema of every active tenant, one after the other; the total it did.

    ``work`` returns how many things it did. Where that is not zero, ``logger`` logs ``done``
    at INFO with that count and the tenant's slug as its two ``%s`` arguments.
    """
    total = 0
    for tenant in tenant_list(active_only=True):
        with schema_context(tenant.schema_name):
            count = work()
        if count:
            logger.info(done, count, tenant.slug)
        total += count
    return total


# Beat runs it again within seconds: its next run is its retry.
@scheduled_job("tenancy.refill_spares", max_attempts=1)
def refill_spares() -> int:
    """Copy the template into spares until the pool is full; how many were copied."""
    return spares.spares_refill().created
