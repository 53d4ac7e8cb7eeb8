"""The checkout's arithmetic: line amounts, an order voucher, shipping and tax, as one pure
function of its inputs (no database, no clock), so that every rule is tested exhaustively.

Rounding happens at fixed points only, half-up to the currency's minor unit
(``money.round_amount``):

- a line's amount is ``round(unit_price * quantity)``, once;
- the order voucher's discount is rounded once for the whole order, then split over the
  lines in proportion to their amounts by the largest-remainder method, in minor units,
  so the lines' discounts sum to the order's discount exactly;
- each line's tax is rounded once: ``round(net * rate)`` when prices exclude tax,
  ``round(gross - gross / (1 + rate))`` (back-calculated) when they include it;
- order amounts are sums of rounded line amounts, never rounded again.

Rules: a fixed voucher never takes more than the subtotal; a 100 % voucher leaves the
shipping to pay, never a negative total. Free shipping over a threshold is judged on the
subtotal *after* the voucher's discount (what the customer actually spends on goods).
Shipping is taxed at the order's rate, like a line.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from .money import minor_unit, round_amount

ZERO = Decimal(0)
HUNDRED = Decimal(100)


class VoucherKind:
    PERCENTAGE = "percentage"
    FIXED = "fixed"


@dataclass(frozen=True)
class PricedLine:
    key: Hashable  # what the caller knows the line by (a cart line's id)
    unit_price: Decimal
    quantity: int


@dataclass(frozen=True)
class VoucherTerms:
    """An order voucher as it applies to one currency: ``value`` is the percentage (0-100]
    of a percentage voucher, the amount of a fixed one."""

    kind: str
    value: Decimal
    code: str = ""


@dataclass(frozen=True)
class ShippingQuote:
    """A shipping method's price in the checkout's currency (gross when prices include tax);
    free when the discounted subtotal reaches ``free_over``."""

    price: Decimal
    free_over: Decimal | None = None
    name: str = ""


@dataclass(frozen=True)
class LineTotals:
    key: Hashable
    unit_price: Decimal
    quantity: int
    subtotal: Decimal  # round(unit_price * quantity), as listed
    discount: Decimal  # the line's share of the order voucher
    net: Decimal
    tax: Decimal
    gross: Decimal  # what the line costs after discount, tax included


@dataclass(frozen=True)
class ShippingTotals:
    net: Decimal
    tax: Decimal
    gross: Decimal
    free: bool  # free over the threshold (a quote of 0 is not "free")


@dataclass(frozen=True)
class Totals:
    currency: str
    prices_include_tax: bool
    tax_rate: Decimal
    lines: tuple[LineTotals, ...]
    subtotal: Decimal  # the lines' subtotals (gross when prices include tax)
    discount: Decimal
    shipping: ShippingTotals | None
    tax: Decimal  # lines' and shipping's
    total: Decimal  # what the customer pays

    @property
    def lines_tax(self) -> Decimal:
        return sum((line.tax for line in self.lines), ZERO)


def _check(lines: Sequence[PricedLine], tax_rate: Decimal, voucher: VoucherTerms | None) -> None:
    for line in lines:
        if isinstance(line.quantity, bool) or not isinstance(line.quantity, int):
            raise TypeError("a line's quantity is an int")
        if line.quantity < 1:
            raise ValueError("a line's quantity is at least 1")
        if not isinstance(line.unit_price, Decimal) or line.unit_price < 0:
            raise ValueError("a unit price is a non-negative Decimal")
    if not isinstance(tax_rate, Decimal) or tax_rate < 0:
        raise ValueError("the tax rate is a non-negative Decimal")
    if voucher is not None:
        if voucher.kind == VoucherKind.PERCENTAGE:
            if not ZERO < voucher.value <= HUNDRED:
                raise ValueError("a percentage is in (0, 100]")
        elif voucher.kind == VoucherKind.FIXED:
            if voucher.value < 0:
                raise ValueError("a fixed voucher's amount is not negative")
        else:
            raise ValueError(f"unknown voucher kind {voucher.kind!r}")


def lines_subtotal(lines: Sequence[PricedLine], currency: str) -> Decimal:
    """The sum of the lines' rounded amounts (what a voucher's minimum is judged on)."""
    return sum((round_amount(line.unit_price * line.quantity, currency) for line in lines), ZERO)


def order_discount(subtotal: Decimal, voucher: VoucherTerms | None, currency: str) -> Decimal:
    """The voucher's discount on ``subtotal``, rounded once, never more than the subtotal."""
    if voucher is None:
        return ZERO
    if voucher.kind == VoucherKind.PERCENTAGE:
        wanted = subtotal * voucher.value / HUNDRED
    else:
        wanted = voucher.value
    return min(round_amount(wanted, currency), subtotal)


def split_largest_remainder(
    amount: Decimal, weights: Sequence[Decimal], currency: str
) -> list[Decimal]:
    """``amount`` split over ``weights`` in proportion, in whole minor units, summing exactly
    to ``amount``: each part is floored, then the leftover units go one each to the parts
    with the largest remainders (the earlier part first on a tie). ``amount`` must not exceed
    the weights' sum, so no part exceeds its weight."""
    scale = 10 ** minor_unit(currency)
    units = int(amount * scale)
    unit_weights = [int(weight * scale) for weight in weights]
    total = sum(unit_weights)
    if units == 0 or total == 0:
        return [ZERO for _ in weights]
    if units > total:
        raise ValueError("cannot split more than the weights hold")
    shares = [divmod(units * weight, total) for weight in unit_weights]
    parts = [quotient for quotient, _remainder in shares]
    leftover = units - sum(parts)
    by_remainder = sorted(range(len(shares)), key=lambda index: (-shares[index][1], index))
    for index in by_remainder[:leftover]:
        parts[index] += 1
    step = Decimal(1).scaleb(-minor_unit(currency))
    return [Decimal(part) * step for part in parts]


def _taxed(amount: Decimal, *, rate: Decimal, inclusive: bool, currency: str):
    """(net, tax, gross) of an amount as listed."""
    if inclusive:
        tax = round_amount(amount - amount / (1 + rate), currency)
        return amount - tax, tax, amount
    tax = round_amount(amount * rate, currency)
    return amount, tax, amount + tax


def price_checkout(
    lines: Sequence[PricedLine],
    *,
    currency: str,
    prices_include_tax: bool,
    tax_rate: Decimal,
    voucher: VoucherTerms | None,
    shipping: ShippingQuote | None,
) -> Totals:
    """The checkout's totals; see the module's docstring for the rules."""
    _check(lines, tax_rate, voucher)
    subtotals = [round_amount(line.unit_price * line.quantity, currency) for line in lines]
    subtotal = lines_subtotal(lines, currency)
    discount = order_discount(subtotal, voucher, currency)
    discounts = split_largest_remainder(discount, subtotals, currency)
    priced: list[LineTotals] = []
    for line, line_subtotal, line_discount in zip(lines, subtotals, discounts, strict=True):
        net, tax, gross = _taxed(
            line_subtotal - line_discount,
            rate=tax_rate,
            inclusive=prices_include_tax,
            currency=currency,
        )
        priced.append(
            LineTotals(
                key=line.key, unit_price=line.unit_price, quantity=line.quantity,
                subtotal=line_subtotal, discount=line_discount, net=net, tax=tax, gross=gross,
            )
        )  # fmt: skip
    shipping_totals = None
    if shipping is not None:
        free = shipping.free_over is not None and subtotal - discount >= shipping.free_over
        price = ZERO if free else round_amount(shipping.price, currency)
        net, tax, gross = _taxed(
            price, rate=tax_rate, inclusive=prices_include_tax, currency=currency
        )
        shipping_totals = ShippingTotals(net=net, tax=tax, gross=gross, free=free)
    lines_tax = sum((line.tax for line in priced), ZERO)
    lines_gross = sum((line.gross for line in priced), ZERO)
    shipping_tax = shipping_totals.tax if shipping_totals else ZERO
    shipping_gross = shipping_totals.gross if shipping_totals else ZERO
    return Totals(
        currency=currency,
        prices_include_tax=prices_include_tax,
        tax_rate=tax_rate,
        lines=tuple(priced),
        subtotal=subtotal,
        discount=discount,
        shipping=shipping_totals,
        tax=lines_tax + shipping_tax,
        total=lines_gross + shipping_gross,
    )
