"""Writes of operators on the outbox: replays, dead-letter requeues, pruning."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from . import relay, wakeup
from .models import Delivery, DeliveryStatus, OutboxEvent, OutboxStatus
from .selectors import delivery_list, outbox_event_list


def events_replay(
    *,
    tenant_id: int | None = None,
    since: datetime | None = None,
    event_types: list[str] | None = None,
    positions: list[int] | None = None,
    handler: str | None = None,
) -> int:
    """Send retained events through the relay again; returns how many.

    Subscribers that already processed an event skip it (the ledger), so a
    replay reaches new or reset subscribers only. With ``handler``, that
    subscriber's ledger entries for the events are removed first, so it
    applies them again.
    """
    rows = outbox_event_list(
        tenant_id=tenant_id, since=since, event_types=event_types, positions=positions
    )
    with transaction.atomic():
        if handler:
            _forget(rows, handler)
        count = rows.update(
            status=OutboxStatus.PENDING,
            pending_since=timezone.now(),
            lease_owner="",
            lease_lock=None,
            lease_expires_at=None,
            dispatched_at=None,
        )
        transaction.on_commit(wakeup.request_drain)
    return count


def _forget(rows: QuerySet[OutboxEvent], handler: str) -> None:
    by_schema: dict[str, list] = {}
    for schema_name, event_id in rows.values_list("schema_name", "event_id"):
        by_schema.setdefault(schema_name, []).append(event_id)
    with connection.cursor() as cursor:
        for schema_name, event_ids in by_schema.items():
            schema = connection.ops.quote_name(schema_name)
            cursor.execute(
                f"UPDATE {schema}.events_processed "
                "SET handlers = array_remove(handlers::text[], %s::text) "
                "WHERE event_id = ANY(%s) AND %s = ANY(handlers)",
                [handler, event_ids, handler],
            )


def deliveries_requeue(
    *,
    ids: list[int] | None = None,
    statuses: tuple[str, ...] = (DeliveryStatus.DEAD,),
    tenant_id: int | None = None,
    handler: str | None = None,
) -> int:
    """Give dead letters (or the given deliveries) a fresh set of attempts, due now.

    The filters are ``selectors.delivery_list``'s, so a dry run counts exactly
    what this requeues.
    """
    rows = delivery_list(statuses=statuses, ids=ids, tenant_id=tenant_id, handler=handler)
    with transaction.atomic():
        count = rows.update(
            status=DeliveryStatus.RETRY,
            attempts=0,
            available_at=timezone.now(),
            lease_owner="",
            lease_lock=None,
            lease_expires_at=None,
            updated_at=timezone.now(),
        )
        transaction.on_commit(wakeup.request_drain)
    return count


def deliveries_discard(*, ids: list[int]) -> int:
    """Drop deliveries for good (the subscriber will never apply those events)."""
    with transaction.atomic():
        rows = list(Delivery.objects.filter(id__in=ids).select_for_update())
        with connection.cursor() as cursor:
            for row in rows:
                row.delete()
                # The next held-back event of the same chain may go now.
                relay.promote_next(
                    cursor,
                    handler=row.handler,
                    aggregate_key=(row.tenant_id, row.aggregate_type, row.aggregate_id),
                    position=row.position,
                )
        transaction.on_commit(wakeup.request_drain)
    return len(rows)


def outbox_prune(*, now: datetime | None = None, chunk: int = 5000) -> int:
    """Delete dispatched events older than the retention period that no delivery needs."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.EVENTS["RETENTION_DAYS"])
    deleted = 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            # The feed's horizon moves in the same statement: a cursor before it answers 410.
            cursor.execute(
                """
                WITH pruned AS (
                    DELETE FROM public.events_outbox o
                    WHERE o.position IN (
                        SELECT e.position FROM public.events_outbox e
                        WHERE e.status = 'dispatched' AND e.dispatched_at < %s
                          AND NOT EXISTS (SELECT 1 FROM public.events_delivery d WHERE d.event_id = e.position)
                        LIMIT %s
                    )
                    RETURNING o.tenant_id, o.feed_clock, o.position
                ), newest AS (
                    SELECT DISTINCT ON (tenant_id) tenant_id, feed_clock, position FROM pruned
                    ORDER BY tenant_id, feed_clock DESC, position DESC
                ), horizon AS (
                    INSERT INTO public.events_feed_horizon AS h (tenant_id, feed_clock, position)
                    SELECT tenant_id, feed_clock, position FROM newest
                    ON CONFLICT (tenant_id) DO UPDATE
                    SET feed_clock = excluded.feed_clock, position = excluded.position
                    WHERE (excluded.feed_clock, excluded.position) > (h.feed_clock, h.position)
                )
                SELECT count(*) FROM pruned
                """,
                [cutoff, chunk],
            )
            (count,) = cursor.fetchone()
            deleted += count
            if count < chunk:
                return deleted
