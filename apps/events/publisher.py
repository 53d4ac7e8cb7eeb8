"""``publish()``: the only way to publish an event. It writes to the outbox in the caller's transaction."""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.utils import CursorWrapper
from prometheus_client import Counter
from uuid6 import uuid7

from apps.core import context, telemetry
from apps.core.context import Actor
from apps.tenancy.errors import TenantRequired
from apps.tenancy.models import Tenant
from apps.tenancy.selectors import tenant_by_schema

from . import metrics, wakeup
from .errors import PublishOutsideTransaction
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
    aggregate_id, aggregate_version, correlation_id, causation_id, trace_context, payload,
    status, claims, lease_owner, occurred_at
"""
# An event occurs at the time of the statement that records it (the database's clock, as for
# ``pending_since``). The columns' defaults fill in the rest: ``pending_since`` and
# ``feed_clock``, which the INSERT itself takes: its snapshot is what makes the feed's order
# sound (``apps.events.feed``). Each parameter is formatted by the client (psycopg binds on
# the client side), and every commit pays for each of them: none is sent that SQL can give.
ROW = (
    "(%s, %s, %s, %s, %s, %s::jsonb, %s, %s, %s, %s, %s, %s::jsonb, %s::jsonb, "
    "'pending', 0, '', statement_timestamp())"
)
# Rows per INSERT of ``publish_many`` (13 parameters each; PostgreSQL takes 65,535).
MANY_CHUNK = 1000


_cursors = threading.local()


def _cursor(conn) -> CursorWrapper:
    """A cursor for the outbox's INSERT, kept for as long as the database connection under
    ``conn`` lasts: opening and closing a cursor for every event cost about a tenth of what
    ``publish()`` adds to a commit. A cursor that logs queries (``DEBUG``, a test counting
    them) and one that does not are kept apart, so every INSERT is logged when it should be.
    """
    logged = conn.queries_logged
    kept = getattr(_cursors, "kept", None)
    if kept is not None and kept[0] is conn.connection and kept[1] == logged:
        return kept[2]
    cursor = conn.cursor()
    _cursors.kept = (conn.connection, logged, cursor)
    return cursor


def _params(
    event: DomainEvent,
    payload: str,
    event_id: UUID,
    tenant: Tenant,
    actor_value: str | None,
    ctx: context.EventContext,
    span: str | None,
) -> list:
    # The row's parent span: the span current at the write (``span``) when tracing is on, else
    # a new span id in the context's trace. Either is hex digits and dashes.
    traceparent = span or context.child_traceparent(ctx.traceparent)
    return [
        str(event_id), event.event_type, event.schema_version, tenant.pk, tenant.schema_name,
        actor_value, event.aggregate_type,
        event.aggregate_id, event.aggregate_version, ctx.correlation_id, ctx.causation_id,
        f'{{"traceparent": "{traceparent}"}}', payload,
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
    """Add ``event`` to the outbox, in the current transaction.

    The event was validated when it was built (an invalid one raises
    ``EventValidationError`` there and never exists). Raises
    ``PublishOutsideTransaction`` outside ``transaction.atomic()``; nothing is written
    then, and the caller's transaction is theirs to roll back.
    """
    return publish_many([event], actor=actor, tenant=tenant)[0]


def publish_many(
    events: Sequence[DomainEvent], *, actor=None, tenant: Tenant | None = None
) -> list[Published]:
    """``publish`` for many events at once (a bulk import): they go in with one INSERT per
    ``MANY_CHUNK``, in order, so their outbox positions (and each aggregate's order) follow
    the sequence given.
    """
    # The connection itself, not Django's per-access proxy: this is every write's hot path.
    conn = connections[DEFAULT_DB_ALIAS]
    if events and not conn.in_atomic_block:
        raise PublishOutsideTransaction(
            f"publish({events[0].event_type}) must run inside transaction.atomic() with the "
            "change it announces"
        )
    # Events are valid and frozen from the moment they exist (``DomainEvent``): each row stores
    # its event's payload as validation left it.
    rows = [(event, event.model_dump_json()) for event in events]
    if not rows:
        return []
    tenant = tenant or _current_tenant(conn)
    ctx = context.current()
    span = telemetry.current_traceparent()
    who = Actor.resolve(actor, ctx)  # an API key's owner is recorded as the key
    actor_value = json.dumps(who.as_dict()) if who else None
    published: list[Published] = []
    # Plain INSERTs: the ORM's create() costs about twice as much on this hot path.
    cursor = _cursor(conn)
    for start in range(0, len(rows), MANY_CHUNK):
        chunk = rows[start : start + MANY_CHUNK]
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
    _after_commit(conn, [event.event_type for event, _ in rows])
    return published
