"""Scheduled publishing: beat runs ``content.publish_due`` every minute for every active tenant."""

from __future__ import annotations

import logging

from celery import shared_task
from django_tenants.utils import schema_context

from apps.tenancy.selectors import tenant_list

from .services import nodes_publish_due

logger = logging.getLogger(__name__)


@shared_task(name="content.publish_due", ignore_result=True)
def publish_due() -> int:
    total = 0
    for tenant in tenant_list(active_only=True):
        with schema_context(tenant.schema_name):
            published = nodes_publish_due()
        if published:
            logger.info("published %s scheduled node(s) of %s", published, tenant.slug)
        total += published
    return total
