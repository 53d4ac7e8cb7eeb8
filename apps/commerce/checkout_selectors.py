"""Reads of carts and checkouts for the checkout's steps (storefront, admin, the place-order
service): the cart a request shops with, its lines with their current prices, the shipping
methods offered for an address, tax rates, and the checkout's totals.

Every read here costs a fixed number of queries whatever the number of lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from .errors import CheckoutIncomplete, CheckoutNotFound
from .models import (
    Cart,
    Checkout,
    ShippingMethod,
    ShippingRate,
    TaxRate,
    Voucher,
    VoucherAmount,
)
from .pricing import (
    PricedLine,
    ShippingQuote,
    Totals,
    VoucherTerms,
    lines_subtotal,
    price_checkout,
)
from .selectors import cart_lines_query, store_settings

ZERO = Decimal(0)


def _uuid(value) -> UUID | None:
    try:
        return value if isinstance(value, UUID) else UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        return None


def cart_for(*, token: object = None, customer_id: int | None = None) -> Cart | None:
    """The cart of a logged-in customer, else the one whose token the session holds."""
    if customer_id is not None:
        cart = Cart.objects.filter(customer_id=customer_id).first()
        if cart is not None:
            return cart
    token = _uuid(token)
    if token is None:
        return None
    return Cart.objects.filter(token=token).first()


def checkout_of_cart(cart_id: UUID) -> Checkout | None:
    return (
        Checkout.objects.select_related("cart", "shipping_method", "voucher")
        .filter(cart_id=cart_id)
        .first()
    )


def checkout_get(checkout_id: object) -> Checkout:
    """The checkout with its cart, shipping method and voucher (one query)."""
    try:
        return Checkout.objects.select_related("cart", "shipping_method", "voucher").get(
            pk=checkout_id
        )
    except (Checkout.DoesNotExist, ValidationError, ValueError, TypeError):
        raise CheckoutNotFound(_("No such checkout.")) from None


@dataclass(frozen=True)
class CheckoutLine:
    """A cart line as the checkout prices it (the cart page's is ``selectors.CartLineView``)."""

    id: int
    variant_id: UUID
    product_id: UUID
    sku: str
    product_title: str  # in the cart's locale
    variant_title: str  # "M / Blue"; "" without options
    quantity: int
    unit_price: Decimal | None  # None: the variant has no price in the cart's currency


def cart_lines(cart: Cart) -> list[CheckoutLine]:
    """The cart's lines with their variants' current prices in the cart's currency and their
    titles in the cart's locale: the cart page's read (one query)."""
    return [
        CheckoutLine(
            id=line.pk,
            variant_id=line.variant_id,
            product_id=line.variant.product_id,
            sku=line.variant.sku,
            product_title=line.translated_title or line.variant.product.title,
            variant_title=line.option_text or "",
            quantity=line.quantity,
            unit_price=line.unit_price,
        )
        for line in cart_lines_query(cart.pk, currency=cart.currency, locale=cart.locale)
    ]


def tax_rate_for(country: str | None) -> Decimal:
    """The tax rate of ``country``; a country without one (or no country yet) pays none."""
    if not country:
        return ZERO
    rate = TaxRate.objects.filter(country=country).values_list("rate", flat=True).first()
    return rate if rate is not None else ZERO


@dataclass(frozen=True)
class ShippingOption:
    method: ShippingMethod
    rate: ShippingRate

    @property
    def quote(self) -> ShippingQuote:
        return ShippingQuote(self.rate.price, self.rate.free_over, self.method.name)


def shipping_options(country: str | None, currency: str) -> list[ShippingOption]:
    """The active methods of the zones that include ``country`` with a rate in ``currency``,
    in their order (one query)."""
    if not country:
        return []
    rates = (
        ShippingRate.objects.filter(
            currency=currency, method__active=True, method__zone__countries__contains=[country]
        )
        .select_related("method")
        .order_by("method__position", "method_id")
    )
    return [ShippingOption(rate.method, rate) for rate in rates]


def shipping_option(checkout: Checkout) -> ShippingOption | None:
    """The checkout's chosen method, if still offered for its address and currency."""
    if checkout.shipping_method_id is None:
        return None
    country = (checkout.shipping_address or {}).get("country")
    for option in shipping_options(country, checkout.cart.currency):
        if option.method.pk == checkout.shipping_method_id:
            return option
    return None


def voucher_by_code(code: object) -> Voucher | None:
    text = str(code or "").strip().upper()
    if not text or len(text) > 64:
        return None
    return Voucher.objects.filter(code=text).first()


def voucher_terms(voucher: Voucher, currency: str) -> tuple[VoucherTerms | None, Decimal | None]:
    """What ``voucher`` takes off in ``currency`` (None: not offered in it) and the smallest
    subtotal it needs there."""
    amount = VoucherAmount.objects.filter(voucher=voucher, currency=currency).first()
    minimum = amount.min_subtotal if amount else None
    if voucher.kind == "percentage":
        return VoucherTerms("percentage", voucher.percentage, voucher.code), minimum
    if amount is None or amount.amount is None:
        return None, minimum
    return VoucherTerms("fixed", amount.amount, voucher.code), minimum


def voucher_in_window(voucher: Voucher, now=None) -> bool:
    now = now or timezone.now()
    return (voucher.starts_at is None or voucher.starts_at <= now) and (
        voucher.ends_at is None or now < voucher.ends_at
    )


@dataclass(frozen=True)
class CheckoutPricing:
    """The checkout's totals with what they were computed from."""

    totals: Totals
    lines: list[CheckoutLine]
    shipping: ShippingOption | None
    voucher_applied: bool


def checkout_pricing(checkout: Checkout) -> CheckoutPricing:
    """Prices the checkout now: the cart's lines at current prices, the shipping country's
    tax rate, the chosen method's quote and the voucher (when it still applies to the
    subtotal). A line no longer priced in the cart's currency is ``CheckoutIncomplete``."""
    cart = checkout.cart
    lines = cart_lines(cart)
    unpriced = [line.sku for line in lines if line.unit_price is None]
    if unpriced:
        raise CheckoutIncomplete(
            _("%(skus)s cannot be bought in %(currency)s any more; remove it from the cart.")
            % {"skus": ", ".join(unpriced), "currency": cart.currency}
        )
    priced = [PricedLine(line.id, line.unit_price, line.quantity) for line in lines]
    settings_row = store_settings()
    country = (checkout.shipping_address or {}).get("country")
    option = shipping_option(checkout)
    terms = None
    if checkout.voucher is not None and checkout.voucher.active:
        terms, minimum = voucher_terms(checkout.voucher, cart.currency)
        if minimum is not None and lines_subtotal(priced, cart.currency) < minimum:
            terms = None
    totals = price_checkout(
        priced,
        currency=cart.currency,
        prices_include_tax=settings_row.prices_include_tax,
        tax_rate=tax_rate_for(country),
        voucher=terms,
        shipping=option.quote if option else None,
    )
    return CheckoutPricing(totals, lines, option, terms is not None)


def checkout_totals(checkout_id: object) -> Totals:
    """The checkout's totals now (see ``checkout_pricing``)."""
    return checkout_pricing(checkout_get(checkout_id)).totals
