"""Reads of the outbox: health figures for metrics, backpressure and ``outbox_status``, and the
tenant's event feed (``feed_page``, built in ``feed.py``)."""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from threading import Lock

from django.db import connection
from django.db.models import Count, Max, Min, QuerySet
from django.utils import timezone

from apps.tenancy.models import Tenant

# The feed's public read API (built in feed.py).
from .feed import DEFAULT_LIMIT as FEED_DEFAULT_LIMIT  # noqa: F401
from .feed import MAX_LIMIT as FEED_MAX_LIMIT  # noqa: F401
from .feed import FeedCursor, FeedEvent, FeedPage, feed_page, parse_types  # noqa: F401
from .models import Delivery, DeliveryStatus, OutboxEvent, OutboxStatus
from .registry import all_subscribers, subscribers_for


@dataclass(frozen=True)
class OutboxHealth:
    pending: int
    oldest_pending_age: float
    deliveries: dict[str, int] = field(default_factory=dict)


def outbox_health() -> OutboxHealth:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), min(pending_since) FROM public.events_outbox WHERE status = 'pending'"
        )
        pending, oldest = cursor.fetchone()
        cursor.execute("SELECT status, count(*) FROM public.events_delivery GROUP BY status")
        deliveries = dict(cursor.fetchall())
    age = (timezone.now() - oldest).total_seconds() if oldest else 0.0
    return OutboxHealth(pending=pending, oldest_pending_age=max(0.0, age), deliveries=deliveries)


# The oldest pending event of each type, and the oldest event each handler still owes
# after a failure (retry or held back; dead letters are given up, counted apart).
HANDLER_LAG_SQL = """
SELECT event_type, NULL, min(pending_since)
FROM public.events_outbox WHERE status = 'pending' GROUP BY event_type
UNION ALL
SELECT NULL, d.handler, min(o.pending_since)
FROM public.events_delivery d JOIN public.events_outbox o ON o.position = d.event_id
WHERE d.status IN ('retry', 'blocked') GROUP BY d.handler
"""


def handler_lag() -> dict[str, float]:
    """Seconds since the oldest event each subscriber has not handled yet became pending
    (0 for a subscriber that is up to date), in one query."""
    with connection.cursor() as cursor:
        cursor.execute(HANDLER_LAG_SQL)
        rows = cursor.fetchall()
    now = timezone.now()
    lag = {sub.name: 0.0 for sub in all_subscribers()}
    for event_type, handler, oldest in rows:
        age = max(0.0, (now - oldest).total_seconds())
        names = [handler] if handler else [sub.name for sub in subscribers_for(event_type)]
        for name in names:
            lag[name] = max(lag.get(name, 0.0), age)
    return lag


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


def next_retry_in() -> float | None:
    """Seconds until the next failed delivery is due for a retry (None when there is none)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT min(available_at) FROM public.events_delivery WHERE status = 'retry'"
        )
        (due,) = cursor.fetchone()
    if due is None:
        return None
    return max(0.0, (due - timezone.now()).total_seconds())


@dataclass(frozen=True)
class TenantOutboxStatus:
    slug: str
    schema_name: str
    pending: int = 0
    oldest_pending_at: datetime | None = None
    retry: int = 0
    blocked: int = 0
    dead: int = 0


@dataclass(frozen=True)
class OutboxStatusReport:
    at: datetime
    tenants: list[TenantOutboxStatus]
    last_dispatched_at: datetime | None

    @property
    def pending(self) -> int:
        return sum(row.pending for row in self.tenants)

    @property
    def oldest_pending_at(self) -> datetime | None:
        return min((r.oldest_pending_at for r in self.tenants if r.oldest_pending_at), default=None)

    @property
    def retry(self) -> int:
        return sum(row.retry for row in self.tenants)

    @property
    def blocked(self) -> int:
        return sum(row.blocked for row in self.tenants)

    @property
    def dead(self) -> int:
        return sum(row.dead for row in self.tenants)


def outbox_status_report() -> OutboxStatusReport:
    """Backlog and trouble per tenant, for the tenants that have any; worst first.

    Four grouped queries whatever the number of tenants or events.
    """
    at = timezone.now()
    figures: dict[int, dict] = defaultdict(dict)
    pending = (
        OutboxEvent.objects.filter(status=OutboxStatus.PENDING)
        .values("tenant_id")
        .annotate(pending=Count("position"), oldest_pending_at=Min("pending_since"))
        .order_by()
    )
    for row in pending:
        figures[row.pop("tenant_id")].update(row)
    troubles = Delivery.objects.values("tenant_id", "status").annotate(count=Count("id")).order_by()
    for row in troubles:
        figures[row["tenant_id"]][row["status"]] = row["count"]
    last_dispatched_at = OutboxEvent.objects.filter(status=OutboxStatus.DISPATCHED).aggregate(
        last=Max("dispatched_at")
    )["last"]
    names = Tenant.objects.filter(pk__in=figures).values_list("pk", "slug", "schema_name")
    tenants = [
        TenantOutboxStatus(slug=slug, schema_name=schema_name, **figures[pk])
        for pk, slug, schema_name in names
    ]
    tenants.sort(key=lambda row: (-row.dead, -row.pending, -row.retry - row.blocked, row.slug))
    return OutboxStatusReport(at=at, tenants=tenants, last_dispatched_at=last_dispatched_at)


def outbox_event_list(
    *,
    tenant_id: int | None = None,
    since: datetime | None = None,
    event_types: list[str] | None = None,
    positions: list[int] | None = None,
) -> QuerySet[OutboxEvent]:
    """Retained events, optionally narrowed to a tenant, a start, types or positions.

    ``services.events_replay`` sends exactly these again, so a dry run counts
    what a replay with the same filters would send.
    """
    rows = OutboxEvent.objects.all()
    if tenant_id is not None:
        rows = rows.filter(tenant_id=tenant_id)
    if since is not None:
        rows = rows.filter(occurred_at__gte=since)
    if event_types:
        rows = rows.filter(event_type__in=event_types)
    if positions is not None:
        rows = rows.filter(position__in=positions)
    return rows


def event_counts_by_type(rows: QuerySet[OutboxEvent]) -> list[tuple[str, int]]:
    return list(
        rows.values("event_type")
        .annotate(count=Count("position"))
        .order_by("event_type")
        .values_list("event_type", "count")
    )


def delivery_list(
    *,
    statuses: tuple[str, ...] = (DeliveryStatus.DEAD,),
    ids: list[int] | None = None,
    tenant_id: int | None = None,
    handler: str | None = None,
) -> QuerySet[Delivery]:
    """Deliveries in ``statuses``, optionally narrowed to ids, a tenant or a subscriber."""
    rows = Delivery.objects.filter(status__in=statuses)
    if ids is not None:
        rows = rows.filter(id__in=ids)
    if tenant_id is not None:
        rows = rows.filter(tenant_id=tenant_id)
    if handler:
        rows = rows.filter(handler=handler)
    return rows
