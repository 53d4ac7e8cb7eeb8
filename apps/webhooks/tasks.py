"""The webhook workers' tasks, on their own queue (``webhooks``) so that slow receivers
never hold up the relay or other work."""

from __future__ import annotations

import logging
from datetime import datetime

from celery import shared_task
from django.conf import settings

from apps.core.jobs import scheduled_job
from apps.tenancy.tasks import TenantTask, for_each_tenant_with_due_work

from . import selectors, services

logger = logging.getLogger(__name__)

SWEEP_BATCH = 500


@shared_task(name="webhooks.deliver", base=TenantTask, ignore_result=True)
def deliver(*, delivery_id: int, tenant) -> None:
    """One attempt of one delivery (nothing when it is not due, or another worker has it)."""
    outcome = services.delivery_attempt(delivery_id=delivery_id)
    if outcome is not None and not outcome.succeeded:
        logger.info(
            "webhook delivery %s of %s: %s", delivery_id, tenant.slug,
            outcome.status_code or outcome.error,
        )  # fmt: skip


@scheduled_job(services.SWEEP_JOB, max_attempts=1)
def sweep(now: datetime | None = None) -> int:
    """Beat's safety net: hand the workers every delivery overdue by more than the grace
    (a retry due later than a countdown reaches, or an enqueue the broker lost), in the
    tenants that have one."""
    grace = settings.WEBHOOKS["SWEEP_GRACE_SECONDS"]

    def enqueue_due(*, now: datetime) -> int:
        due = selectors.due_delivery_ids(limit=SWEEP_BATCH, overdue_by=grace, now=now)
        services.deliveries_enqueue(delivery_ids=due)
        return len(due)

    return for_each_tenant_with_due_work(
        services.SWEEP_JOB, enqueue_due, lambda: selectors.next_overdue_at(overdue_by=grace),
        logger=logger, done="webhook sweep: %s due deliveries of %s", now=now,
    )  # fmt: skip


@scheduled_job(services.PRUNE_JOB)
def prune(now: datetime | None = None) -> int:
    """Beat, hourly: finished deliveries past ``WEBHOOKS["RETENTION_DAYS"]`` go, in the
    tenants that have some."""
    return for_each_tenant_with_due_work(
        services.PRUNE_JOB,
        services.deliveries_prune,
        lambda: selectors.next_expiry_at(retention=services.retention()),
        logger=logger,
        done="pruned %s webhook deliveries of %s",
        now=now,
    )
