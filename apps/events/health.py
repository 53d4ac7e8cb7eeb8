"""The events module's dependencies in readiness: Celery's broker and the outbox's lag."""

from __future__ import annotations

from celery import current_app
from django.conf import settings

from apps.core.breakers import BROKER
from apps.core.modules import Degraded, Dependency, register_dependency

from .selectors import outbox_health_cached


def _broker() -> None:
    with current_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=1)


def _outbox() -> None:
    health = outbox_health_cached(1.0)
    threshold = settings.EVENTS["READY_LAG_SECONDS"]
    if health.oldest_pending_age > threshold:
        raise Degraded(
            f"the oldest pending event waits {health.oldest_pending_age:.0f} s "
            f"(threshold {threshold:.0f} s; {health.pending} pending)"
        )


def register() -> None:
    register_dependency(Dependency("broker", _broker, breakers=(BROKER,)))
    register_dependency(Dependency("outbox", _outbox))
