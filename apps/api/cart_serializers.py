"""Serializers of the storefront's cart and checkout API (``apps.api.carts``).

Inputs check the shape of a request; commerce's cart and checkout services check the rules.
Outputs are built from commerce's reads (``selectors.cart_view``, ``checkout_pricing``) as
plain mappings; amounts are decimal strings with the currency's places, as everywhere in the
API. A placed order is shown as the orders API shows it (``OrderStateOut``). The messages a shopper may see are translated (German).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from apps.commerce.carts import MAX_LINE_QUANTITY
from apps.commerce.selectors import LineAvailability

from .commerce_serializers import AmountField, CurrencyField
from .order_serializers import AddressOut
from .serializers import StrictInput

AVAILABILITIES = [
    (LineAvailability.OK, "ok"),
    (LineAvailability.LOW, "low"),
    (LineAvailability.EXCEEDS_STOCK, "exceeds_stock"),
    (LineAvailability.OUT_OF_STOCK, "out_of_stock"),
    (LineAvailability.UNAVAILABLE, "unavailable"),
    (LineAvailability.NO_PRICE, "no_price"),
]
PROVIDERS = [("manual", "manual"), ("test_card", "test_card")]
QUANTITY_MESSAGES = {
    "invalid": _("Enter a whole number."),
    "min_value": _("Enter at least %(limit_value)s."),
    "max_value": _("At most %(limit_value)s of one item."),
}


def quantity_field(*, minimum: int, **kwargs: Any) -> serializers.IntegerField:
    return serializers.IntegerField(
        min_value=minimum, max_value=MAX_LINE_QUANTITY, error_messages=QUANTITY_MESSAGES, **kwargs
    )


# -- input -----------------------------------------------------------------------------------


class CartCreateIn(StrictInput):
    currency = CurrencyField(
        required=False, help_text="One of the store's currencies; its default when left out."
    )
    locale = serializers.CharField(
        max_length=16,
        required=False,
        help_text="One of the site's locales (titles, shipping names); its default when left out.",
    )


class CartLineAddIn(StrictInput):
    variant = serializers.UUIDField(
        error_messages={"invalid": _("Not a product variant id.")},
        help_text="The variant to add; its product must be on sale and priced in the cart's currency.",
    )
    quantity = quantity_field(minimum=1, help_text="Added to what the cart holds already.")


class CartLineUpdateIn(StrictInput):
    quantity = quantity_field(minimum=0, help_text="The line's new quantity; 0 removes it.")


class CheckoutUpdateIn(StrictInput):
    email = serializers.EmailField(
        max_length=254,
        required=False,
        error_messages={"invalid": _("Enter a valid email address.")},
        help_text="Where the order's confirmation goes.",
    )
    shipping_address = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=255),
        required=False,
        help_text="name, company, street, city, postal_code, region, country (ISO 3166-1 "
        "alpha-2), phone; which are required depends on the country.",
    )
    billing_address = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=255),
        required=False,
        allow_null=True,
        help_text="The same keys; null: the same as the shipping address.",
    )
    shipping_method = serializers.IntegerField(
        min_value=1,
        max_value=2**63 - 1,
        required=False,
        help_text="One of shipping_methods (offered for the shipping address's country).",
    )


class VoucherIn(StrictInput):
    code = serializers.CharField(max_length=64, help_text="Case does not matter.")


class CardIn(StrictInput):
    number = serializers.CharField(max_length=30)
    exp_month = serializers.IntegerField(min_value=1, max_value=12)
    exp_year = serializers.IntegerField(min_value=2000, max_value=2100)
    cvc = serializers.CharField(max_length=4)
    holder = serializers.CharField(max_length=100, required=False, allow_blank=True)


class PlaceOrderIn(StrictInput):
    provider = serializers.ChoiceField(
        choices=PROVIDERS, help_text="A payment method the store enables."
    )
    card = CardIn(required=False, help_text="For test_card only.")


# -- output ----------------------------------------------------------------------------------


class CartLineOut(serializers.Serializer):
    variant = serializers.UUIDField(source="variant_id")
    sku = serializers.CharField()
    product_handle = serializers.CharField()
    product_title = serializers.CharField(help_text="In the cart's locale.")
    variant_title = serializers.CharField(help_text="'M / Blue'; '' without options.")
    image_url = serializers.CharField(allow_null=True)
    quantity = serializers.IntegerField()
    unit_price = AmountField(allow_null=True, help_text="null: no price in the cart's currency.")
    compare_at = AmountField(allow_null=True)
    total = AmountField(allow_null=True)
    availability = serializers.ChoiceField(
        choices=AVAILABILITIES,
        help_text="ok and low can be bought; the others keep the cart from the checkout.",
    )
    available = serializers.IntegerField(
        allow_null=True, help_text="Units one can buy now; null when stock does not limit it."
    )
    purchasable = serializers.BooleanField()


class CartOut(serializers.Serializer):
    """A cart, addressed by its token (whoever holds the token owns the cart)."""

    token = serializers.UUIDField()
    currency = serializers.CharField()
    locale = serializers.CharField()
    lines = CartLineOut(many=True)
    count = serializers.IntegerField(help_text="Units in the cart.")
    subtotal = AmountField(help_text="Of the lines that can be bought.")
    can_checkout = serializers.BooleanField()


class ShippingChoiceOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(help_text="In the cart's locale.")
    price = AmountField(help_text="What it costs for this cart ('0.00' when free).")
    free = serializers.BooleanField(help_text="Free because the subtotal reaches free_over.")
    free_over = AmountField(allow_null=True)


class VoucherOut(serializers.Serializer):
    code = serializers.CharField()
    applied = serializers.BooleanField(
        help_text="false: kept, but the cart no longer reaches its minimum subtotal."
    )


class CheckoutLineOut(serializers.Serializer):
    variant = serializers.UUIDField()
    sku = serializers.CharField()
    product_title = serializers.CharField()
    variant_title = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price = AmountField()
    subtotal = AmountField(help_text="unit_price x quantity.")
    discount = AmountField(help_text="The line's share of the voucher.")
    tax = AmountField()
    total = AmountField(help_text="After the discount, tax included.")


class CheckoutTotalsOut(serializers.Serializer):
    currency = serializers.CharField()
    prices_include_tax = serializers.BooleanField()
    tax_rate = serializers.DecimalField(max_digits=7, decimal_places=6, coerce_to_string=True)
    lines = CheckoutLineOut(many=True)
    subtotal = AmountField()
    discount = AmountField()
    shipping = AmountField()
    shipping_tax = AmountField()
    tax = AmountField()
    total = AmountField(help_text="What the shopper pays.")


class CheckoutOut(serializers.Serializer):
    token = serializers.UUIDField(help_text="The cart's token.")
    email = serializers.CharField()
    shipping_address = AddressOut(allow_null=True)
    billing_address = AddressOut(allow_null=True, help_text="null: the shipping address.")
    shipping_method = ShippingChoiceOut(allow_null=True)
    shipping_methods = ShippingChoiceOut(
        many=True, help_text="Offered for the shipping address's country, in the cart's currency."
    )
    voucher = VoucherOut(allow_null=True)
    reserved_until = serializers.DateTimeField(
        allow_null=True, help_text="Until when the stock is held for the payment (reserve/)."
    )
    totals = CheckoutTotalsOut()
