"""Prices as readers see them: formatting per locale, the currency a reader shops in."""

from decimal import Decimal

import pytest
from django.test import RequestFactory
from django_tenants.utils import schema_context

from apps.storefront.shop_money import (
    CURRENCY_COOKIE,
    format_money,
    reader_currency,
    remember_currency,
)
from tests.index.shop import shop

NBSP = "\xa0"


@pytest.mark.parametrize(
    ("amount", "currency", "locale", "expected"),
    [
        ("1234.50", "EUR", "de", f"1.234,50{NBSP}€"),
        ("1234.50", "EUR", "en", "€1,234.50"),
        ("1234.5", "USD", "en", "$1,234.50"),
        ("1234", "JPY", "de", f"1.234{NBSP}¥"),
        ("1.005", "USD", "en", "$1.01"),  # half-up to the minor unit, not half-even
        ("0.125", "EUR", "de", f"0,13{NBSP}€"),
        ("10", "USD", "pt-br", f"US${NBSP}10,00"),
        ("10", "USD", "xx", "$10.00"),  # an unknown locale: English conventions
    ],
)
def test_format_money(amount, currency, locale, expected):
    assert format_money(Decimal(amount), currency, locale) == expected


def test_format_money_refuses_floats():
    with pytest.raises(TypeError):
        format_money(10.5, "USD", "en")


@pytest.fixture
def store(acme):
    with schema_context("acme"):
        shop(("EUR", "USD", "JPY"))
        yield


def _currency(query: str = "", cookie: str | None = None):
    request = RequestFactory().get(f"/shop/{query}")
    if cookie is not None:
        request.COOKIES[CURRENCY_COOKIE] = cookie
    return request, reader_currency(request)


@pytest.mark.parametrize(
    ("query", "cookie", "expected"),
    [
        ("", None, "EUR"),  # the store's default
        ("?currency=USD", None, "USD"),
        ("?currency=jpy", None, "JPY"),  # case does not matter
        ("?currency=GBP", None, "EUR"),  # not enabled: ignored
        ("?currency=%00%27", None, "EUR"),  # junk: ignored
        ("", "USD", "USD"),  # remembered
        ("", "GBP", "EUR"),  # a cookie naming a currency no longer sold: ignored
        ("?currency=JPY", "USD", "JPY"),  # the query wins over the cookie
        ("?currency=XYZ", "USD", "USD"),
    ],
)
def test_reader_currency(store, query, cookie, expected):
    assert _currency(query, cookie)[1] == expected


def test_a_chosen_currency_is_remembered_in_a_cookie(store, django_assert_num_queries):
    from django.http import HttpResponse

    with django_assert_num_queries(1):  # the store's settings, once per request
        request, currency = _currency("?currency=USD")
        assert reader_currency(request) == currency
    response = remember_currency(request, HttpResponse())
    assert response.cookies[CURRENCY_COOKIE].value == "USD"
    request, _currency_code = _currency("", cookie="USD")
    assert CURRENCY_COOKIE not in remember_currency(request, HttpResponse()).cookies
    request, _currency_code = _currency("?currency=GBP")
    assert CURRENCY_COOKIE not in remember_currency(request, HttpResponse()).cookies
