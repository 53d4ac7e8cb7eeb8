"""The checkout's services: addresses per country, shipping availability, voucher rules and
their atomic use, totals, and holding the stock for the payment step."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.commerce import checkout as co
from apps.commerce.addresses import address_fields, clean_address, country_choices
from apps.commerce.checkout_selectors import shipping_options
from apps.commerce.errors import (
    CheckoutIncomplete,
    CommerceInvalid,
    OutOfStock,
    VoucherExhausted,
    VoucherNotApplicable,
)
from apps.commerce.models import (
    Cart,
    Checkout,
    Location,
    Product,
    Reservation,
    StockLevel,
    Voucher,
    VoucherUse,
)

from .checkout_factories import (
    GERMAN_ADDRESS,
    US_ADDRESS,
    eur_variant,
    make_cart,
    shipping_zone,
    stocked,
    tax,
    voucher,
)
from .concurrency import race
from .conftest import event_types, make_location

D = Decimal


@pytest.fixture
def checkout(acme_db):
    """A started checkout of a EUR cart: two shirts at 10.00 and a hat at 25.00."""
    shirt, hat = eur_variant("10.00", "Shirt"), eur_variant("25.00", "Hat")
    cart = make_cart((shirt, 2), (hat, 1))
    return co.checkout_start(cart_id=cart.pk)


def _ready(checkout, method=None) -> Checkout:
    """The checkout with an email, a German address and a shipping method."""
    method = method or shipping_zone()
    co.checkout_set_email(checkout_id=checkout.pk, email="erika@example.com")
    co.checkout_set_address(checkout_id=checkout.pk, address=GERMAN_ADDRESS)
    return co.checkout_set_shipping(checkout_id=checkout.pk, method_id=method.pk)


# -- addresses ---------------------------------------------------------------------------------


def test_a_german_address_is_valid_and_its_postal_code_checked():
    assert clean_address(GERMAN_ADDRESS)["postal_code"] == "51147"
    with pytest.raises(CommerceInvalid) as refused:
        clean_address({**GERMAN_ADDRESS, "postal_code": "5114"})
    assert set(refused.value.errors) == {"postal_code"}


def test_a_us_address_needs_a_state_and_is_normalized():
    cleaned = clean_address({**US_ADDRESS, "region": "ca", "country": "us"})
    assert (cleaned["region"], cleaned["country"]) == ("CA", "US")
    with pytest.raises(CommerceInvalid) as refused:
        clean_address({**US_ADDRESS, "region": ""})
    assert set(refused.value.errors) == {"region"}
    with pytest.raises(CommerceInvalid) as refused:
        clean_address({**US_ADDRESS, "region": "Narnia"})
    assert set(refused.value.errors) == {"region"}
    fields = {field.name: field for field in address_fields("US")}
    assert fields["region"].required and ("CA", "California") in fields["region"].choices


def test_a_british_postcode_is_normalized_and_checked():
    address = {"name": "A B", "street": "10 Downing St", "city": "London", "country": "GB"}
    assert clean_address({**address, "postal_code": "sw1a 2aa"})["postal_code"] == "SW1A 2AA"
    with pytest.raises(CommerceInvalid) as refused:
        clean_address({**address, "postal_code": "12345"})
    assert set(refused.value.errors) == {"postal_code"}


@pytest.mark.parametrize("country", ["XX", "", "DEU", None, 12])
def test_an_unknown_country_is_refused_on_the_country_field(country):
    with pytest.raises(CommerceInvalid) as refused:
        clean_address({**GERMAN_ADDRESS, "country": country})
    assert "country" in refused.value.errors


def test_required_fields_and_bad_types_are_named():
    with pytest.raises(CommerceInvalid) as refused:
        clean_address({"country": "DE", "city": ["x"], "name": "x" * 256})
    assert set(refused.value.errors) == {"city", "name", "street", "postal_code"}


def test_countries_are_listed_by_their_localized_names():
    german = country_choices("de")
    assert ("DE", "Deutschland") in german
    names = [name for _code, name in german]
    assert names.index("Ägypten") < names.index("Äthiopien") < names.index("Belgien")


# -- start, email, address ---------------------------------------------------------------------


def test_starting_twice_gives_the_same_checkout(checkout):
    again = co.checkout_start(cart_id=checkout.cart_id)
    assert again.pk == checkout.pk
    assert checkout.reservation_reference == f"checkout:{checkout.pk}"
    assert event_types(checkout.pk) == ["commerce.checkout.started"]


def test_an_empty_cart_cannot_start_a_checkout(acme_db):
    with pytest.raises(CheckoutIncomplete):
        co.checkout_start(cart_id=make_cart().pk)


def test_email_is_validated(checkout):
    with pytest.raises(CommerceInvalid) as refused:
        co.checkout_set_email(checkout_id=checkout.pk, email="not an email")
    assert set(refused.value.errors) == {"email"}
    co.checkout_set_email(checkout_id=checkout.pk, email=" erika@example.com ")
    co.checkout_set_email(checkout_id=checkout.pk, email="erika@example.com")  # unchanged
    checkout.refresh_from_db()
    assert (checkout.email, checkout.version) == ("erika@example.com", 2)
    assert event_types(checkout.pk).count("commerce.checkout.updated") == 1


def test_the_address_is_stored_cleaned_and_billing_defaults_to_it(checkout):
    co.checkout_set_address(checkout_id=checkout.pk, address={**GERMAN_ADDRESS, "city": " Köln "})
    checkout.refresh_from_db()
    assert checkout.shipping_address["city"] == "Köln"
    assert checkout.billing_address is None
    with pytest.raises(CommerceInvalid) as refused:
        co.checkout_set_address(
            checkout_id=checkout.pk, address=GERMAN_ADDRESS, billing_address={"country": "US"}
        )
    assert "billing.street" in refused.value.errors


# -- shipping ---------------------------------------------------------------------------------


def test_methods_offered_are_the_active_ones_of_the_countrys_zones_in_the_currency(acme_db):
    standard = shipping_zone(("DE", "AT"), method_name="Standard")
    shipping_zone(("DE",), name="Germany", method_name="Off", active=False)
    shipping_zone(("DE",), name="Dollars", method_name="Dollar only", currency="USD")
    shipping_zone(("US",), name="US", method_name="Overseas")
    assert [o.method.pk for o in shipping_options("DE", "EUR")] == [standard.pk]
    assert [o.method.name for o in shipping_options("DE", "USD")] == ["Dollar only"]
    assert shipping_options("FR", "EUR") == []


def test_shipping_needs_an_address_and_an_offered_method(checkout):
    standard = shipping_zone(("DE",))
    overseas = shipping_zone(("US",), name="US", method_name="Overseas")
    with pytest.raises(CheckoutIncomplete):
        co.checkout_set_shipping(checkout_id=checkout.pk, method_id=standard.pk)
    co.checkout_set_address(checkout_id=checkout.pk, address=GERMAN_ADDRESS)
    for bad in (overseas.pk, "x", 10**9):
        with pytest.raises(CommerceInvalid):
            co.checkout_set_shipping(checkout_id=checkout.pk, method_id=bad)
    co.checkout_set_shipping(checkout_id=checkout.pk, method_id=standard.pk)
    # Moving to a country the method does not serve drops it.
    co.checkout_set_address(checkout_id=checkout.pk, address=US_ADDRESS)
    checkout.refresh_from_db()
    assert checkout.shipping_method_id is None


# -- totals -------------------------------------------------------------------------------------


def test_totals_use_the_countrys_rate_the_method_and_the_voucher(checkout):
    tax("DE", "0.19")
    _ready(checkout, shipping_zone(price="4.90", free_over="100.00"))
    totals = co.checkout_totals(checkout.pk)
    assert (totals.subtotal, totals.shipping.gross, totals.total) == (
        D("45.00"), D("4.90"), D("49.90"),
    )  # fmt: skip
    # Prices include tax (the store's default): 19 % back-calculated per line.
    assert [line.tax for line in totals.lines] == [D("3.19"), D("3.99")]
    assert totals.tax == D("3.19") + D("3.99") + D("0.78")
    voucher("HALF", percentage="50")
    co.checkout_apply_voucher(checkout_id=checkout.pk, code="half")
    totals = co.checkout_totals(checkout.pk)
    assert (totals.discount, totals.total) == (D("22.50"), D("27.40"))
    co.checkout_remove_voucher(checkout_id=checkout.pk)
    assert co.checkout_totals(checkout.pk).discount == 0


def test_a_country_without_a_rate_pays_no_tax(checkout):
    tax("DE", "0.19")
    co.checkout_set_address(checkout_id=checkout.pk, address=US_ADDRESS)
    assert co.checkout_totals(checkout.pk).tax == 0


# -- vouchers -----------------------------------------------------------------------------------


def _refusal(checkout, code: str, **kwargs) -> str:
    with pytest.raises(VoucherNotApplicable) as refused:
        co.checkout_apply_voucher(checkout_id=checkout.pk, code=code, **kwargs)
    return str(refused.value)


def test_voucher_window_and_activity(checkout):
    now = timezone.now()
    voucher("LATER", starts_at=now + timedelta(days=1))
    voucher("OVER", starts_at=now - timedelta(days=2), ends_at=now - timedelta(days=1))
    voucher("OFF", active=False)
    assert "not valid yet" in _refusal(checkout, "LATER")
    assert "expired" in _refusal(checkout, "over")
    assert "not active" in _refusal(checkout, "OFF")
    assert "no voucher" in _refusal(checkout, "NOPE")
    voucher("NOW", starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=1))
    co.checkout_apply_voucher(checkout_id=checkout.pk, code="NOW")


def test_voucher_minimum_subtotal_and_currency(checkout):
    voucher("BIG", amounts=[("EUR", None, "45.01")])
    voucher("DOLLARS", kind="fixed", amounts=[("USD", "5.00")])
    assert "at least 45.01 EUR" in _refusal(checkout, "BIG")
    assert "cannot be used in EUR" in _refusal(checkout, "DOLLARS")
    voucher("JUST", kind="fixed", amounts=[("EUR", "5.00", "45.00")])
    co.checkout_apply_voucher(checkout_id=checkout.pk, code="JUST")
    assert co.checkout_totals(checkout.pk).discount == D("5.00")


def test_voucher_usage_limits_overall_and_per_customer(checkout):
    used_up = voucher("GONE", usage_limit=1)
    co.voucher_use_take(
        voucher_id=used_up.pk, checkout_reference="checkout:other", customer_id=None,
        email="someone@example.com",
    )  # fmt: skip
    assert "used up" in _refusal(checkout, "GONE")
    once = voucher("ONCE", per_customer_limit=1)
    co.voucher_use_take(
        voucher_id=once.pk, checkout_reference="checkout:earlier", customer_id=None,
        email="Erika@Example.com",
    )  # fmt: skip
    co.checkout_set_email(checkout_id=checkout.pk, email="erika@example.com")
    assert "already used" in _refusal(checkout, "ONCE")
    with pytest.raises(VoucherExhausted):
        co.voucher_use_take(
            voucher_id=once.pk, checkout_reference=checkout.reservation_reference,
            customer_id=None, email="erika@example.com",
        )  # fmt: skip
    # The refused take counted nothing.
    once.refresh_from_db()
    assert once.used_count == 1


def test_voucher_use_take_counts_once_per_order_and_publishes(checkout):
    code = voucher("TWICE", usage_limit=2)
    use = co.voucher_use_take(
        voucher_id=code.pk, checkout_reference="checkout:a", customer_id=None, email="a@b.de"
    )
    with pytest.raises(VoucherExhausted):  # the same order again
        co.voucher_use_take(
            voucher_id=code.pk, checkout_reference="checkout:a", customer_id=None, email="a@b.de"
        )
    code.refresh_from_db()
    assert (code.used_count, use.email) == (1, "a@b.de")
    assert event_types(code.pk) == [
        "commerce.voucher.saved",
        "commerce.voucher.used",
    ]


def test_a_lapsed_voucher_is_not_taken(acme_db):
    code = voucher("LAPSED")
    Voucher.objects.filter(pk=code.pk).update(ends_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(VoucherNotApplicable):
        co.voucher_use_take(
            voucher_id=code.pk, checkout_reference="checkout:x", customer_id=None, email="a@b.de"
        )


@pytest.fixture
def committed_voucher(live_db):
    with schema_context("acme"):
        code = voucher("LAST-ONE", usage_limit=5)
        Voucher.objects.filter(pk=code.pk).update(used_count=4)
    yield code
    with schema_context("acme"):
        VoucherUse.objects.filter(voucher=code).delete()
        Voucher.objects.filter(pk=code.pk).delete()
    connection.set_schema_to_public()


def test_ten_orders_race_for_the_last_use_and_exactly_one_gets_it(committed_voucher):
    def take(index: int):
        return co.voucher_use_take(
            voucher_id=committed_voucher.pk, checkout_reference=f"checkout:race-{index}",
            customer_id=None, email=f"buyer{index}@example.com",
        ).checkout_reference  # fmt: skip

    outcomes = race([lambda index=index: take(index) for index in range(10)])
    assert sorted(outcome[0] for outcome in outcomes) == ["ok"] + ["refused"] * 9, outcomes
    assert {outcome[1] for outcome in outcomes if outcome[0] == "refused"} == {"VoucherExhausted"}
    with schema_context("acme"):
        committed_voucher.refresh_from_db()
        assert committed_voucher.used_count == 5
        assert VoucherUse.objects.filter(voucher=committed_voucher).count() == 1


@pytest.fixture
def committed_customer_voucher(live_db):
    """A customer, and a voucher each customer may use once (ten uses in all), committed."""
    from django.contrib.auth import get_user_model

    with schema_context("acme"):
        customer = get_user_model().objects.create_user(
            username="once@example.com", email="once@example.com", password="pw-once-12345"
        )
        code = voucher("ONCE-EACH", usage_limit=10, per_customer_limit=1)
    yield code, customer
    with schema_context("acme"):
        VoucherUse.objects.filter(voucher=code).delete()
        Voucher.objects.filter(pk=code.pk).delete()
        customer.delete()
    connection.set_schema_to_public()


def test_two_checkouts_of_one_customer_race_for_their_one_use_and_exactly_one_gets_it(
    committed_customer_voucher,
):
    code, customer = committed_customer_voucher

    def take(index: int, email: str):
        # Each checkout gives its own email: the account is what counts.
        return co.voucher_use_take(
            voucher_id=code.pk, checkout_reference=f"checkout:mine-{index}",
            customer_id=customer.pk, email=email,
        ).checkout_reference  # fmt: skip

    emails = ["once@example.com", "once.at.work@example.com"]
    outcomes = race([lambda i=i, email=email: take(i, email) for i, email in enumerate(emails)])
    assert sorted(outcome[0] for outcome in outcomes) == ["ok", "refused"], outcomes
    assert ("refused", "VoucherExhausted") in outcomes
    with schema_context("acme"):
        code.refresh_from_db()
        assert code.used_count == 1
        assert VoucherUse.objects.filter(voucher=code, customer=customer).count() == 1


# -- holding the stock ---------------------------------------------------------------------------


def _held(checkout) -> dict[tuple[str, str], int]:
    rows = Reservation.objects.filter(reference=checkout.reservation_reference)
    return {(r.variant.sku, r.location.code): r.quantity for r in rows.select_related()}


def test_reserving_splits_a_line_over_the_locations_with_most_available(checkout):
    shirt, hat = (line.variant for line in checkout.cart.lines.order_by("created_at", "id"))
    stocked(shirt, north=1, south=1)
    stocked(hat, north=5, south=7)
    stocked(hat, closed=50)
    Location.objects.filter(code="closed").update(active=False)
    with pytest.raises(CheckoutIncomplete):
        co.checkout_reserve(checkout_id=checkout.pk)
    _ready(checkout)
    held_checkout, made = co.checkout_reserve(checkout_id=checkout.pk)
    assert _held(checkout) == {
        (shirt.sku, "north"): 1, (shirt.sku, "south"): 1, (hat.sku, "south"): 1,
    }  # fmt: skip
    assert held_checkout.reserved_until == made[0].expires_at
    assert (
        timedelta(minutes=14)
        < held_checkout.reserved_until - timezone.now()
        <= timedelta(minutes=15)
    )
    assert "commerce.checkout.reserved" in event_types(checkout.pk)


def test_re_reserving_releases_the_previous_reservation_first(checkout):
    shirt, hat = (line.variant for line in checkout.cart.lines.order_by("created_at", "id"))
    stocked(shirt, main=2)
    stocked(hat, main=1)
    _ready(checkout)
    co.checkout_reserve(checkout_id=checkout.pk)
    # All the stock is held by this checkout: reserving again must not count it against us.
    co.checkout_reserve(checkout_id=checkout.pk)
    assert _held(checkout) == {(shirt.sku, "main"): 2, (hat.sku, "main"): 1}
    assert sorted(StockLevel.objects.values_list("reserved", flat=True)) == [1, 2]


def test_reserving_more_than_is_available_holds_nothing(checkout):
    shirt, hat = (line.variant for line in checkout.cart.lines.order_by("created_at", "id"))
    stocked(shirt, north=1, south=0)
    stocked(hat, north=1)
    _ready(checkout)
    with pytest.raises(OutOfStock) as refused:
        co.checkout_reserve(checkout_id=checkout.pk)
    assert shirt.sku in str(refused.value)
    assert not Reservation.objects.exists()
    assert set(StockLevel.objects.values_list("reserved", flat=True)) == {0}


def test_a_variant_that_may_oversell_is_reserved_without_stock(acme_db):
    free = eur_variant("3.00", tracked=False)
    stocked(free, main=0)
    cart = make_cart((free, 5))
    checkout = _ready(co.checkout_start(cart_id=cart.pk))
    co.checkout_reserve(checkout_id=checkout.pk)
    assert _held(checkout) == {(free.sku, "main"): 5}


def test_a_variant_that_sells_without_stock_needs_no_stock_row(acme_db):
    """A subscription (untracked, never stocked) is held at the first active location."""
    make_location("closed", "Closed", active=False)
    first = make_location("first", "First")
    make_location("second", "Second")
    subscription = eur_variant("9.00", "Subscription", tracked=False)
    tracked_one = eur_variant("4.00", "Poster")
    cart = make_cart((subscription, 1))
    checkout = _ready(co.checkout_start(cart_id=cart.pk))
    co.checkout_reserve(checkout_id=checkout.pk)
    assert _held(checkout) == {(subscription.sku, "first"): 1}
    assert StockLevel.objects.get(variant=subscription).location_id == first.pk
    never_stocked = _ready(co.checkout_start(cart_id=make_cart((tracked_one, 1)).pk))
    with pytest.raises(OutOfStock):
        co.checkout_reserve(checkout_id=never_stocked.pk)


def test_checkouts_are_per_tenant(checkout, globex):
    with schema_context("globex"):
        assert not Cart.objects.exists()
        with pytest.raises(Exception) as refused:
            co.checkout_set_email(checkout_id=checkout.pk, email="x@example.com")
        assert type(refused.value).__name__ == "CheckoutNotFound"
    assert Product.objects.count() == 2
