"""Scheduled publishing: beat runs ``content.publish_due`` every minute for every active tenant."""

from __future__ import annotations

import logging

from apps.core.jobs import scheduled_job
from apps.tenancy.tasks import for_each_active_tenant

from .services import nodes_publish_due

logger = logging.getLogger(__name__)


@scheduled_job("content.publish_due")
def publish_due() -> int:
    return for_each_active_tenant(
        nodes_publish_due, logger=logger, done="published %s scheduled node(s) of %s"
    )
