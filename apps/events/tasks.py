"""Celery tasks of the relay. They run in ``public`` and switch schema per event group."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from . import relay, services, wakeup

logger = logging.getLogger(__name__)


@shared_task(name="events.drain", ignore_result=True)
def drain() -> dict:
    """Drain the outbox for a while; ask for another drain if work is left."""
    wakeup.clear()
    stats = relay.drain(time_budget=settings.EVENTS["DRAIN_TIME_BUDGET_SECONDS"])
    if stats.more:
        wakeup.request_drain()
    if stats.claimed or stats.failed:
        logger.info(
            "drained %s events (%s failed, %s dead, %s held back) in %.2f s",
            stats.handled, stats.failed, stats.dead, stats.blocked, stats.seconds,
        )  # fmt: skip
    return {"handled": stats.handled, "failed": stats.failed, "more": stats.more}


@shared_task(name="events.sweep", ignore_result=True)
def sweep() -> None:
    """Safety net run by beat: drain whatever a lost wake-up left behind, and due retries."""
    drain.run()


@shared_task(name="events.prune", ignore_result=True)
def prune() -> int:
    deleted = services.outbox_prune()
    logger.info("pruned %s dispatched events past retention", deleted)
    return deleted
