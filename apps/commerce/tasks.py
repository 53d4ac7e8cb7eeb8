"""Housekeeping of commerce. Reservation expiry: beat runs ``commerce.expire_reservations`` every minute for every
active tenant, so stock held by abandoned checkouts comes back even when nobody reserves
the same variant again (``stock_reserve`` also releases what has expired under its locks).
Stale visitors' carts: ``commerce.prune_stale_carts`` runs hourly."""

from __future__ import annotations

import logging

from apps.core.jobs import scheduled_job
from apps.tenancy.tasks import for_each_active_tenant

from .carts import carts_prune_stale
from .services import reservations_expire

logger = logging.getLogger(__name__)


@scheduled_job("commerce.expire_reservations")
def expire_reservations() -> int:
    return for_each_active_tenant(
        reservations_expire, logger=logger, done="released %s expired reservation(s) of %s"
    )


@scheduled_job("commerce.prune_stale_carts")
def prune_stale_carts() -> int:
    """Visitors' carts untouched for 30 days go (beat runs this hourly, for every tenant);
    each run deletes at most one batch per tenant, so a backlog drains over a few runs."""
    return for_each_active_tenant(
        carts_prune_stale, logger=logger, done="deleted %s stale cart(s) of %s"
    )
