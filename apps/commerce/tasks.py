"""Housekeeping of commerce. Reservation expiry: beat runs ``commerce.expire_reservations``
every minute, so stock held by abandoned checkouts comes back even when nobody reserves the
same variant again (``stock_reserve`` also releases what has expired under its locks).
Stale visitors' carts: ``commerce.prune_stale_carts`` runs hourly. Order emails the mail
server refused or never answered for: ``commerce.retry_order_emails`` every minute. Card
charges left without an answer by shoppers who went away: ``commerce.reconcile_payments``
every minute (found approved, refunded). Each visits only the active tenants whose work is
due (the due-work index in ``public``)."""

from __future__ import annotations

import logging
from datetime import datetime

from apps.core.jobs import scheduled_job
from apps.tenancy.tasks import for_each_tenant_with_due_work

from .carts import PRUNE_STALE_CARTS, carts_next_stale_at, carts_prune_stale
from .order_emails import RETRY_ORDER_EMAILS, order_emails_next_retry, order_emails_retry
from .payments.reconciliation import (
    RECONCILE_PAYMENTS,
    payments_next_reconcile,
    payments_reconcile,
)
from .services import EXPIRE_RESERVATIONS, reservations_expire, reservations_next_expiry

logger = logging.getLogger(__name__)


@scheduled_job(EXPIRE_RESERVATIONS)
def expire_reservations(now: datetime | None = None) -> int:
    return for_each_tenant_with_due_work(
        EXPIRE_RESERVATIONS,
        reservations_expire,
        reservations_next_expiry,
        logger=logger,
        done="released %s expired reservation(s) of %s",
        now=now,
    )


@scheduled_job(PRUNE_STALE_CARTS)
def prune_stale_carts(now: datetime | None = None) -> int:
    """Visitors' carts untouched for 30 days go (beat runs this hourly); each run deletes at
    most one batch per tenant, so a backlog drains over a few runs."""
    return for_each_tenant_with_due_work(
        PRUNE_STALE_CARTS,
        carts_prune_stale,
        carts_next_stale_at,
        logger=logger,
        done="deleted %s stale cart(s) of %s",
        now=now,
    )


@scheduled_job(RETRY_ORDER_EMAILS)
def retry_order_emails(now: datetime | None = None) -> int:
    return for_each_tenant_with_due_work(
        RETRY_ORDER_EMAILS,
        order_emails_retry,
        order_emails_next_retry,
        logger=logger,
        done="sent %s order email(s) of %s on a later attempt",
        now=now,
    )


@scheduled_job(RECONCILE_PAYMENTS)
def reconcile_payments(now: datetime | None = None) -> int:
    """Look up the charges left unsettled (``PAYMENT_RECONCILE_AFTER_SECONDS``) of checkouts
    without an order; refund those found approved (``payments.reconciliation``)."""
    return for_each_tenant_with_due_work(
        RECONCILE_PAYMENTS,
        payments_reconcile,
        payments_next_reconcile,
        logger=logger,
        done="settled or refunded %s charge(s) left behind of %s",
        now=now,
    )
