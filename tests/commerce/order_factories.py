"""Drafts of orders as the checkout makes them, and a clock for the order streams."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from apps.commerce.money import round_amount
from apps.commerce.orders import OrderDraft, OrderLineDraft, order_create

ADDRESS = {
    "name": "Ada Lovelace", "company": "", "street": "1 Analytical Way", "city": "London",
    "postal_code": "N1 1AA", "region": "", "country": "GB", "phone": "",
}  # fmt: skip
TAX_RATE = Decimal("0.19")
_references = itertools.count(1)


def line_draft(variant=None, *, quantity=2, unit_price="10.00", discount="0.00", location=None):
    """A line at gross prices: its tax is the part of its total that is tax."""
    total = Decimal(unit_price) * quantity - Decimal(discount)
    tax = round_amount(total - total / (1 + TAX_RATE), "USD")
    return OrderLineDraft(
        variant_id=variant.pk if variant else None,
        product_id=variant.product_id if variant else None,
        sku=variant.sku if variant else "GONE-1",
        product_title="Linen shirt",
        variant_title="M / Blue",
        quantity=quantity,
        unit_price=Decimal(unit_price),
        discount=Decimal(discount),
        tax_rate=TAX_RATE,
        tax=tax,
        total=total,
        allocations=((location.pk, quantity),) if location else (),
    )


def order_draft(lines, *, shipping="5.00", locale="en", email="ada@example.com", **fields):
    """A draft that adds up (gross prices, USD)."""
    lines = tuple(lines)
    shipping_price = Decimal(shipping)
    shipping_tax = round_amount(shipping_price - shipping_price / (1 + TAX_RATE), "USD")
    subtotal = sum((line.total + line.discount for line in lines), Decimal(0))
    discount = sum((line.discount for line in lines), Decimal(0))
    values = {
        "currency": "USD", "locale": locale, "email": email, "customer_id": None,
        "shipping_address": ADDRESS, "billing_address": ADDRESS, "shipping_method": "Standard",
        "shipping_price": shipping_price, "shipping_tax": shipping_tax, "voucher_code": "",
        "prices_include_tax": True, "subtotal": subtotal, "discount": discount,
        "tax": sum((line.tax for line in lines), shipping_tax),
        "total": subtotal - discount + shipping_price, "payment_provider": "manual",
        "checkout_reference": f"checkout-{next(_references)}", "lines": lines,
    }  # fmt: skip
    values.update(fields)
    return OrderDraft(**values)


def place(variant=None, location=None, *, lines=1, **fields):
    """An order of ``lines`` lines of ``variant`` (2 units each, from ``location``)."""
    with_lines = [line_draft(variant, location=location) for _ in range(lines)]
    with transaction.atomic():
        return order_create(order_draft(with_lines, **fields))


class Clock:
    """Distinct, known times: each call is one minute after the last."""

    step = timedelta(minutes=1)

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or timezone.now().replace(microsecond=0)

    def __call__(self) -> datetime:
        self.current += self.step
        return self.current
