"""The payment provider interface, the card details a provider is given, and the registry.

A provider turns a ``ChargeRequest`` into a ``ChargeResult`` and never raises for a
payment that did not go through: a declined card, a gateway that timed out or a breaker
that is open are outcomes, which the payment service records and then turns into typed
errors. Card details live only in memory for the length of one charge; what may be kept
(the last four digits and the brand) is in ``CardDetails.last4`` and ``CardDetails.brand``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from ..errors import CommerceInvalid
from ..models import PaymentOutcome
from .cards import card_brand, luhn_valid, normalize_card_number

Outcome = PaymentOutcome


# -- card details -------------------------------------------------------------------------

CARD_DIGITS = re.compile(r"\d{12,19}")


@dataclass(frozen=True)
class CardDetails:
    """A card as the shopper typed it, cleaned by ``clean_card``. Never stored, never logged:
    ``repr`` shows only the last four digits."""

    number: str = field(repr=False)
    exp_month: int
    exp_year: int
    cvc: str = field(repr=False)
    holder: str = ""

    @property
    def last4(self) -> str:
        return self.number[-4:]

    @property
    def brand(self) -> str:
        return card_brand(self.number)

    def __repr__(self) -> str:
        return f"CardDetails(brand={self.brand!r}, last4={self.last4!r})"


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def clean_card(card: Any, *, today: date | None = None) -> CardDetails:
    """``card`` (a ``CardDetails`` or a mapping with ``number``, ``exp_month``, ``exp_year``,
    ``cvc`` and ``holder``) checked and normalized: a Luhn-valid number of 12 to 19 digits,
    an expiry that has not passed (two-digit years are this century's), a CVC of 3 or 4
    digits. ``CommerceInvalid`` names every field that is wrong (``card.number``, ...).
    """
    if isinstance(card, CardDetails):
        card = {
            name: getattr(card, name)
            for name in ("number", "exp_month", "exp_year", "cvc", "holder")
        }
    if not isinstance(card, dict):
        raise CommerceInvalid({"card": _("card details are required for this payment method")})
    errors: dict[str, str] = {}
    number = normalize_card_number(card.get("number"))
    if not CARD_DIGITS.fullmatch(number) or not luhn_valid(number):
        errors["card.number"] = _("this is not a valid card number")
    month, year = _int_or_none(card.get("exp_month")), _int_or_none(card.get("exp_year"))
    if month is None or not 1 <= month <= 12:
        errors["card.exp_month"] = _("give the expiry month as a number from 1 to 12")
    if year is not None and year < 100:
        year += 2000
    if year is None or not 2000 <= year <= 2099:
        errors["card.exp_year"] = _("give the expiry year as four digits")
    elif "card.exp_month" not in errors:
        today = today or date.today()
        if (year, month) < (today.year, today.month):
            errors["card.exp_year"] = _("the card has expired")
    cvc = card.get("cvc")
    cvc = cvc.strip() if isinstance(cvc, str) else ""
    if not re.fullmatch(r"\d{3,4}", cvc):
        errors["card.cvc"] = _("the security code is 3 or 4 digits")
    holder = card.get("holder") or ""
    if not isinstance(holder, str) or len(holder) > 100:
        errors["card.holder"] = _("the card holder's name is at most 100 characters")
    if errors:
        raise CommerceInvalid(errors)
    return CardDetails(
        number=number, exp_month=month, exp_year=year, cvc=cvc, holder=holder.strip()
    )


# -- requests and results -------------------------------------------------------------------


@dataclass(frozen=True)
class ChargeRequest:
    reference: str  # the checkout's reference
    amount: Decimal
    currency: str
    idempotency_key: str
    card: CardDetails | None = None


@dataclass(frozen=True)
class RefundRequest:
    reference: str
    charge_reference: str  # the provider's reference of the charge being refunded
    amount: Decimal
    currency: str
    idempotency_key: str


@dataclass(frozen=True)
class ChargeResult:
    """A provider's answer. ``message`` is for the shopper (translated); ``error_code`` is a
    stable identifier (``card_declined``, ``timeout``, ``unavailable``, ...)."""

    outcome: str
    provider_reference: str = ""
    message: str = ""
    error_code: str = ""


class PaymentProvider:
    """A way to pay. Subclasses set ``code`` and ``label`` and implement ``charge`` and
    ``lookup``; those that can give money back set ``refunds`` and implement ``refund``."""

    code: str = ""
    label: Any = ""
    needs_card: bool = False
    refunds: bool = False
    remote: bool = True  # it calls a service outside the shop (never inside a transaction)

    def charge(self, request: ChargeRequest) -> ChargeResult:
        raise NotImplementedError

    def refund(self, request: RefundRequest) -> ChargeResult:
        raise NotImplementedError

    def lookup(self, reference: str, idempotency_key: str) -> ChargeResult | None:
        """What became of the charge of the checkout ``reference`` sent with
        ``idempotency_key`` whose answer never came (a timeout, an outage, a crash).

        ``None``: the provider has no such charge (it never arrived); an ``approved`` or
        ``declined`` result: the provider's answer to it, with its reference; ``failed``: the
        provider cannot tell now (it cannot be reached, or the charge is still being worked
        on), so the outcome is still unknown. Like ``charge`` it never raises for those.
        """
        raise NotImplementedError


# -- registry -----------------------------------------------------------------------------

_providers: dict[str, PaymentProvider] = {}


def register(provider: PaymentProvider) -> PaymentProvider:
    _providers[provider.code] = provider
    return provider


def providers() -> list[PaymentProvider]:
    """The providers this deployment enables (``settings.PAYMENT_PROVIDERS``), in that order."""
    _load()
    return [_providers[code] for code in settings.PAYMENT_PROVIDERS if code in _providers]


def provider(code: object) -> PaymentProvider:
    """The enabled provider ``code``; ``CommerceInvalid`` (400) for any other."""
    found = next((item for item in providers() if item.code == code), None)
    if found is None:
        raise CommerceInvalid({"provider": _("this payment method is not available")})
    return found


def registered_provider(code: str) -> PaymentProvider | None:
    """The provider ``code``, enabled or not (an earlier attempt's may be disabled since)."""
    _load()
    return _providers.get(code)


def _load() -> None:
    # The providers register themselves on import; imported here to keep base import-free.
    from . import manual, test_card  # noqa: F401
