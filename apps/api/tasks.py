"""The API's periodic work: forgetting the answers of idempotent POSTs after 24 hours."""

from __future__ import annotations

import logging

from apps.core.jobs import scheduled_job
from apps.tenancy.tasks import for_each_active_tenant

from . import idempotency

logger = logging.getLogger(__name__)


@scheduled_job("api.prune_idempotent_responses")
def prune_idempotent_responses() -> int:
    """Delete stored answers older than 24 hours, one statement per tenant schema (beat runs
    this hourly); they are already ignored by then, so a late run (or a suspended tenant,
    pruned once active again) only costs space."""
    return for_each_active_tenant(
        idempotency.prune, logger=logger, done="deleted %s idempotent response(s) of %s"
    )
