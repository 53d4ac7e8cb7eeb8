"""Serializers of the orders and customers API (``apps.api.orders``).

An order is shown the same way whether it is the current row (``Order``) or a state folded
from its stream (``OrderState``, for ``as-of``): both carry the same names. Amounts are
decimal strings with the currency's places ("19.90", "1000"); inputs take strings only.
The body of each transition has exactly the fields commerce's ``ACTION_DATA`` says it takes.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.commerce import selectors
from apps.commerce.money import round_amount
from apps.commerce.orders import ACTION_DATA
from apps.people.selectors import display_name

from .commerce_serializers import AmountField, model_choices
from .serializers import StrictInput

ORDER_STATUSES = model_choices(selectors.orders(), "status")
PAYMENT_STATUSES = model_choices(selectors.orders(), "payment_status")
ORDER_AMOUNTS = (
    "subtotal", "discount", "shipping_price", "shipping_tax", "tax", "total", "paid_amount",
    "refunded_amount",
)  # fmt: skip
LINE_AMOUNTS = ("unit_price", "discount", "tax", "total")


def _shown(data: dict[str, Any], names: tuple[str, ...], currency: str) -> dict[str, Any]:
    """``data`` with the amounts ``names`` in the currency's places."""
    for name in names:
        data[name] = str(round_amount(Decimal(data[name]), currency))
    return data


class AddressOut(serializers.Serializer):
    name = serializers.CharField(required=False)
    company = serializers.CharField(required=False)
    street = serializers.CharField(required=False)
    city = serializers.CharField(required=False)
    postal_code = serializers.CharField(required=False)
    region = serializers.CharField(required=False)
    country = serializers.CharField(required=False)
    phone = serializers.CharField(required=False)

    def to_representation(self, address) -> dict[str, str]:
        return dict(address)


class OrderLineOut(serializers.Serializer):
    variant = serializers.UUIDField(source="variant_id", allow_null=True)
    product = serializers.UUIDField(source="product_id", allow_null=True)
    sku = serializers.CharField()
    product_title = serializers.CharField()
    variant_title = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price = AmountField()
    discount = AmountField()
    tax_rate = serializers.DecimalField(max_digits=7, decimal_places=6, coerce_to_string=True)
    tax = AmountField()
    total = AmountField()

    def to_representation(self, line) -> dict[str, Any]:
        return _shown(super().to_representation(line), LINE_AMOUNTS, self.context["currency"])


class OrderOut(serializers.Serializer):
    """An order in a list: what it is, who bought, where it stands, what it costs."""

    id = serializers.UUIDField()
    number = serializers.IntegerField()
    status = serializers.ChoiceField(choices=ORDER_STATUSES)
    payment_status = serializers.ChoiceField(choices=PAYMENT_STATUSES)
    currency = serializers.CharField()
    locale = serializers.CharField()
    email = serializers.EmailField()
    customer = serializers.IntegerField(
        source="customer_id", allow_null=True, help_text="The customer's id; null for a guest."
    )
    subtotal = AmountField()
    discount = AmountField()
    shipping_price = AmountField()
    shipping_tax = AmountField()
    tax = AmountField()
    total = AmountField()
    paid_amount = AmountField()
    refunded_amount = AmountField()
    prices_include_tax = serializers.BooleanField()
    voucher_code = serializers.CharField()
    shipping_method = serializers.CharField()
    payment_provider = serializers.CharField()
    payment_reference = serializers.CharField()
    carrier = serializers.CharField()
    tracking_number = serializers.CharField()
    cancel_reason = serializers.CharField()
    checkout_reference = serializers.CharField()
    version = serializers.IntegerField(help_text="The stream's last version (expected_version).")
    placed_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def to_representation(self, order) -> dict[str, Any]:
        return _shown(super().to_representation(order), ORDER_AMOUNTS, order.currency)


class OrderStateOut(OrderOut):
    """An order with its addresses and lines."""

    shipping_address = AddressOut()
    billing_address = AddressOut()
    lines = serializers.SerializerMethodField()

    @extend_schema_field(OrderLineOut(many=True))
    def get_lines(self, order) -> list[dict[str, Any]]:
        lines = order.lines.all() if hasattr(order.lines, "all") else order.lines
        return OrderLineOut(lines, many=True, context={"currency": order.currency}).data


class HistoryEntryOut(serializers.Serializer):
    version = serializers.IntegerField()
    type = serializers.CharField(help_text="The event's type, e.g. commerce.order.paid.")
    occurred_at = serializers.DateTimeField()
    actor = serializers.CharField(source="actor_label", help_text="Who did it ('' for the system).")
    actor_kind = serializers.CharField()
    payload = serializers.DictField(help_text="The event as recorded (amounts as strings).")


class OrderDetailOut(OrderStateOut):
    """An order with its lines and its history (the stream, oldest first)."""

    history = serializers.SerializerMethodField()

    @extend_schema_field(HistoryEntryOut(many=True))
    def get_history(self, order) -> list[dict[str, Any]]:
        return HistoryEntryOut(self.context["history"], many=True).data


class OrderAsOfOut(OrderStateOut):
    """The order as its stream says it was at ``as_of``."""

    as_of = serializers.SerializerMethodField()

    @extend_schema_field(serializers.DateTimeField(help_text="The moment the order is shown at."))
    def get_as_of(self, order) -> str:
        return serializers.DateTimeField().to_representation(self.context["as_of"])


# -- input ---------------------------------------------------------------------------------


def _expected_version() -> serializers.IntegerField:
    return serializers.IntegerField(
        min_value=1,
        max_value=2**31 - 1,
        required=False,
        help_text="The version you saw: another answers 409 (order_version_conflict).",
    )


def _action_fields() -> dict[str, serializers.Field]:
    return {
        "reference": serializers.CharField(max_length=100, help_text="The provider's reference."),
        "amount": AmountField(),
        "carrier": serializers.CharField(max_length=100),
        "tracking_number": serializers.CharField(max_length=100),
        "reason": serializers.CharField(max_length=500, required=False, allow_blank=True),
    }


def transition_input(action: str) -> type[StrictInput]:
    """The body of ``action``: the data the service takes for it, and ``expected_version``."""
    taken = ACTION_DATA[action][0]
    fields = {name: field for name, field in _action_fields().items() if name in taken}
    name = "".join(part.title() for part in action.split("_"))
    return type(
        f"Order{name}In",
        (StrictInput,),
        {**fields, "expected_version": _expected_version(), "__module__": __name__},
    )


TRANSITION_INPUTS = {action: transition_input(action) for action in ACTION_DATA}


class RefundIn(StrictInput):
    amount = AmountField(help_text="More than zero, at most what is paid and not refunded yet.")
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)
    expected_version = _expected_version()


class AsOfQuery(serializers.Serializer):
    at = serializers.DateTimeField(help_text="ISO 8601; without an offset, in the site's zone.")


# -- customers -----------------------------------------------------------------------------


class CustomerOut(serializers.Serializer):
    id = serializers.IntegerField()
    display_name = serializers.SerializerMethodField()
    email = serializers.EmailField()
    date_joined = serializers.DateTimeField()
    orders_count = serializers.IntegerField()

    def get_display_name(self, customer) -> str:
        return display_name(customer)
