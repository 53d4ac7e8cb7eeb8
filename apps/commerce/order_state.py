"""An order as a value, and the pure fold that makes it from its stream.

``apply(state, event)`` is the only definition of what each order event does to an order:
the services decide on the folded state and write the ``Order`` row from it, the reads
(``order_as_of``, ``order_rebuild``) fold the stored stream with it. It reads no database
and knows no clock: the same events always give the same order.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol
from uuid import UUID

from apps.events.schema import load

from . import events
from .models import OrderStatus, PaymentStatus


@dataclass(frozen=True)
class OrderLineDraft:
    """A line as bought; it never changes after the order is placed."""

    variant_id: UUID | None
    product_id: UUID | None
    sku: str
    product_title: str  # in the order's locale, copied at purchase time
    variant_title: str  # "M / Blue" ("" for a single-variant product)
    quantity: int
    unit_price: Decimal  # per unit, as the store lists it (gross if prices include tax)
    discount: Decimal  # the line's share of an order voucher, >= 0
    tax_rate: Decimal  # e.g. Decimal("0.19")
    tax: Decimal  # the line's tax, rounded to the currency
    total: Decimal  # the line's gross total after discount, rounded
    allocations: tuple[tuple[int, int], ...]  # (location_id, quantity) the units came from


@dataclass(frozen=True)
class OrderDraft:
    """What the checkout places (``orders.order_create``)."""

    currency: str
    locale: str
    email: str
    customer_id: int | None
    shipping_address: (
        dict  # {"name","company","street","city","postal_code","region","country","phone"}
    )
    billing_address: dict
    shipping_method: str  # its name, copied
    shipping_price: Decimal  # gross
    shipping_tax: Decimal
    voucher_code: str
    prices_include_tax: bool
    subtotal: Decimal  # sum of line totals before discount (gross)
    discount: Decimal
    tax: Decimal  # lines' + shipping tax
    total: Decimal  # what the customer pays
    payment_provider: str  # "manual" | "test_card"
    checkout_reference: str
    lines: tuple[OrderLineDraft, ...]


@dataclass(frozen=True)
class OrderState:
    """Everything the ``Order`` row holds, and the lines."""

    id: UUID
    number: int
    status: str
    payment_status: str
    currency: str
    locale: str
    email: str
    customer_id: int | None
    shipping_address: dict
    billing_address: dict
    shipping_method: str
    shipping_price: Decimal
    shipping_tax: Decimal
    voucher_code: str
    prices_include_tax: bool
    subtotal: Decimal
    discount: Decimal
    tax: Decimal
    total: Decimal
    paid_amount: Decimal
    refunded_amount: Decimal
    payment_provider: str
    payment_reference: str
    carrier: str
    tracking_number: str
    cancel_reason: str
    checkout_reference: str
    version: int
    placed_at: datetime
    updated_at: datetime
    lines: tuple[OrderLineDraft, ...]

    @property
    def refundable(self) -> Decimal:
        """What may still be refunded: paid and not yet given back."""
        return self.paid_amount - self.refunded_amount

    def row_values(self) -> dict[str, Any]:
        """The ``Order`` row's columns (all but the lines)."""
        values = {name: getattr(self, name) for name in ROW_FIELDS}
        values["id"] = self.id
        return values


ROW_FIELDS = tuple(name for name in OrderState.__dataclass_fields__ if name not in ("id", "lines"))


class StoredOrderEvent(Protocol):
    """A stream entry (an ``OrderEvent`` row, saved or not)."""

    type: str
    schema_version: int
    version: int
    payload: dict[str, Any]
    occurred_at: datetime


class StreamBroken(RuntimeError):
    """A stream that cannot be folded (a gap in its versions, an event before ``placed``):
    the record is damaged, which no user input can cause."""


def _line(line: events.OrderLinePayload) -> OrderLineDraft:
    return OrderLineDraft(
        variant_id=line.variant_id, product_id=line.product_id, sku=line.sku,
        product_title=line.product_title, variant_title=line.variant_title,
        quantity=line.quantity, unit_price=line.unit_price, discount=line.discount,
        tax_rate=line.tax_rate, tax=line.tax, total=line.total,
        allocations=tuple((location, quantity) for location, quantity in line.allocations),
    )  # fmt: skip


def _placed(event: events.OrderPlaced, occurred_at: datetime) -> OrderState:
    return OrderState(
        id=event.order_id, number=event.number, status=OrderStatus.PENDING,
        payment_status=PaymentStatus.UNPAID, currency=event.currency, locale=event.locale,
        email=event.email, customer_id=event.customer_id,
        shipping_address=dict(event.shipping_address), billing_address=dict(event.billing_address),
        shipping_method=event.shipping_method, shipping_price=event.shipping_price,
        shipping_tax=event.shipping_tax, voucher_code=event.voucher_code,
        prices_include_tax=event.prices_include_tax, subtotal=event.subtotal,
        discount=event.discount, tax=event.tax, total=event.total, paid_amount=Decimal(0),
        refunded_amount=Decimal(0), payment_provider=event.payment_provider,
        payment_reference="", carrier="", tracking_number="", cancel_reason="",
        checkout_reference=event.checkout_reference, version=1, placed_at=occurred_at,
        updated_at=occurred_at, lines=tuple(_line(line) for line in event.lines),
    )  # fmt: skip


def refunded_payment_status(paid: Decimal, refunded: Decimal) -> str:
    if refunded <= 0:
        return PaymentStatus.PAID
    return PaymentStatus.REFUNDED if refunded >= paid else PaymentStatus.PARTIALLY_REFUNDED


def apply(state: OrderState | None, event: StoredOrderEvent) -> OrderState:
    """The order after ``event``; ``state`` is the order before it (``None`` before ``placed``)."""
    typed = load(event.type, event.schema_version, event.payload)
    if state is None:
        if not isinstance(typed, events.OrderPlaced) or event.version != 1:
            raise StreamBroken(f"an order's stream starts with placed v1, not {event.type}")
        return _placed(typed, event.occurred_at)
    if isinstance(typed, events.OrderPlaced) or event.version != state.version + 1:
        raise StreamBroken(f"{event.type} v{event.version} cannot follow v{state.version}")
    changes: dict[str, Any] = {
        "status": typed.to_status, "version": event.version, "updated_at": event.occurred_at,
    }  # fmt: skip
    match typed:
        case events.OrderPaid():
            changes.update(
                paid_amount=state.paid_amount + typed.amount,
                payment_status=PaymentStatus.PAID,
                payment_reference=typed.reference,
            )
        case events.OrderShipped():
            changes.update(carrier=typed.carrier, tracking_number=typed.tracking_number)
        case events.OrderCancelled():
            changes.update(cancel_reason=typed.reason)
        case events.OrderRefunded():
            refunded = state.refunded_amount + typed.amount
            changes.update(
                refunded_amount=refunded,
                payment_status=refunded_payment_status(state.paid_amount, refunded),
            )
    return replace(state, **changes)


def fold(stream: list[StoredOrderEvent] | tuple[StoredOrderEvent, ...]) -> OrderState | None:
    """The order after every event of ``stream`` (in version order); ``None`` for none."""
    state = None
    for event in stream:
        state = apply(state, event)
    return state
