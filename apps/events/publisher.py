"""``publish()``: the only way to publish an event. It writes to the outbox in the caller's transaction."""

from __future__ import annotations

import json
from dataclasses import dataclass
from uuid import UUID

from django.db import connection, transaction
from django.utils import timezone
from uuid6 import uuid7

from apps.core import context
from apps.core.context import Actor
from apps.tenancy.errors import TenantRequired
from apps.tenancy.models import Tenant
from apps.tenancy.selectors import tenant_by_schema

from . import metrics, wakeup
from .errors import PublishOutsideTransaction
from .schema import DomainEvent


def _current_tenant() -> Tenant:
    active = connection.tenant
    if isinstance(active, Tenant) and active.pk:
        return active
    schema = connection.schema_name
    tenant = tenant_by_schema(schema) if schema and schema != "public" else None
    if tenant is None:
        raise TenantRequired("publish() needs a tenant: activate one or pass tenant=")
    return tenant


def _actor_dict(actor) -> dict[str, str] | None:
    if actor is None:
        return None
    if isinstance(actor, Actor):
        return actor.as_dict()
    if getattr(actor, "is_authenticated", False):
        return Actor.from_user(actor).as_dict()
    return None


@dataclass(frozen=True)
class Published:
    """Where an event landed in the outbox."""

    position: int
    event_id: UUID
    event_type: str


INSERT_SQL = """
INSERT INTO public.events_outbox (
    event_id, event_type, schema_version, tenant_id, schema_name, actor, aggregate_type,
    aggregate_id, aggregate_version, correlation_id, causation_id, trace_context, occurred_at,
    payload, status, claims, lease_owner, pending_since
) VALUES (
    %s, %s, %s, %s, %s, %s::jsonb, %s, %s, %s, %s, %s, %s::jsonb, %s, %s::jsonb,
    'pending', 0, '', now()
)
RETURNING position
"""


def publish(event: DomainEvent, *, actor=None, tenant: Tenant | None = None) -> Published:
    """Validate ``event`` and add it to the outbox, in the current transaction.

    Raises ``PublishOutsideTransaction`` outside ``transaction.atomic()`` and
    ``EventValidationError`` for an invalid event; either way nothing is written
    and the caller's transaction is theirs to roll back.
    """
    if not connection.in_atomic_block:
        raise PublishOutsideTransaction(
            f"publish({event.event_type}) must run inside transaction.atomic() with the change it announces"
        )
    # Validate again: model_construct() or mutation could have bypassed the schema.
    event = type(event)(**event.payload())
    tenant = tenant or _current_tenant()
    ctx = context.current()
    event_id = uuid7()
    actor_value = _actor_dict(actor) or (ctx.actor.as_dict() if ctx.actor else None)
    # One plain INSERT: the ORM's create() costs about twice as much on this hot path.
    with connection.cursor() as cursor:
        cursor.execute(
            INSERT_SQL,
            [
                event_id, event.event_type, event.schema_version, tenant.pk, tenant.schema_name,
                None if actor_value is None else json.dumps(actor_value), event.aggregate_type,
                event.aggregate_id, event.aggregate_version, ctx.correlation_id, ctx.causation_id,
                json.dumps({"traceparent": context.child_traceparent(ctx.traceparent)}),
                timezone.now(), json.dumps(event.payload()),
            ],
        )  # fmt: skip
        (position,) = cursor.fetchone()
    row = Published(position=position, event_id=event_id, event_type=event.event_type)
    event_type = event.event_type
    transaction.on_commit(lambda: metrics.PUBLISHED.labels(event_type).inc())
    transaction.on_commit(wakeup.request_drain_soon)
    return row
