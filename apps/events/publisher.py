"""``publish()``: the only way to publish an event. It writes to the outbox in the caller's transaction."""

from __future__ import annotations

from django.db import connection, transaction
from django.utils import timezone
from uuid6 import uuid7

from apps.core import context
from apps.core.context import Actor
from apps.tenancy.errors import TenantRequired
from apps.tenancy.models import Tenant
from apps.tenancy.resolver import tenant_by_schema

from . import metrics, wakeup
from .errors import PublishOutsideTransaction
from .models import OutboxEvent
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


def publish(event: DomainEvent, *, actor=None, tenant: Tenant | None = None) -> OutboxEvent:
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
    row = OutboxEvent.objects.create(
        event_id=uuid7(),
        event_type=event.event_type,
        schema_version=event.schema_version,
        tenant_id=tenant.pk,
        schema_name=tenant.schema_name,
        actor=_actor_dict(actor) or (ctx.actor.as_dict() if ctx.actor else None),
        aggregate_type=event.aggregate_type,
        aggregate_id=event.aggregate_id,
        aggregate_version=event.aggregate_version,
        correlation_id=ctx.correlation_id,
        causation_id=ctx.causation_id,
        trace_context={"traceparent": context.child_traceparent(ctx.traceparent)},
        occurred_at=timezone.now(),
        payload=event.payload(),
    )
    event_type = event.event_type
    transaction.on_commit(lambda: metrics.PUBLISHED.labels(event_type).inc())
    transaction.on_commit(wakeup.request_drain)
    return row
