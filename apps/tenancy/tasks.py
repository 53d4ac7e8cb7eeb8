"""Celery tasks that run inside one tenant's schema.

A ``TenantTask`` takes its tenant as the ``tenant`` keyword argument (a slug
on the wire, a ``Tenant`` in the task body). Sending or running one without a
tenant raises ``TenantRequired``: such a task never falls back to ``public``.
"""

from __future__ import annotations

from celery import Task
from django.db import connection

from .errors import TenantNotFound, TenantRequired
from .identifiers import InvalidIdentifier, sanitize_slug
from .models import Tenant
from .resolver import activate, tenant_by_slug


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
