"""Reservation expiry: beat runs ``commerce.expire_reservations`` every minute for every
active tenant, so stock held by abandoned checkouts comes back even when nobody reserves
the same variant again (``stock_reserve`` also releases what has expired under its locks)."""

from __future__ import annotations

import logging

from celery import shared_task
from django_tenants.utils import schema_context

from apps.tenancy.selectors import tenant_list

from .services import reservations_expire

logger = logging.getLogger(__name__)


@shared_task(name="commerce.expire_reservations", ignore_result=True)
def expire_reservations() -> int:
    total = 0
    for tenant in tenant_list(active_only=True):
        with schema_context(tenant.schema_name):
            released = reservations_expire()
        if released:
            logger.info("released %s expired reservation(s) of %s", released, tenant.slug)
        total += released
    return total
