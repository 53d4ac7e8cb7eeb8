"""The checkout's arithmetic (``apps.commerce.pricing``): exact examples, then properties
that hold for any cart, rate, voucher and shipping quote (hypothesis)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.commerce.money import minor_unit, round_amount
from apps.commerce.pricing import (
    PricedLine,
    ShippingQuote,
    VoucherTerms,
    price_checkout,
    split_largest_remainder,
)

D = Decimal


def _price(lines, *, currency="EUR", inclusive=True, rate="0.19", voucher=None, shipping=None):
    return price_checkout(
        lines,
        currency=currency,
        prices_include_tax=inclusive,
        tax_rate=D(rate),
        voucher=voucher,
        shipping=shipping,
    )


# -- examples ------------------------------------------------------------------------------


def test_inclusive_back_calculation_of_19_percent_on_9_99():
    totals = _price([PricedLine("a", D("9.99"), 1)])
    (line,) = totals.lines
    assert (line.gross, line.tax, line.net) == (D("9.99"), D("1.60"), D("8.39"))
    assert (totals.total, totals.tax) == (D("9.99"), D("1.60"))


def test_exclusive_tax_is_added_per_line():
    totals = _price([PricedLine("a", D("10.00"), 3)], inclusive=False)
    (line,) = totals.lines
    assert (line.net, line.tax, line.gross) == (D("30.00"), D("5.70"), D("35.70"))
    assert totals.total == D("35.70")


def test_half_a_cent_rounds_up():
    totals = _price([PricedLine("a", D("0.005"), 1)], currency="USD", rate="0")
    assert totals.lines[0].subtotal == D("0.01")
    # 0.05 at 10 % is 0.005 of tax: half-up, one cent.
    taxed = _price([PricedLine("a", D("0.05"), 1)], currency="USD", inclusive=False, rate="0.10")
    assert taxed.lines[0].tax == D("0.01")
    assert taxed.total == D("0.06")


def test_a_thousand_lines_of_a_tenth_of_a_cent_round_per_line():
    lines = [PricedLine(i, D("0.001"), 1) for i in range(1000)]
    # Rounded per line (each is 0.00 USD), not once on the sum (which would be 1.00).
    assert _price(lines, currency="USD", rate="0").total == D("0.00")
    # In a currency with three decimals each line is worth its 0.001.
    assert _price(lines, currency="BHD", rate="0").total == D("1.000")


def test_minor_units_of_jpy_and_bhd():
    yen = _price([PricedLine("a", D("999.5"), 1)], currency="JPY", inclusive=False, rate="0.10")
    assert (yen.subtotal, yen.lines[0].tax, yen.total) == (D("1000"), D("100"), D("1100"))
    dinar = _price([PricedLine("a", D("1.0005"), 1)], currency="BHD", rate="0")
    assert dinar.total == D("1.001")


def test_a_full_voucher_leaves_only_the_shipping():
    totals = _price(
        [PricedLine("a", D("19.99"), 2), PricedLine("b", D("5.00"), 1)],
        voucher=VoucherTerms("percentage", D("100")),
        shipping=ShippingQuote(D("4.90")),
    )
    assert totals.discount == totals.subtotal == D("44.98")
    assert all(line.gross == 0 and line.tax == 0 for line in totals.lines)
    assert totals.total == D("4.90")
    assert totals.tax == totals.shipping.tax == D("0.78")


def test_a_fixed_voucher_is_capped_at_the_subtotal():
    totals = _price([PricedLine("a", D("3.00"), 1)], voucher=VoucherTerms("fixed", D("10")))
    assert totals.discount == D("3.00")
    assert totals.total == D("0.00")


def test_percentage_discount_is_rounded_once_and_split_exactly():
    lines = [PricedLine(i, D("0.33"), 1) for i in range(3)]
    totals = _price(lines, voucher=VoucherTerms("percentage", D("50")))
    # 50 % of 0.99 is 0.495 -> 0.50 once for the order (three lines' 0.165 would give 0.51).
    assert totals.discount == D("0.50")
    assert [line.discount for line in totals.lines] == [D("0.17"), D("0.17"), D("0.16")]


def test_free_shipping_is_judged_on_the_discounted_subtotal():
    line = [PricedLine("a", D("55.00"), 1)]
    quote = ShippingQuote(D("4.90"), free_over=D("50.00"))
    assert _price(line, shipping=quote).shipping.free
    discounted = _price(line, shipping=quote, voucher=VoucherTerms("fixed", D("10")))
    assert not discounted.shipping.free
    assert discounted.shipping.gross == D("4.90")
    assert discounted.total == D("49.90")


def test_exclusive_shipping_is_taxed_like_a_line():
    totals = _price([], inclusive=False, shipping=ShippingQuote(D("5.00")))
    assert (totals.shipping.net, totals.shipping.tax, totals.shipping.gross) == (
        D("5.00"), D("0.95"), D("5.95"),
    )  # fmt: skip
    assert totals.total == D("5.95")


@pytest.mark.parametrize(
    ("lines", "kwargs"),
    [
        ([PricedLine("a", D("1"), 0)], {}),
        ([PricedLine("a", D("-1"), 1)], {}),
        ([], {"rate": "-0.1"}),
        ([], {"voucher": VoucherTerms("percentage", D("0"))}),
        ([], {"voucher": VoucherTerms("percentage", D("100.01"))}),
        ([], {"voucher": VoucherTerms("bogus", D("1"))}),
    ],
)
def test_impossible_inputs_are_refused(lines, kwargs):
    with pytest.raises(ValueError):
        _price(lines, **kwargs)


# -- properties ------------------------------------------------------------------------------

currencies = st.sampled_from(["USD", "EUR", "JPY", "BHD"])
amounts = st.decimals(min_value=0, max_value=100_000, places=4, allow_nan=False)
rates = st.decimals(min_value=0, max_value=D("0.5"), places=4, allow_nan=False)
line_lists = st.lists(
    st.builds(PricedLine, key=st.uuids(), unit_price=amounts, quantity=st.integers(1, 1000)),
    max_size=25,
)
vouchers = (
    st.none()
    | st.builds(
        VoucherTerms,
        kind=st.just("percentage"),
        value=st.decimals(min_value=D("0.01"), max_value=100, places=2),
    )
    | st.builds(VoucherTerms, kind=st.just("fixed"), value=amounts)
)
quotes = st.none() | st.builds(ShippingQuote, price=amounts, free_over=st.none() | amounts)


@settings(max_examples=300, deadline=None)
@given(
    lines=line_lists, currency=currencies, inclusive=st.booleans(), rate=rates,
    voucher=vouchers, shipping=quotes,
)  # fmt: skip
def test_parts_sum_to_the_totals_and_nothing_is_negative(
    lines, currency, inclusive, rate, voucher, shipping
):
    totals = price_checkout(
        lines, currency=currency, prices_include_tax=inclusive, tax_rate=rate,
        voucher=voucher, shipping=shipping,
    )  # fmt: skip
    exact = D(1).scaleb(-minor_unit(currency))
    ship = totals.shipping
    amounts_ = [totals.subtotal, totals.discount, totals.tax, totals.total]
    for line in totals.lines:
        amounts_ += [line.subtotal, line.discount, line.net, line.tax, line.gross]
        assert line.net + line.tax == line.gross
        assert line.subtotal - line.discount == (line.gross if inclusive else line.net)
        assert 0 <= line.discount <= line.subtotal
    if ship:
        amounts_ += [ship.net, ship.tax, ship.gross]
        assert ship.net + ship.tax == ship.gross
    assert all(amount >= 0 for amount in amounts_)
    assert all(amount == amount.quantize(exact) for amount in amounts_)  # minor units only
    assert totals.subtotal == sum((line.subtotal for line in totals.lines), D(0))
    assert totals.discount == sum((line.discount for line in totals.lines), D(0))
    assert 0 <= totals.discount <= totals.subtotal
    ship_tax, ship_gross = (ship.tax, ship.gross) if ship else (0, 0)
    assert totals.tax == sum((line.tax for line in totals.lines), D(0)) + ship_tax
    assert totals.total == sum((line.gross for line in totals.lines), D(0)) + ship_gross
    if voucher and voucher.kind == "percentage" and voucher.value == 100:
        assert totals.total == ship_gross
    if ship and shipping.free_over is not None:
        assert ship.free == (totals.subtotal - totals.discount >= shipping.free_over)


@given(
    amount_units=st.integers(0, 10**6),
    weights=st.lists(st.integers(0, 10**6), min_size=1, max_size=30),
    currency=currencies,
)
def test_largest_remainder_split_sums_exactly_and_stays_within_each_weight(
    amount_units, weights, currency
):
    step = D(1).scaleb(-minor_unit(currency))
    weights_ = [D(weight) * step for weight in weights]
    amount = min(D(amount_units) * step, sum(weights_, D(0)))
    parts = split_largest_remainder(amount, weights_, currency)
    assert sum(parts, D(0)) == amount
    assert all(0 <= part <= weight for part, weight in zip(parts, weights_, strict=True))
    total = sum(weights_, D(0))
    if total:
        # No part is a whole unit or more away from its exact proportional share.
        assert all(
            abs(part - amount * weight / total) < step
            for part, weight in zip(parts, weights_, strict=True)
        )


@given(gross=amounts, rate=rates, currency=currencies)
def test_inclusive_tax_is_the_rounded_back_calculation(gross, rate, currency):
    gross = round_amount(gross, currency)
    totals = price_checkout(
        [PricedLine("a", gross, 1)], currency=currency, prices_include_tax=True, tax_rate=rate,
        voucher=None, shipping=None,
    )  # fmt: skip
    assert totals.lines[0].tax == round_amount(gross - gross / (1 + rate), currency)
    assert totals.total == gross
