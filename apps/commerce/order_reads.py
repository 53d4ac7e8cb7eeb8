"""Reads of orders: the projection (``Order`` rows) and the streams behind it.

Re-exported by ``selectors`` (the public read API); other modules import them from there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from .errors import OrderNotFound
from .models import Order, OrderEvent
from .order_state import OrderState, fold


def order_uuid(value: UUID | str) -> UUID:
    """``value`` as an order id; ``OrderNotFound`` for what cannot be one."""
    try:
        return value if isinstance(value, UUID) else UUID(str(value))
    except ValueError:
        raise OrderNotFound(_("No such order.")) from None


def orders() -> QuerySet[Order]:
    """Every order, newest first."""
    return Order.objects.all()


def order_get(order_id: UUID | str) -> Order:
    """The order (its current row) with its lines."""
    order = Order.objects.prefetch_related("lines").filter(pk=order_uuid(order_id)).first()
    if order is None:
        raise OrderNotFound(_("No such order."))
    return order


def order_placed_in_session(order_id: object) -> Order | None:
    """The order a shopper's session has just placed (its id kept in the session), with its
    lines; None for no id, a bad one or one that is gone."""
    if not order_id:
        return None
    try:
        return order_get(str(order_id))
    except OrderNotFound:
        return None


def customer_order(customer_id: int, number: object) -> Order:
    """One of a customer's orders by its number, with its lines; ``OrderNotFound`` for any
    other (another customer's included)."""
    try:
        number = int(str(number))
    except ValueError:
        raise OrderNotFound(_("No such order.")) from None
    order = (
        Order.objects.prefetch_related("lines")
        .filter(customer_id=customer_id, number=number)
        .first()
    )
    if order is None:
        raise OrderNotFound(_("No such order."))
    return order


def order_stream(order_id: UUID | str, *, until: datetime | None = None) -> list[OrderEvent]:
    """The order's events in version order (those that occurred at or before ``until``)."""
    events = OrderEvent.objects.filter(order_id=order_uuid(order_id))
    if until is not None:
        events = events.filter(occurred_at__lte=until)
    return list(events.order_by("version"))


def order_state(order_id: UUID | str) -> OrderState:
    """The order as its whole stream says it is now."""
    state = fold(order_stream(order_id))
    if state is None:
        raise OrderNotFound(_("No such order."))
    return state


def order_as_of(order_id: UUID | str, at: datetime) -> OrderState:
    """The order as it was at ``at``: its events up to then, folded. ``OrderNotFound`` when
    it had not been placed yet (or never was)."""
    state = fold(order_stream(order_id, until=at))
    if state is None:
        raise OrderNotFound(
            _("The order had not been placed at %(time)s.") % {"time": at.isoformat()}
        )
    return state


@dataclass(frozen=True)
class HistoryEntry:
    """One event of an order's timeline."""

    version: int
    type: str
    occurred_at: datetime
    actor_kind: str
    actor_id: str
    actor_label: str
    payload: dict[str, Any]


def order_history(order_id: UUID | str) -> list[HistoryEntry]:
    """The order's timeline, oldest first; ``OrderNotFound`` for an order with no stream."""
    entries = [
        HistoryEntry(
            version=event.version,
            type=event.type,
            occurred_at=event.occurred_at,
            actor_kind=event.actor_kind,
            actor_id=event.actor_id,
            actor_label=event.actor_label,
            payload=event.payload,
        )
        for event in order_stream(order_id)
    ]
    if not entries:
        raise OrderNotFound(_("No such order."))
    return entries
