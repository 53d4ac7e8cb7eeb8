"""Reservation expiry: beat runs ``commerce.expire_reservations`` every minute for every
active tenant, so stock held by abandoned checkouts comes back even when nobody reserves
the same variant again (``stock_reserve`` also releases what has expired under its locks)."""

from __future__ import annotations

import logging

from celery import shared_task

from apps.tenancy.tasks import for_each_active_tenant

from .services import reservations_expire

logger = logging.getLogger(__name__)


@shared_task(name="commerce.expire_reservations", ignore_result=True)
def expire_reservations() -> int:
    return for_each_active_tenant(
        reservations_expire, logger=logger, done="released %s expired reservation(s) of %s"
    )
