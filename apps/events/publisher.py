"""``publish()``: the only way to publish an event. It writes to the outbox in the caller's transaction."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone
from prometheus_client import Counter
from uuid6 import uuid7

from apps.core import context, telemetry
from apps.core.context import Actor
from apps.tenancy.errors import TenantRequired
from apps.tenancy.models import Tenant
from apps.tenancy.selectors import tenant_by_schema

from . import metrics, wakeup
from .errors import PublishOutsideTransaction
from .models import FEED_CLOCK_SQL
from .schema import DomainEvent


def _current_tenant(conn) -> Tenant:
    active = conn.tenant
    if isinstance(active, Tenant) and active.pk:
        return active
    schema = conn.schema_name
    tenant = tenant_by_schema(schema) if schema and schema != "public" else None
    if tenant is None:
        raise TenantRequired("publish() needs a tenant: activate one or pass tenant=")
    return tenant


@dataclass(frozen=True)
class Published:
    """Where an event landed in the outbox."""

    position: int
    event_id: UUID
    event_type: str


COLUMNS = """
    event_id, event_type, schema_version, tenant_id, schema_name, actor, aggregate_type,
    aggregate_id, aggregate_version, correlation_id, causation_id, trace_context, occurred_at,
    payload, status, claims, lease_owner, pending_since, feed_clock
"""
# The feed clock is taken by the INSERT itself: its snapshot is what makes the feed's order
# sound (``apps.events.feed``).
ROW = (
    "(%s, %s, %s, %s, %s, %s::jsonb, %s, %s, %s, %s, %s, %s::jsonb, %s, %s::jsonb, "
    f"'pending', 0, '', now(), {FEED_CLOCK_SQL})"
)
# Rows per INSERT of ``publish_many`` (14 parameters each; PostgreSQL takes 65,535).
MANY_CHUNK = 1000


def _checked(event: DomainEvent) -> tuple[DomainEvent, dict]:
    """The event validated again from its payload (model_construct() or mutation could have
    bypassed the schema), with the payload of the validated event: what the row stores, as
    validation normalizes it."""
    checked = type(event)(**event.payload())
    return checked, checked.payload()


def _params(
    event: DomainEvent,
    payload: dict,
    event_id: UUID,
    tenant: Tenant,
    actor_value: str | None,
    ctx: context.EventContext,
    span: str | None,
) -> list:
    # The row's parent span: the span current at the write (``span``) when tracing is on, else
    # a new span id in the context's trace.
    traceparent = span or context.child_traceparent(ctx.traceparent)
    return [
        event_id, event.event_type, event.schema_version, tenant.pk, tenant.schema_name,
        actor_value, event.aggregate_type,
        event.aggregate_id, event.aggregate_version, ctx.correlation_id, ctx.causation_id,
        json.dumps({"traceparent": traceparent}),
        timezone.now(), json.dumps(payload),
    ]  # fmt: skip


_published_counters: dict[str, Counter] = {}


def _published_counter(event_type: str) -> Counter:
    # The labelled child, looked up once per type: ``labels()`` takes a lock each call.
    counter = _published_counters.get(event_type)
    if counter is None:
        counter = _published_counters[event_type] = metrics.PUBLISHED.labels(event_type)
    return counter


def _after_commit(conn, event_types: list[str]) -> None:
    # One callback for the count and the wake-up: the commit path pays for each callback.
    def committed() -> None:
        for event_type in event_types:
            _published_counter(event_type).inc()
        wakeup.request_drain_soon()

    conn.on_commit(committed)


def publish(event: DomainEvent, *, actor=None, tenant: Tenant | None = None) -> Published:
    """Validate ``event`` and add it to the outbox, in the current transaction.

    Raises ``PublishOutsideTransaction`` outside ``transaction.atomic()`` and
    ``EventValidationError`` for an invalid event; either way nothing is written
    and the caller's transaction is theirs to roll back.
    """
    return publish_many([event], actor=actor, tenant=tenant)[0]


def publish_many(
    events: Sequence[DomainEvent], *, actor=None, tenant: Tenant | None = None
) -> list[Published]:
    """``publish`` for many events at once (a bulk import): every event is validated before
    anything is written, then they go in with one INSERT per ``MANY_CHUNK``, in order, so
    their outbox positions (and each aggregate's order) follow the sequence given.
    """
    # The connection itself, not Django's per-access proxy: this is every write's hot path.
    conn = connections[DEFAULT_DB_ALIAS]
    if events and not conn.in_atomic_block:
        raise PublishOutsideTransaction(
            f"publish({events[0].event_type}) must run inside transaction.atomic() with the "
            "change it announces"
        )
    checked = [_checked(event) for event in events]
    if not checked:
        return []
    tenant = tenant or _current_tenant(conn)
    ctx = context.current()
    span = telemetry.current_traceparent()
    who = Actor.resolve(actor, ctx)  # an API key's owner is recorded as the key
    actor_value = json.dumps(who.as_dict()) if who else None
    published: list[Published] = []
    # Plain INSERTs: the ORM's create() costs about twice as much on this hot path.
    with conn.cursor() as cursor:
        for start in range(0, len(checked), MANY_CHUNK):
            chunk = checked[start : start + MANY_CHUNK]
            ids = [uuid7() for _ in chunk]
            params = [
                value
                for (event, payload), event_id in zip(chunk, ids, strict=True)
                for value in _params(event, payload, event_id, tenant, actor_value, ctx, span)
            ]
            values = ", ".join([ROW] * len(chunk))
            # Constant text: only the placeholders are repeated, the values are parameters.
            sql = f"INSERT INTO public.events_outbox ({COLUMNS}) VALUES {values} RETURNING position"  # noqa: S608
            cursor.execute(sql, params)
            # A multi-row VALUES takes its sequence numbers in row order; sorted to be sure.
            positions = sorted(row[0] for row in cursor.fetchall())
            published += [
                Published(position=position, event_id=event_id, event_type=event.event_type)
                for position, event_id, (event, _) in zip(positions, ids, chunk, strict=True)
            ]
    _after_commit(conn, [event.event_type for event, _ in checked])
    return published
