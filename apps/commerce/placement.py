"""Placing an order: the checkout's payment step, from a held cart to an order.

``checkout_place_order`` is the one service the storefront's payment step and the API call.
The card is charged first, outside any transaction (the payment services record every
attempt in transactions of their own, and a shopper whose card is declined keeps the cart
and the held stock). Then ONE transaction, in this order:

1. the checkout's row is locked (a second click waits, then finds the order placed:
   ``OrderAlreadyPlaced``, 409);
2. the held stock is sold (``reservations_convert``: the stock rows locked in primary-key
   order, availability re-checked under the lock, an expired hold refused);
3. the voucher's use is counted (atomically: two checkouts never both take its last use);
4. the order is written from the totals the shopper saw (``order_create``: lines, prices,
   titles, SKUs and tax copied, the first event of its stream) and, for a card approved
   a moment ago, marked paid with the gateway's reference;
5. the cart is deleted (its checkout with it).

When that transaction fails after an approved charge (the hold expired and the stock went
to someone else, the voucher's last use was taken), the charge is refunded at once and the
shopper is told why; nothing else has changed.

The approved charge may be an earlier one: a card payment that timed out and that the
gateway finished meanwhile pays the checkout when the shopper tries again with another card
or method (``payment_charge`` settles it first and charges nothing new). The order then
names the provider that paid, not the one just chosen.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from decimal import Decimal
from uuid import UUID

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import checkout_selectors
from .carts import cart_close
from .checkout import voucher_use_take
from .errors import (
    CheckoutIncomplete,
    CheckoutNotFound,
    OrderAlreadyPlaced,
    PaymentUnavailable,
    ReservationExpired,
    ReservationNotFound,
)
from .models import Checkout, Order, StockAdjustment
from .orders import OrderDraft, OrderLineDraft, order_create, order_mark_paid
from .payments.base import provider
from .payments.services import payment_charge, payment_refund, payments_link_order
from .pricing import Totals
from .services import reservations_convert

logger = logging.getLogger(__name__)

ADDRESS_FIELDS = ("name", "company", "street", "city", "postal_code", "region", "country", "phone")


def _address(data: dict | None) -> dict:
    data = data or {}
    street = " ".join(part for part in (data.get("street", ""), data.get("street2", "")) if part)
    return {**{name: str(data.get(name) or "") for name in ADDRESS_FIELDS}, "street": street}


def _allocations(sold: list[StockAdjustment]) -> dict[UUID, tuple[tuple[int, int], ...]]:
    """Where each variant's units came from: (location, units) pairs, from the sale's rows."""
    by_variant: dict[UUID, list[tuple[int, int]]] = defaultdict(list)
    for adjustment in sold:
        by_variant[adjustment.variant_id].append((adjustment.location_id, -adjustment.delta))
    return {variant: tuple(sorted(pairs)) for variant, pairs in by_variant.items()}


def order_draft(
    checkout: Checkout,
    pricing: checkout_selectors.CheckoutPricing,
    *,
    provider_code: str,
    sold: list[StockAdjustment],
) -> OrderDraft:
    """The order the shopper saw on the payment page, as ``order_create`` takes it."""
    totals: Totals = pricing.totals
    allocations = _allocations(sold)
    by_id = {line.id: line for line in pricing.lines}
    lines = []
    for priced in totals.lines:
        line = by_id[priced.key]
        lines.append(
            OrderLineDraft(
                variant_id=line.variant_id, product_id=line.product_id, sku=line.sku,
                product_title=line.product_title, variant_title=line.variant_title,
                quantity=priced.quantity, unit_price=priced.unit_price,
                discount=priced.discount, tax_rate=totals.tax_rate, tax=priced.tax,
                total=priced.gross, allocations=allocations.get(line.variant_id, ()),
            )
        )  # fmt: skip
    shipping = totals.shipping
    address = _address(checkout.shipping_address)
    return OrderDraft(
        currency=totals.currency,
        locale=checkout.cart.locale,
        email=checkout.email,
        customer_id=checkout.cart.customer_id,
        shipping_address=address,
        billing_address=_address(checkout.billing_address) if checkout.billing_address else address,
        shipping_method=pricing.shipping.method.name_in(checkout.cart.locale)
        if pricing.shipping
        else "",
        shipping_price=shipping.gross if shipping else Decimal(0),
        shipping_tax=shipping.tax if shipping else Decimal(0),
        voucher_code=checkout.voucher.code if pricing.voucher_applied else "",
        prices_include_tax=totals.prices_include_tax,
        subtotal=sum((line.total + line.discount for line in lines), Decimal(0)),
        discount=totals.discount,
        tax=totals.tax,
        total=totals.total,
        payment_provider=provider_code,
        checkout_reference=checkout.reservation_reference,
        lines=tuple(lines),
    )


def _ready(checkout: Checkout) -> None:
    """The checkout has every step done and holds its stock still."""
    if not (checkout.email and checkout.shipping_address and checkout.shipping_method_id):
        raise CheckoutIncomplete(_("The checkout is not complete yet."))
    if checkout.reserved_until is None or checkout.reserved_until <= timezone.now():
        raise CheckoutIncomplete(
            _("Your items are no longer reserved; review your order to reserve them again.")
        )


def checkout_place_order(
    *, checkout_id: UUID | str, provider_code: str, card=None, actor=None
) -> Order:
    """Pay for the checkout with ``provider_code`` (a card for the test gateway) and place its
    order; see the module's docstring. Refusals: ``CheckoutIncomplete`` (409) before paying,
    ``CommerceInvalid`` (400) for a bad card, ``PaymentDeclined`` (402) and
    ``PaymentUnavailable`` (503) with the cart and the held stock kept, ``ReservationExpired``
    / ``OutOfStock`` / ``VoucherExhausted`` (409) when the order cannot be placed (an approved
    charge is refunded first), ``OrderAlreadyPlaced`` (409) when another request placed the
    checkout while this one waited for it."""
    checkout = checkout_selectors.checkout_get(checkout_id)
    _ready(checkout)
    chosen = provider(provider_code)  # an unknown or disabled provider is a 400
    pricing = checkout_selectors.checkout_pricing(checkout)
    total, currency = pricing.totals.total, pricing.totals.currency
    reference = checkout.reservation_reference
    attempt = payment_charge(
        reference=reference, amount=total, currency=currency, provider_code=chosen.code,
        card=card, actor=actor,
    )  # fmt: skip
    approved = attempt.outcome == "approved"
    try:
        with transaction.atomic():
            checkout = (
                Checkout.objects.select_for_update(of=("self",))
                .select_related("cart", "voucher")
                .filter(pk=checkout.pk)
                .first()
            )
            if checkout is None:
                raise _placed_meanwhile(reference)
            sold = _sell_held_stock(reference, actor=actor)
            if pricing.voucher_applied:
                voucher_use_take(
                    voucher_id=checkout.voucher_id, checkout_reference=reference,
                    customer_id=checkout.cart.customer_id, email=checkout.email, actor=actor,
                )  # fmt: skip
            # The provider that paid: an earlier charge found approved may be another's.
            draft = order_draft(checkout, pricing, provider_code=attempt.provider, sold=sold)
            order = order_create(draft, actor=actor)
            if approved:
                order = order_mark_paid(
                    order_id=order.pk, reference=attempt.provider_reference, amount=total,
                    actor=actor,
                )  # fmt: skip
            payments_link_order(reference=reference, order_id=order.pk)
            cart_close(cart_id=checkout.cart_id)
    except Exception:
        if approved:
            _refund_after_failed_placement(reference, total)
        raise
    return order


def _placed_meanwhile(reference: str) -> Exception:
    """The checkout went while this call waited for its lock: another request placed it (a
    second submission of the payment step), or it was removed."""
    order = Order.objects.filter(checkout_reference=reference).first()
    if order is None:
        return CheckoutNotFound(_("No such checkout."))
    return OrderAlreadyPlaced(
        _("Checkout %(reference)s was placed already, as order #%(number)s.")
        % {"reference": reference, "number": order.number},
        order_id=str(order.pk),
    )


def _sell_held_stock(reference: str, *, actor) -> list[StockAdjustment]:
    try:
        return reservations_convert(reference=reference, actor=actor)
    except ReservationNotFound:
        # Released meanwhile: the hold expired and another checkout's hold swept it away.
        raise ReservationExpired(
            _("Your items were no longer reserved, so the order was not placed."),
            reference=reference,
        ) from None


def _refund_after_failed_placement(reference: str, amount: Decimal) -> None:
    try:
        payment_refund(order_reference=reference, amount=amount)
    except PaymentUnavailable:
        # Recorded as a refund attempt in flight; the merchant sees it with the payments.
        logger.error("refund of %s after a failed placement could not reach the gateway", reference)
