"""Celery tasks that run inside tenants' schemas.

A ``TenantTask`` takes its tenant as the ``tenant`` keyword argument (a slug
on the wire, a ``Tenant`` in the task body). Sending or running one without a
tenant raises ``TenantRequired``: such a task never falls back to ``public``.

A beat task that does the same work in many tenants (``content.publish_due``,
``commerce.expire_reservations``) visits only the active tenants whose work is due, with
``for_each_tenant_with_due_work``: one query in ``public`` finds them, so a run costs
O(tenants with due work), not O(tenants). ``for_each_active_tenant`` remains for work that
is not marked in the due-work index.

``tenancy.refill_spares`` is tenancy's own beat job: it keeps the pool of spare
schemas (``apps.tenancy.spares``) full, in ``public``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from celery import Task
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.core.jobs import scheduled_job

from . import spares
from .errors import TenantNotFound, TenantRequired
from .identifiers import InvalidIdentifier, sanitize_slug
from .models import DueWork, Tenant, TenantStatus
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


# How long a tenant whose visit failed waits before the job tries it again.
FAILED_VISIT_DELAY = timedelta(minutes=1)


class DueWorkFailed(RuntimeError):
    """A beat job's work failed for some tenants (the others were done)."""


def for_each_tenant_with_due_work(
    kind: str,
    work: Callable[..., int],
    next_due: Callable[[], datetime | None],
    *,
    logger: logging.Logger,
    done: str,
    now: datetime | None = None,
) -> int:
    """Run ``work(now=now)`` in the schema of every active tenant whose ``kind`` work is due; the
    total it did. Marks come from ``apps.tenancy.services.work_due``.

    One query in ``public`` finds the tenants (suspended ones keep their rows and wait). After
    ``work`` each row is settled: ``next_due()``, read in the schema, is the earliest time
    work is left there (``None``: nothing left), and the row moves to it or goes. ``work``
    returns how many things it did; where that is not zero, ``logger`` logs ``done`` at INFO
    with that count and the tenant's slug as its two ``%s`` arguments.

    A tenant whose work fails is logged with its error, its row put off by
    ``FAILED_VISIT_DELAY`` (it would come first on every run, being the oldest), and the
    others are visited all the same; ``DueWorkFailed`` names the failed ones at the end, so
    the job's error policy counts the run as failed.
    """
    now = now or timezone.now()
    due = (
        DueWork.objects.filter(kind=kind, due_at__lte=now, tenant__status=TenantStatus.ACTIVE)
        .select_related("tenant")
        .order_by("due_at", "pk")
    )
    total, failed = 0, []
    for row in list(due):
        try:
            with schema_context(row.tenant.schema_name):
                count = work(now=now)
                _settle(row, next_due)
        except Exception:
            retry_at = timezone.now() + FAILED_VISIT_DELAY
            logger.exception(
                "%s failed for %s; tried again from %s, the other tenants go on",
                kind, row.tenant.slug, retry_at.isoformat(),
            )  # fmt: skip
            DueWork.objects.filter(pk=row.pk).update(due_at=retry_at)
            failed.append(row.tenant.slug)
            continue
        if count:
            logger.info(done, count, row.tenant.slug)
        total += count
    if failed:
        raise DueWorkFailed(
            f"{kind} failed for {len(failed)} tenant(s): {', '.join(failed[:20])}"
            f"{' ...' if len(failed) > 20 else ''} (the others were done: {total})"
        )
    return total


def _settle(row: DueWork, next_due: Callable[[], datetime | None]) -> None:
    """Move ``row`` to the schema's next due time, or delete it when nothing is left.

    The row is locked before ``next_due`` reads, so a writer's mark is never lost: a writer
    that committed before the lock has its work seen by ``next_due``; one still in its
    transaction holds the row (FOR KEY SHARE) and the row is left due for the next run
    (SKIP LOCKED: a beat run never waits on a request); one after the lock finds the row
    moved or gone and marks it again.
    """
    with transaction.atomic():
        locked = DueWork.objects.select_for_update(skip_locked=True).filter(pk=row.pk)
        if not locked.values_list("pk", flat=True):
            return
        following = next_due()
        if following is None:
            locked.delete()
        else:
            locked.update(due_at=following)


# Beat runs it again within seconds: its next run is its retry.
@scheduled_job("tenancy.refill_spares", max_attempts=1)
def refill_spares() -> int:
    """Copy the template into spares until the pool is full; how many were copied."""
    return spares.spares_refill().created
