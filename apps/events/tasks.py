"""Celery tasks of the relay. They run in ``public`` and switch schema per event group."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from apps.core.breakers import BROKER, guarded
from apps.core.jobs import scheduled_job

from . import relay, selectors, services, wakeup

logger = logging.getLogger(__name__)


@shared_task(name=wakeup.DRAIN_TASK, ignore_result=True)
def drain() -> dict:
    """Drain the outbox for a while; ask for another drain if work is left."""
    wakeup.clear()
    # Coalesced wake-ups send one task; a backlog gets a second process to help.
    stats = relay.drain(
        time_budget=settings.EVENTS["DRAIN_TIME_BUDGET_SECONDS"], on_backlog=wakeup.request_helper
    )
    if stats.more:
        wakeup.request_drain()
    else:
        _schedule_next_retry()
    if stats.claimed or stats.failed:
        logger.info(
            "drained %s events (%s failed, %s dead, %s held back) in %.2f s",
            stats.handled, stats.failed, stats.dead, stats.blocked, stats.seconds,
        )  # fmt: skip
    return {"handled": stats.handled, "failed": stats.failed, "more": stats.more}


def _schedule_next_retry() -> None:
    """Come back when the next failed delivery is due, instead of waiting for the sweep."""
    due_in = selectors.next_retry_in()
    if due_in is not None and due_in < settings.EVENTS["RETRY_MAX_SECONDS"] + 1:
        guarded(BROKER, drain.apply_async, countdown=max(0.05, due_in), retry=False, fallback=None)


@scheduled_job("events.sweep", max_attempts=1)
def sweep() -> None:
    """Safety net run by beat: drain whatever a lost wake-up left behind, and due retries."""
    drain.run()


@scheduled_job("events.prune")
def prune() -> int:
    deleted = services.outbox_prune()
    logger.info("pruned %s dispatched events past retention", deleted)
    return deleted
