"""The API's periodic work: forgetting the answers of idempotent POSTs after 24 hours."""

from __future__ import annotations

import logging
from datetime import datetime

from apps.core.jobs import scheduled_job
from apps.tenancy.tasks import for_each_tenant_with_due_work

from . import idempotency

logger = logging.getLogger(__name__)


@scheduled_job(idempotency.PRUNE_JOB)
def prune_idempotent_responses(now: datetime | None = None) -> int:
    """Delete stored answers older than 24 hours, one statement per tenant schema that has
    some (beat runs this hourly); they are already ignored by then, so a late run (or a
    suspended tenant, pruned once active again) only costs space."""
    return for_each_tenant_with_due_work(
        idempotency.PRUNE_JOB,
        idempotency.prune,
        idempotency.next_prune_at,
        logger=logger,
        done="deleted %s idempotent response(s) of %s",
        now=now,
    )
