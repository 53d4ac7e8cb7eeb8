"""The whole purchase with the test client: product page, cart, the checkout's steps, paying
with the test card (or by bank transfer), the confirmation, the order in the customer's
account. Paying runs outside any transaction, so this works on committed data."""

from __future__ import annotations

import re
from decimal import Decimal
from html import unescape

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from apps.commerce import services
from apps.commerce.models import Cart, Order, OrderStatus, PaymentAttempt, Reservation
from apps.commerce.payments import fake_gateway
from tests.commerce.checkout_factories import (
    GERMAN_ADDRESS,
    eur_variant,
    shipping_zone,
    stocked,
    tax,
)
from tests.commerce.conftest import CURRENCIES
from tests.commerce.test_placement import PLACED_TABLES
from tests.conftest import tenant_client
from tests.index.support import wipe_tables

CARD = {"card_number": "4242 4242 4242 4242", "card_expiry_month": "12",
        "card_expiry_year": "2099", "card_cvc": "123"}  # fmt: skip
SLOW_CARD = "4000 0000 0000 0119"  # the gateway answers after the checkout's timeout
PASSWORD = "plum-orchard-42"


@pytest.fixture
def shop(live_db, settings):
    server, thread = fake_gateway.start(slow_seconds=settings.TEST_CARD_GATEWAY_SLOW_SECONDS)
    settings.TEST_CARD_GATEWAY_URL = f"http://127.0.0.1:{server.server_address[1]}"
    wipe_tables(PLACED_TABLES)
    with schema_context("acme"):
        services.store_settings_update(default_currency="EUR", enabled_currencies=CURRENCIES)
        tax("DE", "0.19")
        method = shipping_zone(("DE",), price="4.90")
        shirt = eur_variant("10.00", "Shirt")
        stocked(shirt, main=5)
        services.product_transition(product_id=shirt.product_id, action="activate")
    yield {"method": method, "variant": shirt, "gateway": server.gateway}
    connection.set_schema_to_public()
    wipe_tables(PLACED_TABLES)
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def _to_payment(client, shop) -> None:
    variant = shop["variant"]
    added = client.post("/cart/add/", {"variant": str(variant.pk), "quantity": "2"})
    assert added.status_code == 302, added.content[:300]
    assert client.get("/checkout/").status_code == 302
    assert client.post("/checkout/email/", {"email": "erika@example.com"}).status_code == 302
    assert client.post("/checkout/address/", GERMAN_ADDRESS).status_code == 302
    shipping = client.post("/checkout/shipping/", {"shipping_method": shop["method"].pk})
    assert shipping.status_code == 302
    page = client.post("/checkout/payment/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "4242 4242 4242 4242" in text and "Pay and place the order" in text


def test_a_shopper_is_declined_then_pays_by_card_and_sees_the_confirmation(shop):
    client = tenant_client("acme")
    _to_payment(client, shop)
    declined = client.post(
        "/checkout/pay/", {"provider": "test_card", **CARD, "card_number": "4000000000000002"}
    )
    assert declined.status_code == 402
    assert "declined" in declined.content.decode().lower()
    with schema_context("acme"):
        assert not Order.objects.exists() and Reservation.objects.count() == 1
    paid = client.post("/checkout/pay/", {"provider": "test_card", **CARD})
    assert (paid.status_code, paid["Location"]) == (302, "/checkout/complete/")
    done = client.get("/checkout/complete/").content.decode()
    with schema_context("acme"):
        order = Order.objects.get()
    assert order.status == OrderStatus.PAID and f"Your order number is {order.number}." in done
    assert "Your payment was received." in done
    assert order.email == "erika@example.com" and order.lines.get().quantity == 2
    # The cart is gone with the order placed.
    assert "mini-cart__count" not in client.get("/shop/").content.decode()


def test_a_guest_pays_by_bank_transfer_and_gets_the_instructions(shop):
    client = tenant_client("acme")
    _to_payment(client, shop)
    bad = client.post("/checkout/pay/", {"provider": "test_card", **CARD, "card_number": "1234"})
    assert bad.status_code == 400
    placed = client.post("/checkout/pay/", {"provider": "manual"})
    assert placed.status_code == 302
    done = client.get("/checkout/complete/").content.decode()
    assert "Pay by bank transfer" in done and "IBAN" in done
    with schema_context("acme"):
        order = Order.objects.get()
    assert order.status == OrderStatus.PENDING and order.total > 0
    assert re.search(rf"Your order number is {order.number}\.", done)


@pytest.mark.parametrize("lines", [1, 20])
def test_placing_the_order_costs_the_same_queries_for_1_and_20_lines(
    shop, lines, django_assert_num_queries, settings
):
    """The shopper's "Place the order" (bank transfer): the whole request, the placement's
    transaction with it."""
    # The outbox's health (backpressure) read by the steps before, not again however long
    # they took: the count is the request's own.
    settings.EVENTS = {**settings.EVENTS, "BACKPRESSURE_CHECK_SECONDS": 3600}
    client = tenant_client("acme")
    with schema_context("acme"):
        for index in range(lines - 1):
            variant = eur_variant("3.00", f"Sock {index}")
            stocked(variant, main=5)
            services.product_transition(product_id=variant.product_id, action="activate")
            client.post("/cart/add/", {"variant": str(variant.pk), "quantity": "1"})
    _to_payment(client, shop)
    with django_assert_num_queries(PAY_QUERIES):
        placed = client.post("/checkout/pay/", {"provider": "manual"})
    assert placed.status_code == 302
    with schema_context("acme"):
        assert Order.objects.get().lines.count() == lines


# The session, the cart and its checkout; the placement's 42 (tests/commerce/test_placement.py:
# 30 statements, and the transactions' BEGIN/COMMIT and savepoints); the session written with
# the order's number (in a transaction of its own). The totals are not read before placing.
PAY_QUERIES = 48


def test_a_card_that_times_out_keeps_the_cart_and_says_why_and_the_retry_pays_once(shop):
    client = tenant_client("acme")
    _to_payment(client, shop)
    timed_out = client.post(
        "/checkout/pay/", {"provider": "test_card", **CARD, "card_number": SLOW_CARD}
    )
    assert (timed_out.status_code, timed_out["Retry-After"]) == (503, "30")
    text = unescape(timed_out.content.decode())
    assert "The card service timed out. Try again: a retry is never charged twice." in text
    assert "Pay and place the order" in text  # the payment page again
    with schema_context("acme"):
        assert not Order.objects.exists() and Cart.objects.count() == 1
        (held,) = Reservation.objects.all()
        assert held.quantity == 2
        attempt = PaymentAttempt.objects.get()
    assert (attempt.outcome, attempt.error_code) == ("failed", "timeout")
    assert 'class="mini-cart__count">2<' in client.get("/cart/").content.decode()
    # The gateway finished the charge meanwhile; paying again with the same card is answered
    # with that charge: the order is placed and the card charged once.
    gateway = shop["gateway"]
    assert len(gateway.wait_for_charges(held.reference, 1, timeout=10)) == 1
    paid = client.post(
        "/checkout/pay/", {"provider": "test_card", **CARD, "card_number": SLOW_CARD}
    )
    assert (paid.status_code, paid["Location"]) == (302, "/checkout/complete/")
    with schema_context("acme"):
        order = Order.objects.get()
    assert order.status == OrderStatus.PAID and len(gateway.charges_for(held.reference)) == 1


def test_a_timed_out_card_that_went_through_pays_when_the_shopper_tries_another(shop):
    """The slow card times out; the shopper pays with another card. The gateway had finished
    the first charge: the order is placed and paid by it, the other card is never charged,
    and the confirmation says which card paid."""
    client = tenant_client("acme")
    _to_payment(client, shop)
    timed_out = client.post(
        "/checkout/pay/", {"provider": "test_card", **CARD, "card_number": SLOW_CARD}
    )
    assert timed_out.status_code == 503
    with schema_context("acme"):
        (held,) = Reservation.objects.all()
    gateway = shop["gateway"]
    [first] = gateway.wait_for_charges(held.reference, 1, timeout=10)

    paid = client.post("/checkout/pay/", {"provider": "test_card", **CARD})

    assert (paid.status_code, paid["Location"]) == (302, "/checkout/complete/")
    done = unescape(client.get("/checkout/complete/").content.decode())
    assert "Paid with the card Visa •••• 0119." in done
    assert "Your earlier card payment went through after all" in done
    with schema_context("acme"):
        order = Order.objects.get()
        attempt = PaymentAttempt.objects.get()
    assert order.status == OrderStatus.PAID and order.payment_reference == first["id"]
    assert (attempt.outcome, attempt.order_id) == ("approved", order.pk)
    assert gateway.charges_for(held.reference) == [first]


def test_the_confirmation_names_the_card_that_paid(shop):
    client = tenant_client("acme")
    _to_payment(client, shop)
    client.post("/checkout/pay/", {"provider": "test_card", **CARD})
    done = unescape(client.get("/checkout/complete/").content.decode())
    assert "Paid with the card Visa •••• 4242." in done
    assert "Your earlier card payment" not in done


@pytest.fixture
def erika(shop):
    """A customer of acme (committed, as the purchase is); she goes afterwards."""
    from django.contrib.auth import get_user_model

    from apps.people import services as people

    with schema_context("acme"):
        user = people.customer_sign_up(
            email="erika@example.com", password=PASSWORD, display_name="Erika"
        )
    yield user
    wipe_tables(PLACED_TABLES)  # her orders and carts first
    with schema_context("acme"):
        get_user_model().objects.filter(pk=user.pk).delete()
    connection.set_schema_to_public()


def test_a_customer_pays_and_finds_the_order_in_their_account(shop, erika):
    client = tenant_client("acme")
    login = client.post("/account/login/", {"email": erika.email, "password": PASSWORD})
    assert login.status_code == 302
    _to_payment(client, shop)
    paid = client.post("/checkout/pay/", {"provider": "test_card", **CARD})
    assert (paid.status_code, paid["Location"]) == (302, "/checkout/complete/")
    with schema_context("acme"):
        order = Order.objects.get()
    assert order.customer_id == erika.pk and order.total == Decimal("24.90")
    home = unescape(client.get("/account/").content.decode())
    link = f"/account/orders/{order.number}/"
    row = re.search(rf'<tr><td><a href="{link}">{order.number}</a></td>(.*?)</tr>', home)
    assert row is not None, home
    assert "<td>Paid</td>" in row[1] and "<td>€24.90</td>" in row[1]
    page = unescape(client.get(link).content.decode())
    assert f"<h1>Order {order.number}</h1>" in page
    assert re.search(r"<td>Shirt[^<]*<br><small>[^<]+</small></td><td>2</td>", page)
    assert "<dt>Total</dt><dd>€24.90</dd>" in page
    # Another visitor, not logged in, is sent to the login instead.
    assert tenant_client("acme").get(link).status_code == 302
