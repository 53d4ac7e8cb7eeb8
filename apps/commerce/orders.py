"""Every write to orders: placing one, moving it through ``ORDER_TRANSITIONS`` (their emails:
``order_emails``).

An order is event-sourced. Its stream (``OrderEvent``, append-only) is the record; the
``Order`` and ``OrderLine`` rows are a projection of it, written from the folded state
(``order_state.apply``) in the transaction that appends, never edited on their own. Each
write is one transaction: lock the order row, compare the version the caller saw, fold
the stream, check the table and the guards, append version n+1 (the unique key stops a
writer that got past the lock), write the rows, publish the same event to the outbox.
Nothing here may write an ``Order`` row other than from a fold.

Locks: the order row first, then (a cancellation returning stock) the services' stock
locks in their own order.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.core.context import Actor
from apps.core.transitions import Transition, TransitionTable
from apps.events.publisher import publish
from apps.events.schema import DomainEvent

from . import events
from .errors import OrderAlreadyPlaced, OrderNotFound, OrderVersionConflict
from .models import (
    ORDER_NUMBER_SEQUENCE,
    AdjustmentReason,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    PaymentStatus,
    Variant,
)
from .money import Money, MoneyError, normalize_currency, parse_amount, round_amount
from .order_reads import order_stream, order_uuid
from .order_state import (
    OrderDraft,
    OrderLineDraft,
    OrderState,
    StreamBroken,
    apply,
    fold,
    refunded_payment_status,
)
from .services import _int, _raise, _text, stock_adjust

__all__ = [
    "ORDER_TRANSITIONS", "OrderDraft", "OrderLineDraft", "order_cancel", "order_confirm",
    "order_create", "order_deliver", "order_mark_paid", "order_rebuild",
    "order_refund", "order_ship", "order_transition",
]  # fmt: skip

logger = logging.getLogger(__name__)

# The clock of the streams (tests replace it to give events distinct, known times).
now: Callable[[], Any] = timezone.now

MAX_LINES = 1000
TEXT_LIMITS = {"shipping_method": 255, "voucher_code": 64, "payment_provider": 32,
               "checkout_reference": 100}  # fmt: skip
ADDRESS_FIELDS = ("name", "company", "street", "city", "postal_code", "region", "country", "phone")
ADDRESS_FIELD_LENGTH = 255
ORDER_AMOUNTS = ("shipping_price", "shipping_tax", "subtotal", "discount", "tax", "total")
LINE_AMOUNTS = ("unit_price", "discount", "tax", "total")


# -- the order status machine -----------------------------------------------------------------


def _unknown_action(status: str, action: str) -> str:
    return _("There is no order action '%(action)s'.") % {"action": action}


def _refusal(status: str, transition: Transition) -> str:
    return _("An order that is %(status)s cannot be %(done)s.") % {
        "status": OrderStatus(status).label.lower(),
        "done": transition.past,
    }


PENDING, CONFIRMED, PAID = OrderStatus.PENDING, OrderStatus.CONFIRMED, OrderStatus.PAID
FULFILLED, DELIVERED = OrderStatus.FULFILLED, OrderStatus.DELIVERED

# pending -> confirmed -> paid -> fulfilled (shipped) -> delivered; pending -> paid (a card
# approved at placement); pending|confirmed -> cancelled; paid|fulfilled|delivered ->
# refunded (a partial refund keeps the status: see ``_refund``).
ORDER_TRANSITIONS: TransitionTable[type[DomainEvent]] = TransitionTable(
    [
        Transition("confirm", frozenset({PENDING}), CONFIRMED, events.OrderConfirmed,
                   gettext_lazy("Confirm"), gettext_lazy("confirmed")),
        Transition("mark_paid", frozenset({PENDING, CONFIRMED}), PAID, events.OrderPaid,
                   gettext_lazy("Mark as paid"), gettext_lazy("marked as paid")),
        Transition("ship", frozenset({PAID}), FULFILLED, events.OrderShipped,
                   gettext_lazy("Ship"), gettext_lazy("shipped")),
        Transition("deliver", frozenset({FULFILLED}), DELIVERED, events.OrderDelivered,
                   gettext_lazy("Mark as delivered"), gettext_lazy("marked as delivered")),
        Transition("cancel", frozenset({PENDING, CONFIRMED}), OrderStatus.CANCELLED,
                   events.OrderCancelled, gettext_lazy("Cancel"), gettext_lazy("cancelled")),
        Transition("refund", frozenset({PAID, FULFILLED, DELIVERED}), OrderStatus.REFUNDED,
                   events.OrderRefunded, gettext_lazy("Refund"), gettext_lazy("refunded")),
    ],
    refusal=_refusal,
    unknown=_unknown_action,
)  # fmt: skip


# -- the stream ----------------------------------------------------------------------------------


def _actor_fields(actor) -> dict[str, str]:
    who = Actor.resolve(actor)
    if who is None:
        return {}
    return {"actor_kind": who.kind[:16], "actor_id": who.id[:64], "actor_label": who.label[:255]}


def _append(state: OrderState | None, event: DomainEvent, *, actor) -> OrderState:
    """Append ``event`` to its order's stream and return the order after it.

    The event is folded before it is written, so an event the fold refuses never lands.
    Its time never goes back behind the stream's last event.
    """
    occurred_at = now() if state is None else max(now(), state.updated_at)
    row = OrderEvent(
        order_id=event.order_id, version=event.version, type=event.event_type,
        schema_version=event.schema_version, payload=event.payload(), occurred_at=occurred_at,
        **_actor_fields(actor),
    )  # fmt: skip
    after = apply(state, row)
    try:
        row.save(force_insert=True)
    except IntegrityError:
        # Leaves the enclosing atomic block at once: its rollback undoes the failed insert.
        raise OrderVersionConflict(
            _("Order #%(number)s was changed meanwhile; reload it and try again.")
            % {"number": event.number},
            current_version=event.version,
        ) from None
    return after


def _line_rows(state: OrderState) -> list[OrderLine]:
    return [
        OrderLine(
            order_id=state.id,
            position=position,
            variant_id=line.variant_id,
            product_id=line.product_id,
            sku=line.sku,
            product_title=line.product_title,
            variant_title=line.variant_title,
            quantity=line.quantity,
            unit_price=line.unit_price,
            discount=line.discount,
            tax_rate=line.tax_rate,
            tax=line.tax,
            total=line.total,
            allocations=[list(allocation) for allocation in line.allocations],
        )
        for position, line in enumerate(state.lines)
    ]


def _write(order: Order, state: OrderState) -> Order:
    """The order row as ``state`` says (one UPDATE); lines are written only when placed."""
    values = state.row_values()
    for name, value in values.items():
        setattr(order, name, value)
    order.save(update_fields=[name for name in values if name != "id"])
    return order


# -- placing an order ----------------------------------------------------------------------


def _amounts(errors: dict[str, str], prefix: str, source: Any, names, currency: str) -> dict:
    """The amounts ``names`` of ``source``: decimals, non-negative, already rounded to the
    currency (what the checkout computed is what is stored, never re-rounded here)."""
    found: dict[str, Decimal] = {}
    for name in names:
        value = getattr(source, name)
        try:
            amount = parse_amount(value, currency) if currency else Decimal(0)
        except MoneyError as error:
            errors[f"{prefix}{name}"] = str(error)
            continue
        if amount < 0:
            errors[f"{prefix}{name}"] = _("must not be negative")
        elif currency and amount != value:
            errors[f"{prefix}{name}"] = _("must be rounded to %(currency)s") % {
                "currency": currency
            }
        found[name] = amount
    return found


def _address(errors: dict[str, str], name: str, value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or not set(value) <= set(ADDRESS_FIELDS):
        errors[name] = _("must be an address with the fields %(fields)s") % {
            "fields": ", ".join(ADDRESS_FIELDS)
        }
        return {}
    address = {key: ("" if item is None else str(item)).strip() for key, item in value.items()}
    if any(len(item) > ADDRESS_FIELD_LENGTH for item in address.values()):
        errors[name] = _("at most %(count)d characters") % {"count": ADDRESS_FIELD_LENGTH}
    return address


def _clean_line(
    errors: dict[str, str], index: int, line: Any, currency: str, include_tax: bool
) -> events.OrderLinePayload | None:
    prefix = f"lines.{index}."
    if not isinstance(line, OrderLineDraft):
        errors[f"lines.{index}"] = _("must be an order line")
        return None
    before = len(errors)
    sku = _text(errors, f"{prefix}sku", line.sku, max_length=64, required=True)
    title = _text(errors, f"{prefix}product_title", line.product_title, max_length=255,
                  required=True)  # fmt: skip
    variant_title = _text(errors, f"{prefix}variant_title", line.variant_title, max_length=255)
    quantity = _int(errors, f"{prefix}quantity", line.quantity, minimum=1)
    amounts = _amounts(errors, prefix, line, LINE_AMOUNTS, currency)
    rate = line.tax_rate
    if not isinstance(rate, Decimal) or not rate.is_finite() or not 0 <= rate <= 1:
        errors[f"{prefix}tax_rate"] = _("must be a decimal between 0 and 1")
    allocations = line.allocations
    if not all(
        isinstance(pair, tuple | list) and len(pair) == 2
        and all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in pair)
        for pair in allocations
    ) or sum(pair[1] for pair in allocations) > quantity:  # fmt: skip
        errors[f"{prefix}allocations"] = _(
            "must be (location, units) pairs of at most the line's quantity"
        )
    if len(errors) > before:
        return None
    # What the line charges: its units less its discount, plus its tax where prices are net.
    charged = line.unit_price * quantity - amounts["discount"]
    if not include_tax:
        charged += amounts["tax"]
    if round_amount(charged, currency) != amounts["total"]:
        rule = (
            _("%(total)s is not the units at the unit price less the discount (%(expected)s)")
            if include_tax
            else _(
                "%(total)s is not the units at the unit price less the discount plus the tax "
                "(%(expected)s)"
            )
        )
        errors[f"{prefix}total"] = rule % {
            "total": amounts["total"], "expected": round_amount(charged, currency)
        }  # fmt: skip
        return None
    return events.OrderLinePayload(
        variant_id=line.variant_id, product_id=line.product_id, sku=sku, product_title=title,
        variant_title=variant_title, quantity=quantity, tax_rate=rate,
        allocations=[tuple(pair) for pair in allocations], **amounts,
    )  # fmt: skip


def _check_sums(errors: dict[str, str], amounts: dict, lines: list[events.OrderLinePayload]):
    def mismatch(name: str, expected: Decimal, rule: str) -> None:
        if amounts[name] != expected:
            errors[name] = _("%(amount)s is not %(rule)s (%(expected)s)") % {
                "amount": amounts[name], "rule": rule, "expected": expected,
            }  # fmt: skip

    mismatch("subtotal", sum((line.total + line.discount for line in lines), Decimal(0)),
             _("the lines' totals before their discounts"))  # fmt: skip
    mismatch("discount", sum((line.discount for line in lines), Decimal(0)),
             _("the sum of the lines' discounts"))  # fmt: skip
    mismatch("tax", sum((line.tax for line in lines), amounts["shipping_tax"]),
             _("the lines' tax plus the shipping tax"))  # fmt: skip
    mismatch("total", amounts["subtotal"] - amounts["discount"] + amounts["shipping_price"],
             _("the subtotal less the discount plus shipping"))  # fmt: skip


def _placed_event(draft: OrderDraft, *, order_id: UUID, number: int) -> events.OrderPlaced:
    """The ``placed`` event of ``draft``, every rule checked; ``CommerceInvalid`` names each
    field that breaks one (``lines.2.total``)."""
    if not isinstance(draft, OrderDraft):
        raise TypeError("order_create takes an OrderDraft")
    errors: dict[str, str] = {}
    try:
        currency = normalize_currency(draft.currency)
    except MoneyError as error:
        errors["currency"] = str(error)
        currency = ""
    locale = _text(errors, "locale", draft.locale, max_length=16, required=True)
    if locale and locale not in dict(settings.LANGUAGES):
        errors["locale"] = _("'%(locale)s' is not a language of the platform") % {"locale": locale}
    email = _text(errors, "email", draft.email, max_length=254, required=True)
    try:
        validate_email(email)
    except DjangoValidationError:
        errors.setdefault("email", _("must be an email address"))
    if draft.customer_id is not None:
        _int(errors, "customer_id", draft.customer_id, minimum=1, maximum=2**63 - 1)
    texts = {
        name: _text(errors, name, getattr(draft, name), max_length=limit,
                    required=name in ("payment_provider", "checkout_reference"))
        for name, limit in TEXT_LIMITS.items()
    }  # fmt: skip
    shipping_address = _address(errors, "shipping_address", draft.shipping_address)
    billing_address = _address(errors, "billing_address", draft.billing_address)
    amounts = _amounts(errors, "", draft, ORDER_AMOUNTS, currency)
    if not isinstance(draft.prices_include_tax, bool):
        errors["prices_include_tax"] = _("must be true or false")
    if not isinstance(draft.lines, tuple | list) or not 1 <= len(draft.lines) <= MAX_LINES:
        errors["lines"] = _("an order has between 1 and %(count)d lines") % {"count": MAX_LINES}
    _raise(errors)
    lines = [
        _clean_line(errors, index, line, currency, draft.prices_include_tax)
        for index, line in enumerate(draft.lines)
    ]
    _raise(errors)
    _check_sums(errors, amounts, lines)
    _raise(errors)
    return events.OrderPlaced(
        order_id=order_id, version=1, number=number, currency=currency, locale=locale,
        email=email, customer_id=draft.customer_id, shipping_address=shipping_address,
        billing_address=billing_address, prices_include_tax=draft.prices_include_tax,
        lines=lines, **texts, **amounts,
    )  # fmt: skip


def _next_number() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(%s)", [ORDER_NUMBER_SEQUENCE])
        return cursor.fetchone()[0]


def order_create(draft: OrderDraft, *, actor=None) -> Order:
    """Place ``draft`` as an order: number it, append ``commerce.order.placed`` (version 1)
    to its new stream, write its rows and publish the event, in one transaction (the
    caller's: the checkout converts the stock and places the order together).

    The draft must add up, as the checkout computes it (``CommerceInvalid`` otherwise): each
    line's total is its units at the unit price less its discount (plus its tax where prices
    are net), the subtotal the lines' totals before discounts, the discount theirs, the tax
    theirs plus the shipping tax, the total the subtotal less the discount plus shipping.
    Every amount is rounded to the currency already. A checkout placed twice is
    ``OrderAlreadyPlaced``.

    The number comes from the tenant's sequence: a placement that rolls back leaves a gap.
    """
    order_id = uuid4()
    event = _placed_event(draft, order_id=order_id, number=1)
    with transaction.atomic():
        event = event.model_copy(update={"number": _next_number()})
        state = _append(None, event, actor=actor)
        order = Order(**state.row_values())
        try:
            with transaction.atomic():
                order.save(force_insert=True)
        except IntegrityError:
            existing = Order.objects.filter(checkout_reference=state.checkout_reference).first()
            if existing is None:
                raise
            raise OrderAlreadyPlaced(
                _("Checkout %(reference)s was placed already, as order #%(number)s.")
                % {"reference": state.checkout_reference, "number": existing.number},
                order_id=str(existing.pk),
            ) from None
        OrderLine.objects.bulk_create(_line_rows(state))
        publish(event, actor=actor)
    return order


# -- moving an order through its life ---------------------------------------------------------


def _required_text(errors: dict[str, str], data: dict, name: str, max_length: int = 100) -> str:
    return _text(errors, name, data.get(name), max_length=max_length, required=True)


def _amount_of(errors: dict[str, str], data: dict, state: OrderState) -> Decimal:
    try:
        return parse_amount(data.get("amount"), state.currency)
    except MoneyError as error:
        errors["amount"] = str(error)
        return Decimal(0)


def _paid(state: OrderState, data: dict, common: dict) -> DomainEvent:
    errors: dict[str, str] = {}
    reference = _text(errors, "reference", data.get("reference"), max_length=100)
    if "reference" not in errors and not reference:
        errors["reference"] = _("a payment is marked only with the provider's reference")
    amount = _amount_of(errors, data, state)
    if "amount" not in errors and amount != state.total:
        errors["amount"] = _("the payment of %(amount)s is not the order's total of %(total)s") % {
            "amount": Money(amount, state.currency), "total": Money(state.total, state.currency)
        }  # fmt: skip
    _raise(errors)
    return events.OrderPaid(**common, reference=reference, amount=amount)


def _shipped(state: OrderState, data: dict, common: dict) -> DomainEvent:
    errors: dict[str, str] = {}
    carrier = _required_text(errors, data, "carrier")
    tracking_number = _required_text(errors, data, "tracking_number")
    if errors:
        errors = {
            name: _("an order is shipped only with a carrier and a tracking number")
            for name in errors
        }
    _raise(errors)
    return events.OrderShipped(**common, carrier=carrier, tracking_number=tracking_number)


def _cancelled(state: OrderState, data: dict, common: dict) -> DomainEvent:
    errors: dict[str, str] = {}
    reason = _text(errors, "reason", data.get("reason"), max_length=500)
    _raise(errors)
    return events.OrderCancelled(**common, reason=reason)


def _refunded(state: OrderState, data: dict, common: dict) -> DomainEvent:
    """A refund of all that is left moves the order to refunded; a part keeps its status.
    ``payment_reference``: the provider's reference of the money given back, when a provider
    gave it back (``order_payments.order_refund_with_payment``)."""
    errors: dict[str, str] = {}
    reason = _text(errors, "reason", data.get("reason"), max_length=500)
    payment_reference = _text(
        errors, "payment_reference", data.get("payment_reference"), max_length=100
    )
    amount = _amount_of(errors, data, state)
    if "amount" not in errors and not 0 < amount <= state.refundable:
        errors["amount"] = _("a refund is more than zero and at most %(left)s") % {
            "left": Money(state.refundable, state.currency)
        }
    _raise(errors)
    refunded = state.refunded_amount + amount
    payment_status = refunded_payment_status(state.paid_amount, refunded)
    if payment_status != PaymentStatus.REFUNDED:
        common = {**common, "to_status": state.status}
    return events.OrderRefunded(
        **common, amount=amount, refunded_amount=refunded, payment_status=payment_status,
        reason=reason, payment_reference=payment_reference,
    )  # fmt: skip


def _plain(state: OrderState, data: dict, common: dict, *, event) -> DomainEvent:
    return event(**common)


# action -> (the data it takes, what builds its event from the order and that data)
ACTION_DATA: dict[str, tuple[frozenset[str], Callable[..., DomainEvent]]] = {
    "confirm": (frozenset(), lambda s, d, c: _plain(s, d, c, event=events.OrderConfirmed)),
    "mark_paid": (frozenset({"reference", "amount"}), _paid),
    "ship": (frozenset({"carrier", "tracking_number"}), _shipped),
    "deliver": (frozenset(), lambda s, d, c: _plain(s, d, c, event=events.OrderDelivered)),
    "cancel": (frozenset({"reason"}), _cancelled),
    "refund": (frozenset({"amount", "reason", "payment_reference"}), _refunded),
}


def _locked_order(order_id: UUID | str) -> Order:
    order = Order.objects.filter(pk=order_uuid(order_id)).select_for_update(of=("self",)).first()
    if order is None:
        raise OrderNotFound(_("No such order."))
    return order


def _return_stock(state: OrderState, *, actor) -> None:
    """Put the units of every allocation back where they came from (variants deleted since
    have no stock to return to)."""
    variant_ids = {line.variant_id for line in state.lines if line.variant_id}
    existing = set(Variant.objects.filter(pk__in=variant_ids).values_list("pk", flat=True))
    note = _("Order #%(number)s cancelled") % {"number": state.number}
    for line in state.lines:
        if line.variant_id not in existing:
            continue
        for location_id, quantity in line.allocations:
            stock_adjust(
                variant_id=line.variant_id, location_id=location_id, delta=quantity,
                reason=AdjustmentReason.RETURNED, note=note, actor=actor,
            )  # fmt: skip


def _planned(
    order: Order, action: str, expected_version: int | None, data: dict[str, Any]
) -> tuple[OrderState, Transition, DomainEvent]:
    """The order's folded state, the transition and the event ``action`` would append: every
    check of ``order_transition`` (the version, the table, the action's guards), no write."""
    known = ACTION_DATA.get(action)
    if known is not None and set(data) - known[0]:
        _raise({name: _("not taken by this action") for name in sorted(set(data) - known[0])})
    if expected_version is not None and expected_version != order.version:
        raise OrderVersionConflict(
            _("Order #%(number)s is at version %(current)d, not %(expected)d: it was "
              "changed meanwhile; reload it and try again.")
            % {"number": order.number, "current": order.version, "expected": expected_version},
            current_version=order.version,
        )  # fmt: skip
    state = fold(order_stream(order.pk))
    if state is None or state.version != order.version:
        raise StreamBroken(f"order {order.pk}: the row is not the fold of its stream")
    transition = ORDER_TRANSITIONS.check(state.status, action)
    common = {
        "order_id": state.id, "version": state.version + 1, "number": state.number,
        "from_status": state.status, "to_status": transition.target,
    }  # fmt: skip
    return state, transition, known[1](state, data, common)


def order_transition_check(
    *, order_id: UUID | str, action: str, expected_version: int | None = None, **data: Any
) -> OrderState:
    """Whether ``order_transition`` would take the order through ``action`` now: the same
    checks and errors, read without a lock and nothing written. For composite services that
    must refuse before they act outside the order (a refund at the gateway); the order may
    still move on before they write, and ``order_transition`` checks again."""
    order = Order.objects.filter(pk=order_uuid(order_id)).first()
    if order is None:
        raise OrderNotFound(_("No such order."))
    return _planned(order, action, expected_version, data)[0]


def order_transition(
    *,
    order_id: UUID | str,
    action: str,
    expected_version: int | None = None,
    actor=None,
    **data: Any,
) -> Order:
    """Take the order through ``action`` of ``ORDER_TRANSITIONS``, in one transaction.

    ``expected_version``, when given, is the version the caller saw: another is
    ``OrderVersionConflict`` (409). ``InvalidTransition`` (409) when the table has no such
    move from the order's status; ``CommerceInvalid`` (400) when a guard refuses the data
    (``mark_paid``: ``reference`` and ``amount``, the order's total; ``ship``: ``carrier``
    and ``tracking_number``; ``refund``: ``amount``, at most what is paid and not refunded,
    and ``reason``; ``cancel``: ``reason``, and the allocated units return to stock).
    """
    with transaction.atomic():
        order = _locked_order(order_id)
        state, transition, event = _planned(order, action, expected_version, data)
        state = _append(state, event, actor=actor)
        _write(order, state)
        if transition.target == OrderStatus.CANCELLED:
            _return_stock(state, actor=actor)
        publish(event, actor=actor)
    return order


def order_confirm(*, order_id, expected_version=None, actor=None) -> Order:
    return order_transition(
        order_id=order_id, action="confirm", expected_version=expected_version, actor=actor
    )


def order_mark_paid(
    *, order_id, reference: str, amount: Decimal, expected_version=None, actor=None
) -> Order:
    """The payment arrived. Works in the transaction that placed the order (a card approved
    at placement: pending -> paid), as on a confirmed order."""
    return order_transition(
        order_id=order_id, action="mark_paid", expected_version=expected_version, actor=actor,
        reference=reference, amount=amount,
    )  # fmt: skip


def order_ship(
    *, order_id, carrier: str, tracking_number: str, expected_version=None, actor=None
) -> Order:
    return order_transition(
        order_id=order_id, action="ship", expected_version=expected_version, actor=actor,
        carrier=carrier, tracking_number=tracking_number,
    )  # fmt: skip


def order_deliver(*, order_id, expected_version=None, actor=None) -> Order:
    return order_transition(
        order_id=order_id, action="deliver", expected_version=expected_version, actor=actor
    )


def order_cancel(*, order_id, reason: str = "", expected_version=None, actor=None) -> Order:
    return order_transition(
        order_id=order_id, action="cancel", expected_version=expected_version, actor=actor,
        reason=reason,
    )  # fmt: skip


def order_refund(
    *,
    order_id,
    amount: Decimal,
    reason: str = "",
    payment_reference: str = "",
    expected_version=None,
    actor=None,
) -> Order:
    """Record a refund on the order (the money itself: ``order_refund_with_payment``)."""
    return order_transition(
        order_id=order_id, action="refund", expected_version=expected_version, actor=actor,
        amount=amount, reason=reason, payment_reference=payment_reference,
    )  # fmt: skip


def order_rebuild(*, order_id: UUID | str) -> Order:
    """Write the order's rows again from its stream (the row may be gone, or wrong)."""
    with transaction.atomic():
        state = fold(order_stream(order_id))
        if state is None:
            raise OrderNotFound(_("No such order."))
        order = Order.objects.select_for_update(of=("self",)).filter(pk=state.id).first()
        if order is None:
            order = Order(**state.row_values())
            order.save(force_insert=True)
        else:
            _write(order, state)
        OrderLine.objects.filter(order_id=state.id).delete()
        OrderLine.objects.bulk_create(_line_rows(state))
    return order
