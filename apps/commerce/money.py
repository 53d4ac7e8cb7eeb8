"""Money: ``Decimal`` amounts with an ISO 4217 currency, never a float.

An amount is rounded half-up to its currency's minor unit when it comes in (1.005 USD is
1.01, 100.5 JPY is 101, 1.0005 BHD is 1.001): what is stored, published and shown is
always exactly what a payment can charge. pycountry knows the codes but not the minor
units, hence the table of the exponents that are not 2.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils.translation import gettext as _

from apps.events.currencies import ISO_4217

# Price columns keep four decimal places: the largest ISO 4217 minor unit in use (CLF, UYW).
AMOUNT_DIGITS = 18
AMOUNT_PLACES = 4

# ISO 4217 minor units other than 2 (list one, 2024).
MINOR_UNITS: dict[str, int] = {
    **dict.fromkeys(
        ["BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI",
         "VND", "VUV", "XAF", "XOF", "XPF"],
        0,
    ),
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
    **dict.fromkeys(["CLF", "UYW"], 4),
}  # fmt: skip
DEFAULT_MINOR_UNIT = 2
# Codes with no minor unit because they are not money one sells in: precious metals, fund
# and settlement units, the testing and "no currency" codes.
NOT_TRADED = frozenset(
    ["XAG", "XAU", "XBA", "XBB", "XBC", "XBD", "XDR", "XPD", "XPT", "XSU", "XTS", "XUA", "XXX"]
)
# The largest amount a price column holds (integer digits of the column).
MAX_AMOUNT = Decimal(10) ** (AMOUNT_DIGITS - AMOUNT_PLACES)


class MoneyError(ValueError):
    """An amount or currency that cannot be money; the message says why."""


def normalize_currency(code: object) -> str:
    """``code`` as an upper-case ISO 4217 code one can sell in; ``MoneyError`` otherwise."""
    value = str(code or "").strip().upper()
    if value not in ISO_4217:
        raise MoneyError(_("'%(code)s' is not an ISO 4217 currency code") % {"code": value})
    if value in NOT_TRADED:
        raise MoneyError(_("'%(code)s' is not a currency a shop can sell in") % {"code": value})
    return value


def minor_unit(currency: str) -> int:
    """How many decimal places ``currency`` has (JPY 0, USD 2, BHD 3)."""
    return MINOR_UNITS.get(currency, DEFAULT_MINOR_UNIT)


def round_amount(amount: Decimal, currency: str) -> Decimal:
    """``amount`` rounded half-up to ``currency``'s minor unit."""
    return amount.quantize(Decimal(1).scaleb(-minor_unit(currency)), rounding=ROUND_HALF_UP)


def parse_amount(value: object, currency: str) -> Decimal:
    """``value`` (a ``Decimal``, an ``int`` or a string) as an amount of ``currency``, rounded.

    Floats are refused (a float cannot hold 0.1), as are non-numbers, NaN, infinities and
    amounts too large for the price columns. The sign is left to the caller.
    """
    if isinstance(value, bool | float):
        raise MoneyError(_("give the amount as a decimal string, not a floating-point number"))
    if isinstance(value, int):
        value = Decimal(value)
    elif isinstance(value, str):
        try:
            value = Decimal(value.strip())
        except InvalidOperation:
            raise MoneyError(_("'%(value)s' is not a number") % {"value": value[:40]}) from None
    if not isinstance(value, Decimal):
        raise MoneyError(_("the amount must be a decimal number"))
    if not value.is_finite():
        raise MoneyError(_("the amount must be a finite number"))
    # Checked before rounding too: quantizing a huge number overflows the decimal context.
    if abs(value) >= MAX_AMOUNT or abs(rounded := round_amount(value, currency)) >= MAX_AMOUNT:
        raise MoneyError(_("the amount is too large"))
    return rounded


@dataclass(frozen=True)
class Money:
    """An amount of one currency, rounded to its minor unit when made."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        currency = normalize_currency(self.currency)
        object.__setattr__(self, "currency", currency)
        object.__setattr__(self, "amount", parse_amount(self.amount, currency))

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"
