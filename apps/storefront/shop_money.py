"""Prices as readers see them: the currency a reader shops in, and amounts formatted for a locale.

A reader picks a currency with ``?currency=EUR`` (one of the store's enabled currencies);
the choice is remembered in the ``currency`` cookie (``remember_currency``, called by the
views that honour the choice) and used on the next pages; otherwise the store's default
currency. Anything else in the query string or the cookie is ignored, never an error.

Amounts are ``Decimal`` (never a float), rounded half-up to the currency's minor unit
(``apps.commerce.money``), then formatted by Babel with the locale's conventions:
``1.234,50 €`` in German, ``€1,234.50`` in English (Babel's spaces are non-breaking).
"""

from __future__ import annotations

from decimal import Decimal

from babel import Locale, UnknownLocaleError
from babel.numbers import format_currency
from django.http import HttpRequest, HttpResponse

from apps.commerce import selectors as commerce
from apps.commerce.money import round_amount

CURRENCY_PARAM = "currency"
CURRENCY_COOKIE = "currency"
CURRENCY_COOKIE_MAX_AGE = 365 * 24 * 3600
FALLBACK_LOCALE = "en"


def _babel_locale(locale: str) -> Locale:
    try:
        return Locale.parse((locale or FALLBACK_LOCALE).replace("_", "-"), sep="-")
    except (UnknownLocaleError, ValueError, TypeError):
        return Locale.parse(FALLBACK_LOCALE)


def format_money(amount: Decimal, currency: str, locale: str) -> str:
    """``amount`` of ``currency`` written as readers of ``locale`` expect it."""
    if isinstance(amount, float):
        raise TypeError("money is a Decimal, never a float")
    return format_currency(
        round_amount(Decimal(amount), currency), currency, locale=_babel_locale(locale)
    )


def shop_settings(request: HttpRequest):
    """The store's settings, read once per request (one query)."""
    memo = getattr(request, "_shop_settings", None)
    if memo is None:
        memo = commerce.store_settings()
        request._shop_settings = memo
    return memo


def enabled_currencies(request: HttpRequest) -> list[str]:
    """The currencies the store sells in, its default first."""
    settings_row = shop_settings(request)
    default = settings_row.default_currency
    return [default, *sorted(set(settings_row.enabled_currencies) - {default})]


def _enabled(code: object, enabled: list[str]) -> str | None:
    value = str(code or "").strip().upper()
    return value if value in enabled else None


def reader_currency(request: HttpRequest) -> str:
    """``?currency=`` when the store sells in it, else the reader's cookie's, else the default."""
    memo = getattr(request, "_reader_currency", None)
    if memo is not None:
        return memo
    enabled = enabled_currencies(request)
    asked = _enabled(request.GET.get(CURRENCY_PARAM), enabled)
    request._currency_chosen = asked is not None
    currency = asked or _enabled(request.COOKIES.get(CURRENCY_COOKIE), enabled) or enabled[0]
    request._reader_currency = currency
    return currency


def chosen_currency(request: HttpRequest) -> str | None:
    """The currency the reader chose (``?currency=`` or the cookie) when the store sells in
    it; None, without a query, when the reader chose none."""
    if not (request.GET.get(CURRENCY_PARAM) or request.COOKIES.get(CURRENCY_COOKIE)):
        return None
    currency = reader_currency(request)
    chosen = request._currency_chosen or request.COOKIES.get(CURRENCY_COOKIE) == currency
    return currency if chosen else None


def remember_currency(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """A currency chosen with ``?currency=`` sticks (the ``currency`` cookie)."""
    currency = reader_currency(request)
    if request._currency_chosen and request.COOKIES.get(CURRENCY_COOKIE) != currency:
        response.set_cookie(
            CURRENCY_COOKIE, currency, max_age=CURRENCY_COOKIE_MAX_AGE, samesite="Lax"
        )
    return response
