"""The storefront's cart and checkout API (``/api/v1/commerce/carts/``): a headless purchase
from a new cart to a placed order, addressed by the cart's token alone.

Paying runs outside any transaction (the payment services refuse one), so the purchases
work on committed data (``placing`` of the placement tests: the fake card gateway on a free
port, the tables wiped afterwards); the rest runs in the test's transaction.
"""

from __future__ import annotations

import json
import re
import socket
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.commerce import services
from apps.commerce.models import Cart, Checkout, Order, OrderStatus, Reservation, StockLevel
from apps.commerce.models import Voucher as VoucherRow
from apps.tenancy.models import Tenant
from tests.commerce.checkout_factories import (
    GERMAN_ADDRESS,
    US_ADDRESS,
    eur_variant,
    shipping_zone,
    stocked,
    tax,
    voucher,
)
from tests.commerce.concurrency import race
from tests.commerce.conftest import CURRENCIES
from tests.commerce.test_placement import DECLINED, VISA, placing  # noqa: F401
from tests.factories import UserFactory

from .conftest import assert_problem, login_as

JSON = "application/json"
CARTS = "/api/v1/commerce/carts/"


def _post(client: Client, url: str, body=None, **extra):
    return client.post(url, json.dumps(body or {}), content_type=JSON, **extra)


def _patch(client: Client, url: str, body, **extra):
    return client.patch(url, json.dumps(body), content_type=JSON, **extra)


def on_sale(amount: str = "10.00", title: str = "Linen shirt", *, stock: int = 5, **fields):
    """A variant of an active product, priced in EUR and USD, with ``stock`` units (in acme)."""
    with schema_context("acme"):
        variant = eur_variant(amount, title, **fields)
        stocked(variant, main=stock)
        services.product_transition(product_id=variant.product_id, action="activate")
    return variant


def new_cart(client: Client, currency: str = "EUR", locale: str = "en") -> str:
    response = _post(client, CARTS, {"currency": currency, "locale": locale})
    assert response.status_code == 201, response.content
    return response.json()["token"]


def add(client: Client, token: str, variant, quantity: int = 1):
    return _post(
        client, f"{CARTS}{token}/lines/", {"variant": str(variant.pk), "quantity": quantity}
    )


@pytest.fixture
def shop(acme):
    """acme in English and German, selling in USD (default), EUR, JPY and BHD; 19 % VAT in
    Germany, one shipping method for DE and AT."""
    Tenant.objects.filter(pk=acme.pk).update(enabled_locales=["en", "de"])
    with schema_context("acme"):
        services.store_settings_update(default_currency="USD", enabled_currencies=CURRENCIES)
        tax("DE", "0.19")
        method = shipping_zone(price="4.90", free_over="100.00")
    return method


# -- carts -----------------------------------------------------------------------------------


def test_a_new_cart_shows_its_token_and_lines_with_titles_prices_and_flags(acme_client, shop):
    shirt = on_sale("19.90", "Linen shirt", stock=10)
    with schema_context("acme"):
        services.product_update(
            product_id=shirt.product_id, translations={"de": {"title": "Leinenhemd"}}
        )
    token = new_cart(acme_client, "EUR", "de")
    assert add(acme_client, token, shirt, 2).status_code == 200
    body = add(acme_client, token, shirt, 1).json()  # the same line, one more
    assert body["token"] == token and body["currency"] == "EUR" and body["locale"] == "de"
    (line,) = body["lines"]
    assert line["variant"] == str(shirt.pk) and line["quantity"] == 3
    assert (line["product_title"], line["variant_title"], line["sku"]) == (
        "Leinenhemd",
        "",
        shirt.sku,
    )
    assert (line["unit_price"], line["total"]) == ("19.90", "59.70")
    assert line["availability"] == "ok" and line["purchasable"] and line["available"] == 10
    assert body["subtotal"] == "59.70" and body["count"] == 3 and body["can_checkout"] is True
    assert acme_client.get(f"{CARTS}{token}/").json() == body


def test_a_german_carts_refusals_are_in_german(acme_client, shop):
    scarce = on_sale(stock=2)
    token = new_cart(acme_client, "EUR", "de")
    body = assert_problem(add(acme_client, token, scarce, 3), 409, "out_of_stock")
    assert body["detail"] == "Nur noch 2 übrig."
    body = assert_problem(
        _patch(acme_client, f"{CARTS}{token}/lines/{scarce.pk}/", {"quantity": "x"}), 400
    )
    assert body["errors"] == {"quantity": ["Geben Sie eine ganze Zahl ein."]}
    # The next request (of an English cart) is in English again.
    english = new_cart(acme_client, "EUR", "en")
    assert assert_problem(add(acme_client, english, scarce, 3), 409)["detail"] == "Only 2 left."


def test_a_cart_defaults_to_the_stores_currency_and_the_sites_first_locale(acme_client, shop):
    body = _post(acme_client, CARTS).json()
    assert (body["currency"], body["locale"], body["lines"]) == ("USD", "en", [])
    assert body["can_checkout"] is False


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"currency": "CHF"}, "currency"),  # not one of the store's
        ({"currency": "E1R"}, "currency"),
        ({"locale": "fr"}, "locale"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_cart_with_a_currency_or_locale_the_store_lacks_is_refused(
    acme_client, shop, payload, field
):
    body = assert_problem(_post(acme_client, CARTS, payload), 400)
    assert list(body["errors"]) == [field]


def test_lines_change_and_go(acme_client, shop):
    shirt, mug = on_sale("10.00", "Shirt"), on_sale("5.00", "Mug")
    token = new_cart(acme_client)
    add(acme_client, token, shirt, 1)
    add(acme_client, token, mug, 2)
    body = _patch(acme_client, f"{CARTS}{token}/lines/{shirt.pk}/", {"quantity": 4}).json()
    assert [(line["variant"], line["quantity"]) for line in body["lines"]] == [
        (str(shirt.pk), 4),
        (str(mug.pk), 2),
    ]
    body = _patch(acme_client, f"{CARTS}{token}/lines/{shirt.pk}/", {"quantity": 0}).json()
    assert [line["variant"] for line in body["lines"]] == [str(mug.pk)]
    assert acme_client.delete(f"{CARTS}{token}/lines/{mug.pk}/").status_code == 204
    assert acme_client.get(f"{CARTS}{token}/").json()["lines"] == []
    # Gone already: a 404, as for a variant never in the cart or no variant id at all.
    for variant in (mug.pk, shirt.pk, "not-a-uuid"):
        assert_problem(acme_client.delete(f"{CARTS}{token}/lines/{variant}/"), 404)
    assert_problem(
        _patch(acme_client, f"{CARTS}{token}/lines/{mug.pk}/", {"quantity": 1}),
        404,
        "cart_line_not_found",
    )


@pytest.mark.parametrize("quantity", [0, -1, "x", 1.5, None, 100])
def test_a_bad_quantity_is_a_400_on_the_field(acme_client, shop, quantity):
    shirt = on_sale()
    token = new_cart(acme_client)
    body = assert_problem(
        _post(
            acme_client, f"{CARTS}{token}/lines/", {"variant": str(shirt.pk), "quantity": quantity}
        ),
        400,
    )
    assert list(body["errors"]) == ["quantity"]


@pytest.mark.parametrize("variant", ["00000000-0000-4000-8000-000000000000", "not-a-uuid", 7, None])
def test_an_unknown_variant_is_a_400_naming_the_field(acme_client, shop, variant):
    token = new_cart(acme_client)
    body = assert_problem(
        _post(acme_client, f"{CARTS}{token}/lines/", {"variant": variant, "quantity": 1}), 400
    )
    assert list(body["errors"]) == ["variant"]


def test_the_cart_refuses_what_cannot_be_sold_with_a_409(acme_client, shop):
    scarce = on_sale(stock=2)
    with schema_context("acme"):
        draft = eur_variant("3.00", "Draft")
    token = new_cart(acme_client)
    body = assert_problem(add(acme_client, token, scarce, 3), 409, "out_of_stock")
    assert "2" in body["detail"]
    assert_problem(add(acme_client, token, draft, 1), 409, "product_unavailable")
    jpy = new_cart(acme_client, "JPY")
    assert_problem(add(acme_client, jpy, scarce, 1), 409, "not_priced")


@pytest.mark.parametrize(
    "token", ["00000000-0000-4000-8000-000000000000", "not-a-token", "1" * 300, "%00"]
)
def test_an_unknown_or_malformed_token_is_a_404(acme_client, shop, token):
    for response in (
        acme_client.get(f"{CARTS}{token}/"),
        acme_client.get(f"{CARTS}{token}/checkout/"),
        _post(acme_client, f"{CARTS}{token}/checkout/reserve/"),
    ):
        assert_problem(response, 404)


def test_a_customers_cart_is_not_reachable_by_its_token(acme_client, shop):
    with schema_context("acme"):
        customer = UserFactory(email="shopper@example.test")
        cart = Cart.objects.create(currency="EUR", customer=customer)
    assert_problem(acme_client.get(f"{CARTS}{cart.token}/"), 404, "cart_not_found")


def test_a_token_of_acme_is_unknown_on_globex(acme_client, globex_client, shop):
    shirt = on_sale()
    token = new_cart(acme_client)
    add(acme_client, token, shirt)
    assert_problem(globex_client.get(f"{CARTS}{token}/"), 404, "cart_not_found")
    assert_problem(_patch(globex_client, f"{CARTS}{token}/lines/{shirt.pk}/", {"quantity": 0}), 404)
    assert_problem(globex_client.delete(f"{CARTS}{token}/lines/{shirt.pk}/"), 404)
    assert_problem(_patch(globex_client, f"{CARTS}{token}/checkout/", {}), 404)
    assert acme_client.get(f"{CARTS}{token}/").json()["count"] == 1


def test_flags_show_what_cannot_be_bought_as_it_is(acme_client, shop):
    fine, low, sold_out, archived = (
        on_sale("1.00", "Fine", stock=50),
        on_sale("1.00", "Low", stock=3, low_stock_threshold=5),
        on_sale("1.00", "Sold out", stock=4),
        on_sale("1.00", "Archived", stock=4),
    )
    token = new_cart(acme_client)
    for variant in (fine, low, sold_out, archived):
        add(acme_client, token, variant, 2)
    with schema_context("acme"):
        stocked(sold_out, main=0)
        services.product_transition(product_id=archived.product_id, action="archive")
    body = acme_client.get(f"{CARTS}{token}/").json()
    flags = {line["variant"]: (line["availability"], line["purchasable"]) for line in body["lines"]}
    assert flags == {
        str(fine.pk): ("ok", True),
        str(low.pk): ("low", True),
        str(sold_out.pk): ("out_of_stock", False),
        str(archived.pk): ("unavailable", False),
    }
    assert body["subtotal"] == "4.00" and body["can_checkout"] is False


def test_no_login_and_no_csrf_token_are_needed_even_with_a_staff_session(acme, shop):
    shirt = on_sale()
    strict = Client(HTTP_HOST="acme.localhost", enforce_csrf_checks=True)
    login_as(strict, "acme", email="editor@acme.test", perms=())
    token = new_cart(strict)
    assert add(strict, token, shirt).status_code == 200
    assert (
        _patch(strict, f"{CARTS}{token}/checkout/", {"email": "a@example.com"}).status_code == 200
    )


def test_a_body_past_the_cap_is_a_413(acme_client, shop):
    token = new_cart(acme_client)
    huge = {"email": "a@example.com", "shipping_address": {"name": "x" * 40_000}}
    assert_problem(_patch(acme_client, f"{CARTS}{token}/checkout/", huge), 413, "payload_too_large")


# -- query counts ----------------------------------------------------------------------------


@pytest.mark.parametrize("lines", [1, 20])
def test_reading_a_cart_costs_the_same_queries_for_1_and_20_lines(
    acme_client, shop, lines, django_assert_num_queries
):
    token = new_cart(acme_client)
    with schema_context("acme"):
        variants = [eur_variant("2.00", f"Item {n}") for n in range(lines)]
        for variant in variants:
            stocked(variant, main=3)
            services.product_transition(product_id=variant.product_id, action="activate")
    for variant in variants:
        add(acme_client, token, variant)
    with django_assert_num_queries(GET_CART_QUERIES):
        body = acme_client.get(f"{CARTS}{token}/").json()
    assert len(body["lines"]) == lines and body["subtotal"] == f"{2 * lines}.00"


# The cart found by its token, then its lines with prices, stock, titles and images.
GET_CART_QUERIES = 2


# -- the checkout ----------------------------------------------------------------------------


def test_the_checkout_shows_methods_for_the_country_and_totals_with_tax_per_line(acme_client, shop):
    shirt = on_sale("10.00", "Shirt")
    token = new_cart(acme_client, "EUR", "de")
    add(acme_client, token, shirt, 3)
    url = f"{CARTS}{token}/checkout/"
    assert_problem(acme_client.get(url), 404, "checkout_not_found")
    body = _patch(acme_client, url, {"email": "erika@example.com"}).json()
    assert body["email"] == "erika@example.com" and body["shipping_methods"] == []
    body = _patch(
        acme_client, url, {"shipping_address": GERMAN_ADDRESS, "shipping_method": shop.pk}
    ).json()
    assert body["shipping_address"]["postal_code"] == "51147"
    assert body["billing_address"] is None
    assert body["shipping_methods"] == [
        {
            "id": shop.pk,
            "name": "Standard (de)",
            "price": "4.90",
            "free": False,
            "free_over": "100.00",
        }
    ]
    assert body["shipping_method"]["id"] == shop.pk
    totals = body["totals"]
    # Prices include 19 % VAT: 30.00 of goods hold 4.79 of tax, 4.90 of shipping 0.78.
    assert totals["lines"] == [
        {
            "variant": str(shirt.pk), "sku": shirt.sku, "product_title": "Shirt",
            "variant_title": "", "quantity": 3, "unit_price": "10.00", "subtotal": "30.00",
            "discount": "0.00", "tax": "4.79", "total": "30.00",
        }
    ]  # fmt: skip
    assert (totals["subtotal"], totals["shipping"], totals["shipping_tax"]) == (
        "30.00",
        "4.90",
        "0.78",
    )
    assert (totals["tax"], totals["total"], totals["tax_rate"]) == ("5.57", "34.90", "0.190000")
    assert acme_client.get(url).json() == body


def test_a_checkout_patch_with_a_bad_field_changes_nothing(acme_client, shop):
    shirt = on_sale()
    token = new_cart(acme_client)
    add(acme_client, token, shirt)
    url = f"{CARTS}{token}/checkout/"
    _patch(acme_client, url, {"email": "first@example.com"})
    body = assert_problem(
        _patch(
            acme_client,
            url,
            {
                "email": "second@example.com",
                "shipping_address": {**GERMAN_ADDRESS, "postal_code": "1"},
                "billing_address": {**GERMAN_ADDRESS, "country": "XX"},
            },
        ),
        400,
        "commerce_invalid",
    )
    assert set(body["errors"]) == {"shipping_address.postal_code", "billing_address.country"}
    body = assert_problem(
        _patch(acme_client, url, {"email": "second@example.com", "shipping_method": shop.pk}),
        409,
        "checkout_incomplete",
    )
    assert acme_client.get(url).json()["email"] == "first@example.com"
    body = assert_problem(
        _patch(
            acme_client,
            url,
            {"shipping_address": {**GERMAN_ADDRESS, "country": "US"}, "shipping_method": shop.pk},
        ),
        400,
    )
    assert list(body["errors"]) == ["shipping_address.region"]
    # A valid address, but the method is not offered there (the shop ships to DE and AT).
    body = assert_problem(
        _patch(acme_client, url, {"shipping_address": US_ADDRESS, "shipping_method": shop.pk}),
        400,
    )
    assert list(body["errors"]) == ["shipping_method"]
    assert acme_client.get(url).json()["shipping_address"] is None
    assert_problem(_patch(acme_client, url, {"email": "nope"}), 400)
    assert_problem(_patch(acme_client, url, {"shipping_method": "x"}), 400)


def test_a_billing_address_of_its_own_and_back_to_the_shipping_one(acme_client, shop):
    token = new_cart(acme_client)
    add(acme_client, token, on_sale())
    url = f"{CARTS}{token}/checkout/"
    billing = {**GERMAN_ADDRESS, "name": "Max Mustermann"}
    assert_problem(_patch(acme_client, url, {"billing_address": billing}), 409)
    _patch(acme_client, url, {"shipping_address": GERMAN_ADDRESS})
    body = _patch(acme_client, url, {"billing_address": billing}).json()
    assert body["billing_address"]["name"] == "Max Mustermann"
    assert body["shipping_address"]["name"] == "Erika Mustermann"
    assert _patch(acme_client, url, {"email": "a@example.com"}).json()["billing_address"]
    assert _patch(acme_client, url, {"billing_address": None}).json()["billing_address"] is None


def test_an_empty_cart_has_no_checkout(acme_client, shop):
    token = new_cart(acme_client)
    assert_problem(
        _patch(acme_client, f"{CARTS}{token}/checkout/", {"email": "a@example.com"}),
        409,
        "checkout_incomplete",
    )


def test_vouchers_apply_and_go_and_a_refusal_names_the_code_field(acme_client, shop):
    with schema_context("acme"):
        voucher("SAVE10", percentage="10")
        voucher("OLD", percentage="10", active=False)
    token = new_cart(acme_client)
    add(acme_client, token, on_sale("10.00"), 2)
    url = f"{CARTS}{token}/checkout/voucher/"
    body = _post(acme_client, url, {"code": "save10"}).json()
    assert body["voucher"] == {"code": "SAVE10", "applied": True}
    assert body["totals"]["discount"] == "2.00" and body["totals"]["total"] == "18.00"
    for code in ("OLD", "NOSUCH"):
        refused = assert_problem(
            _post(acme_client, url, {"code": code}), 400, "voucher_not_applicable"
        )
        assert list(refused["errors"]) == ["code"]
    body = acme_client.delete(url).json()
    assert body["voucher"] is None and body["totals"]["discount"] == "0.00"


def test_reserving_needs_every_step_then_holds_the_stock(acme_client, shop):
    shirt = on_sale(stock=5)
    token = new_cart(acme_client)
    add(acme_client, token, shirt, 2)
    reserve = f"{CARTS}{token}/checkout/reserve/"
    assert_problem(_post(acme_client, reserve), 409, "checkout_incomplete")
    _patch(
        acme_client,
        f"{CARTS}{token}/checkout/",
        {"email": "a@example.com", "shipping_address": GERMAN_ADDRESS},
    )
    assert_problem(_post(acme_client, reserve), 409, "checkout_incomplete")
    _patch(acme_client, f"{CARTS}{token}/checkout/", {"shipping_method": shop.pk})
    body = _post(acme_client, reserve).json()
    assert body["reserved_until"] is not None
    with schema_context("acme"):
        assert StockLevel.objects.get(variant=shirt).reserved == 2


# -- placing the order (committed data, the fake card gateway) --------------------------------


def _ready_to_pay(client: Client, method, *lines, code: str | None = None) -> str:
    """A cart of ``lines`` ((variant, quantity) pairs) through every step, its stock held."""
    token = new_cart(client)
    for variant, quantity in lines:
        assert add(client, token, variant, quantity).status_code == 200
    checkout = f"{CARTS}{token}/checkout/"
    step = _patch(
        client,
        checkout,
        {
            "email": "erika@example.com",
            "shipping_address": GERMAN_ADDRESS,
            "shipping_method": method.pk,
        },
    )
    assert step.status_code == 200, step.content
    if code:
        assert _post(client, f"{checkout}voucher/", {"code": code}).status_code == 200
    assert _post(client, f"{checkout}reserve/").status_code == 200
    return token


def _live_variant(amount: str = "10.00", title: str = "Shirt", stock: int = 5):
    variant = eur_variant(amount, title)
    stocked(variant, main=stock)
    services.product_transition(product_id=variant.product_id, action="activate")
    return variant


def test_a_headless_purchase_by_bank_transfer(placing):  # noqa: F811
    client = Client(HTTP_HOST="acme.localhost")
    shirt, mug = _live_variant("10.00", "Shirt"), _live_variant("5.00", "Mug")
    voucher("WELCOME", percentage="10")
    token = _ready_to_pay(client, placing["method"], (shirt, 2), (mug, 1), code="WELCOME")
    response = _post(client, f"{CARTS}{token}/checkout/place/", {"provider": "manual"})
    assert response.status_code == 201, response.content
    order = response.json()
    assert order["status"] == OrderStatus.PENDING and order["payment_provider"] == "manual"
    # 25.00 of goods, 10 % off, 4.90 shipping; prices include 19 % VAT.
    assert (order["subtotal"], order["discount"], order["shipping_price"], order["total"]) == (
        "25.00",
        "2.50",
        "4.90",
        "27.40",
    )
    assert order["voucher_code"] == "WELCOME" and order["email"] == "erika@example.com"
    assert [(line["sku"], line["quantity"]) for line in order["lines"]] == [
        (shirt.sku, 2),
        (mug.sku, 1),
    ]
    stored = Order.objects.get(pk=order["id"])
    assert stored.number == order["number"] and stored.total == Decimal("27.40")
    assert StockLevel.objects.get(variant=shirt).on_hand == 3
    assert not Reservation.objects.exists()
    assert_problem(client.get(f"{CARTS}{token}/"), 404, "cart_not_found")


def test_a_card_purchase_declined_then_approved(placing):  # noqa: F811
    client = Client(HTTP_HOST="acme.localhost")
    shirt = _live_variant(stock=5)
    token = _ready_to_pay(client, placing["method"], (shirt, 1))
    place = f"{CARTS}{token}/checkout/place/"
    bad = assert_problem(
        _post(client, place, {"provider": "test_card", "card": {**VISA, "number": "4242"}}), 400
    )
    assert "card.number" in bad["errors"]
    assert_problem(_post(client, place, {"provider": "test_card"}), 400)
    assert_problem(
        _post(client, place, {"provider": "test_card", "card": DECLINED}), 402, "payment_declined"
    )
    assert client.get(f"{CARTS}{token}/").status_code == 200  # the cart is kept
    response = _post(client, place, {"provider": "test_card", "card": VISA})
    assert response.status_code == 201, response.content
    order = response.json()
    assert order["status"] == OrderStatus.PAID and order["paid_amount"] == order["total"] == "14.90"


def test_an_unreachable_card_service_is_a_503_with_retry_after(placing, settings):  # noqa: F811
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        settings.TEST_CARD_GATEWAY_URL = f"http://127.0.0.1:{closed.getsockname()[1]}"
    client = Client(HTTP_HOST="acme.localhost")
    token = _ready_to_pay(client, placing["method"], (_live_variant(), 1))
    response = _post(
        client, f"{CARTS}{token}/checkout/place/", {"provider": "test_card", "card": VISA}
    )
    assert_problem(response, 503, "payment_unavailable")
    assert int(response["Retry-After"]) > 0
    assert not Order.objects.exists() and client.get(f"{CARTS}{token}/").status_code == 200


def test_an_expired_hold_and_a_used_up_voucher_are_409s(placing):  # noqa: F811
    client = Client(HTTP_HOST="acme.localhost")
    shirt = _live_variant(stock=5)
    voucher("ONCE", percentage="10", usage_limit=1)
    late = _ready_to_pay(client, placing["method"], (shirt, 1))
    Checkout.objects.filter(cart__token=late).update(
        reserved_until=timezone.now() - timedelta(minutes=1)
    )
    assert_problem(
        _post(client, f"{CARTS}{late}/checkout/place/", {"provider": "manual"}),
        409,
        "checkout_incomplete",
    )
    second = _ready_to_pay(client, placing["method"], (shirt, 1), code="ONCE")
    VoucherRow.objects.filter(code="ONCE").update(used_count=1)  # the last use went elsewhere
    assert_problem(
        _post(client, f"{CARTS}{second}/checkout/place/", {"provider": "manual"}),
        409,
        "voucher_exhausted",
    )
    assert not Order.objects.exists()


def test_an_out_of_stock_line_at_the_hold_is_a_409(placing):  # noqa: F811
    client = Client(HTTP_HOST="acme.localhost")
    shirt = _live_variant(stock=2)
    token = new_cart(client)
    add(client, token, shirt, 2)
    _patch(
        client,
        f"{CARTS}{token}/checkout/",
        {
            "email": "a@example.com",
            "shipping_address": GERMAN_ADDRESS,
            "shipping_method": placing["method"].pk,
        },
    )
    stocked(shirt, main=1)
    assert_problem(_post(client, f"{CARTS}{token}/checkout/reserve/"), 409, "out_of_stock")


def test_two_clicks_on_place_at_once_make_one_order(placing):  # noqa: F811
    """Two requests to place the same cart, on their own connections, released together: one
    order, and the other click is told the cart is gone (404) or its payment is taken (409)."""
    client = Client(HTTP_HOST="acme.localhost")
    shirt = _live_variant(stock=5)
    token = _ready_to_pay(client, placing["method"], (shirt, 1))

    def click() -> int:
        place = f"{CARTS}{token}/checkout/place/"
        return _post(Client(HTTP_HOST="acme.localhost"), place, {"provider": "manual"}).status_code

    outcomes = race([click, click])
    assert [kind for kind, _code in outcomes] == ["ok", "ok"], outcomes
    first, second = sorted(code for _kind, code in outcomes)
    assert first == 201 and second in (404, 409), outcomes
    assert Order.objects.count() == 1
    assert StockLevel.objects.get(variant=shirt).on_hand == 4


@pytest.mark.parametrize("lines", [1, 20])
def test_placing_costs_the_same_queries_for_1_and_20_lines(placing, lines, settings):  # noqa: F811
    # The outbox's health (backpressure) read by the steps before, not again however long
    # they took: the count is the placing's own.
    settings.EVENTS = {**settings.EVENTS, "BACKPRESSURE_CHECK_SECONDS": 3600}
    client = Client(HTTP_HOST="acme.localhost")
    variants = [_live_variant("10.00", f"Item {n}", stock=3) for n in range(lines)]
    token = _ready_to_pay(client, placing["method"], *[(variant, 2) for variant in variants])
    with CaptureQueriesContext(connection) as queries:
        response = _post(client, f"{CARTS}{token}/checkout/place/", {"provider": "manual"})
    assert response.status_code == 201 and len(response.json()["lines"]) == lines
    listed = "\n".join(query["sql"][:100] for query in queries)
    statements = [q for q in queries if not TRANSACTION_CONTROL.match(q["sql"])]
    assert len(statements) == PLACE_STATEMENTS, listed


TRANSACTION_CONTROL = re.compile(r"^(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE SAVEPOINT)\b")
# The cart by its token and its checkout's id; then checkout_place_order's 30 (see
# tests/commerce/test_placement.py: the checkout read again, its lines, settings, shipping and
# tax, the payment with its reconciliation marked due, then the one transaction); then the
# order's lines for the answer.
PLACE_STATEMENTS = 33
