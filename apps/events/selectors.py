"""Reads of the outbox: health figures for metrics, backpressure and ``outbox_status``."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from threading import Lock

from django.db import connection
from django.db.models import Count, Min
from django.utils import timezone

from .models import Delivery, OutboxEvent, OutboxStatus


@dataclass(frozen=True)
class OutboxHealth:
    pending: int
    oldest_pending_age: float
    deliveries: dict[str, int] = field(default_factory=dict)


def outbox_health() -> OutboxHealth:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), min(occurred_at) FROM public.events_outbox WHERE status = 'pending'"
        )
        pending, oldest = cursor.fetchone()
        cursor.execute("SELECT status, count(*) FROM public.events_delivery GROUP BY status")
        deliveries = dict(cursor.fetchall())
    age = (timezone.now() - oldest).total_seconds() if oldest else 0.0
    return OutboxHealth(pending=pending, oldest_pending_age=max(0.0, age), deliveries=deliveries)


_cached: tuple[float, OutboxHealth] | None = None
_lock = Lock()


def outbox_health_cached(max_age: float = 1.0) -> OutboxHealth:
    """``outbox_health()`` at most once per ``max_age`` seconds per process (backpressure path)."""
    global _cached
    now = time.monotonic()
    cached = _cached
    if cached is not None and now - cached[0] < max_age:
        return cached[1]
    with _lock:
        if _cached is not None and now - _cached[0] < max_age:
            return _cached[1]
        health = outbox_health()
        _cached = (time.monotonic(), health)
        return health


def reset_health_cache() -> None:
    global _cached
    _cached = None


def backlog_by_tenant() -> list[dict]:
    """Pending count and oldest pending event per tenant, largest backlog first."""
    rows = (
        OutboxEvent.objects.filter(status=OutboxStatus.PENDING)
        .values("schema_name")
        .annotate(pending=Count("position"), oldest=Min("occurred_at"))
        .order_by("-pending")
    )
    return list(rows)


def deliveries_by_tenant() -> list[dict]:
    rows = (
        Delivery.objects.values("tenant__slug", "status")
        .annotate(count=Count("id"))
        .order_by("tenant__slug", "status")
    )
    return list(rows)
