"""Money: Decimal amounts rounded half-up to the currency's minor unit, never a float."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps.commerce.money import (
    MAX_AMOUNT,
    MINOR_UNITS,
    Money,
    MoneyError,
    minor_unit,
    normalize_currency,
    parse_amount,
)
from apps.events.currencies import ISO_4217


@pytest.mark.parametrize(
    ("currency", "given", "stored"),
    [
        ("USD", "1.005", Decimal("1.01")),
        ("USD", "1.004", Decimal("1.00")),
        ("USD", "19.99", Decimal("19.99")),
        ("USD", "-1.005", Decimal("-1.01")),  # half away from zero, both signs
        ("USD", 7, Decimal("7.00")),
        ("JPY", "100.5", Decimal("101")),
        ("JPY", "100.49", Decimal("100")),
        ("JPY", "1500", Decimal("1500")),
        ("BHD", "1.0005", Decimal("1.001")),
        ("BHD", "1.0004", Decimal("1.000")),
        ("BHD", "2.5", Decimal("2.500")),
        ("KWD", Decimal("0.0015"), Decimal("0.002")),
        ("CLF", "1.00005", Decimal("1.0001")),
    ],
)
def test_amounts_round_half_up_to_the_minor_unit(currency, given, stored):
    amount = parse_amount(given, currency)
    assert amount == stored
    # The exponent is the currency's: "100" JPY is not "100.00".
    assert amount.as_tuple().exponent == -minor_unit(currency)


def test_minor_units_of_the_table_and_the_default():
    assert (minor_unit("JPY"), minor_unit("USD"), minor_unit("BHD")) == (0, 2, 3)
    assert minor_unit("KRW") == minor_unit("VND") == minor_unit("ISK") == minor_unit("CLP") == 0
    assert minor_unit("KWD") == minor_unit("JOD") == minor_unit("OMR") == minor_unit("TND") == 3
    assert set(MINOR_UNITS) <= ISO_4217


@pytest.mark.parametrize(
    "value",
    [1.5, float("nan"), True, "abc", "", "NaN", "Infinity", "-inf", None, [1], "1e20", MAX_AMOUNT],
)
def test_what_is_not_an_amount_is_refused(value):
    with pytest.raises(MoneyError):
        parse_amount(value, "USD")


def test_the_largest_amount_that_rounds_up_past_the_column_is_refused():
    with pytest.raises(MoneyError):
        parse_amount("99999999999999.995", "USD")
    assert parse_amount("99999999999999.994", "USD") == Decimal("99999999999999.99")


@pytest.mark.parametrize(("code", "normalized"), [("usd", "USD"), (" eur ", "EUR")])
def test_currency_codes_are_normalized(code, normalized):
    assert normalize_currency(code) == normalized


@pytest.mark.parametrize("code", ["", "US", "XYZ", "dollar", "XAU", "XXX", "XTS", None])
def test_unknown_and_untraded_codes_are_refused(code):
    with pytest.raises(MoneyError):
        normalize_currency(code)


def test_money_rounds_when_made():
    assert Money(Decimal("10.555"), "usd") == Money(Decimal("10.56"), "USD")
    assert str(Money(Decimal("3"), "BHD")) == "3.000 BHD"
    with pytest.raises(MoneyError):
        Money(1.5, "USD")  # type: ignore[arg-type]


@given(
    amount=st.decimals(min_value=0, max_value=10**12, allow_nan=False, allow_infinity=False),
    currency=st.sampled_from(["USD", "JPY", "BHD", "EUR", "KWD", "CLP"]),
)
def test_rounding_moves_an_amount_by_at_most_half_a_minor_unit(amount, currency):
    rounded = parse_amount(amount, currency)
    unit = Decimal(1).scaleb(-minor_unit(currency))
    assert abs(rounded - amount) <= unit / 2
    assert rounded.as_tuple().exponent == -minor_unit(currency)
    assert parse_amount(rounded, currency) == rounded  # idempotent
