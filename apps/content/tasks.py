"""Scheduled publishing: beat runs ``content.publish_due`` every minute; it visits only the
active tenants whose scheduled drafts are due (the due-work index in ``public``)."""

from __future__ import annotations

import logging
from datetime import datetime

from apps.core.jobs import scheduled_job
from apps.tenancy.tasks import for_each_tenant_with_due_work

from .selectors import next_publication_at
from .services import PUBLISH_DUE, nodes_publish_due

logger = logging.getLogger(__name__)


@scheduled_job(PUBLISH_DUE)
def publish_due(now: datetime | None = None) -> int:
    """Publish the due drafts of the tenants that have some (``now``: the job's time)."""
    return for_each_tenant_with_due_work(
        PUBLISH_DUE,
        nodes_publish_due,
        next_publication_at,
        logger=logger,
        done="published %s scheduled node(s) of %s",
        now=now,
    )
