"""Factories of the checkout tests: a priced cart, tax rates, a shipping zone, vouchers.

Carts and their lines are written with the ORM (the cart's own services live elsewhere)."""

from __future__ import annotations

from decimal import Decimal

from apps.commerce import checkout_settings as settings_services
from apps.commerce import services
from apps.commerce.checkout_settings import RateInput, VoucherAmountInput, VoucherInput
from apps.commerce.models import Cart, CartLine, ShippingMethod, Variant

from .conftest import make_location, make_product, make_variant

GERMAN_ADDRESS = {
    "name": "Erika Mustermann",
    "street": "Heidestraße 17",
    "city": "Köln",
    "postal_code": "51147",
    "country": "DE",
}
US_ADDRESS = {
    "name": "John Doe",
    "street": "1600 Amphitheatre Pkwy",
    "city": "Mountain View",
    "postal_code": "94043",
    "region": "CA",
    "country": "US",
}


def eur_variant(amount: str = "10.00", title: str = "Linen shirt", **fields) -> Variant:
    """A variant priced in EUR (and in USD, the default currency)."""
    product = make_product(title)
    variant = make_variant(product, **fields)
    services.price_set(variant_id=variant.pk, currency="USD", amount=amount)
    services.price_set(variant_id=variant.pk, currency="EUR", amount=amount)
    return variant


def make_cart(*variants_and_quantities: tuple[Variant, int], currency="EUR", **fields) -> Cart:
    cart = Cart.objects.create(currency=currency, **fields)
    for variant, quantity in variants_and_quantities:
        CartLine.objects.create(cart=cart, variant=variant, quantity=quantity)
    return cart


def stocked(variant: Variant, **on_hand_by_location: int) -> None:
    from apps.commerce.models import Location

    for code, on_hand in on_hand_by_location.items():
        location = Location.objects.filter(code=code).first() or make_location(code, code)
        services.stock_set(variant_id=variant.pk, location_id=location.pk, on_hand=on_hand)


def shipping_zone(
    countries=("DE", "AT"), *, name="DACH", price="4.90", free_over=None, currency="EUR",
    active=True, method_name="Standard",
) -> ShippingMethod:  # fmt: skip
    zone = settings_services.shipping_zone_save(name=name, countries=list(countries))
    return settings_services.shipping_method_save(
        zone_id=zone.pk, name=method_name, name_translations={"de": f"{method_name} (de)"},
        active=active, rates=[RateInput(currency, price, free_over)],
    )  # fmt: skip


def voucher(code="SAVE10", kind="percentage", percentage="10", amounts=(), **fields):
    return settings_services.voucher_save(
        data=VoucherInput(
            code=code, kind=kind, percentage=percentage if kind == "percentage" else None,
            amounts=[VoucherAmountInput(*row) for row in amounts], **fields,
        )
    )  # fmt: skip


def tax(country="DE", rate="0.19"):
    return settings_services.tax_rate_set(country=country, rate=Decimal(rate), name="VAT")
