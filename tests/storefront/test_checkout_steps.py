"""The checkout's steps walked with the test client: each step's form, its refusals on the
fields (400, never 500), the redirects to the first step not done, the review's numbers and
its query budget, and the payment step holding the stock."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django_tenants.utils import schema_context

from apps.commerce.models import Checkout, Reservation
from tests.commerce.checkout_factories import (
    GERMAN_ADDRESS,
    eur_variant,
    make_cart,
    shipping_zone,
    stocked,
    tax,
    voucher,
)
from tests.commerce.conftest import CURRENCIES
from tests.conftest import ADMIN_PASSWORD


@pytest.fixture
def shop(acme_site):
    from apps.commerce import services

    with schema_context("acme"):
        services.store_settings_update(default_currency="USD", enabled_currencies=CURRENCIES)
        tax("DE", "0.19")
        method = shipping_zone(("DE", "AT"), price="4.90", free_over="100.00")
    return method


def _cart_with(client, *lines_spec, **cart_fields):
    """A cart of ``(amount, quantity)`` lines (each its own in-stock variant), held by the
    client's session."""
    with schema_context("acme"):
        variants = []
        for index, (amount, quantity) in enumerate(lines_spec):
            variant = eur_variant(amount, f"Product {index}")
            stocked(variant, main=quantity + 5)
            variants.append((variant, quantity))
        cart = make_cart(*variants, **cart_fields)
    _set_session(client, cart_token=str(cart.token))
    return cart


def _set_session(client, **values) -> None:
    """Store ``values`` in the client's session (sessions live in the tenant's schema)."""
    with schema_context("acme"):
        session = client.session
        for key, value in values.items():
            if value is None:
                session.pop(key, None)
            else:
                session[key] = value
        session.save()
        client.cookies["sessionid"] = session.session_key


def _walk_to_review(client, method) -> None:
    assert client.post("/checkout/email/", {"email": "erika@example.com"}).status_code == 302
    assert client.post("/checkout/address/", GERMAN_ADDRESS).status_code == 302
    response = client.post("/checkout/shipping/", {"shipping_method": method.pk})
    assert response.status_code == 302


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_without_a_cart_the_checkout_sends_to_the_shop(shop, acme_client):
    response = acme_client.get("/checkout/")
    assert (response.status_code, response["Location"]) == (302, "/shop/")
    _set_session(acme_client, cart_token="not-a-uuid")
    assert acme_client.get("/checkout/review/")["Location"] == "/shop/"


def test_the_steps_in_order_with_their_refusals(shop, acme_client):
    cart = _cart_with(acme_client, ("10.00", 2), ("25.00", 1))
    response = acme_client.get("/checkout/")
    assert response["Location"] == "/checkout/email/"
    # A later step asked for too early goes back to the first one not done.
    assert acme_client.get("/checkout/review/")["Location"] == "/checkout/email/"
    page = acme_client.get("/checkout/email/")
    assert page.status_code == 200
    assert '<meta name="robots" content="noindex, nofollow">' in page.content.decode()
    assert page["X-Robots-Tag"] == "noindex, nofollow"
    assert "no-cache" in page["Cache-Control"] or "max-age=0" in page["Cache-Control"]

    refused = acme_client.post("/checkout/email/", {"email": "nope"})
    assert refused.status_code == 400
    assert 'id="id_email-error"' in refused.content.decode()
    assert acme_client.post("/checkout/email/", {"email": "erika@example.com"})["Location"] == (
        "/checkout/address/"
    )

    form = acme_client.get("/checkout/address/?country=US")
    assert 'name="region"' in _text(form) and "California" in _text(form)
    refused = acme_client.post("/checkout/address/", {**GERMAN_ADDRESS, "postal_code": "1"})
    assert refused.status_code == 400
    assert "id_postal_code-error" in refused.content.decode()
    refused = acme_client.post("/checkout/address/", {**GERMAN_ADDRESS, "country": "XX"})
    assert refused.status_code == 400
    assert acme_client.post("/checkout/address/", GERMAN_ADDRESS)["Location"] == (
        "/checkout/shipping/"
    )

    page = acme_client.get("/checkout/shipping/")
    assert "Standard" in _text(page) and "€4.90" in _text(page)
    refused = acme_client.post("/checkout/shipping/", {"shipping_method": "999999"})
    assert refused.status_code == 400
    response = acme_client.post("/checkout/shipping/", {"shipping_method": shop.pk})
    assert response["Location"] == "/checkout/review/"

    review = _text(acme_client.get("/checkout/review/"))
    # 2 x 10.00 + 25.00 = 45.00 gross; 19 % back-calculated: 3.19 + 3.99 (+ shipping 0.78).
    assert "€45.00" in review and "€3.19" in review and "€3.99" in review
    assert "€7.96" in review and "€49.90" in review
    with schema_context("acme"):
        checkout = Checkout.objects.get(cart=cart)
        assert checkout.shipping_address["country"] == "DE"


def test_a_logged_in_customers_email_is_prefilled(shop, acme_client):
    with schema_context("acme"):
        user = get_user_model().objects.create_user(
            username="shopper@example.com", email="shopper@example.com", password=ADMIN_PASSWORD
        )
        acme_client.force_login(user)
    _cart_with(acme_client, ("10.00", 1), customer=user)
    # The customer's cart is found by its owner, not by the session's token.
    _set_session(acme_client, cart_token=None)
    assert acme_client.get("/checkout/")["Location"] == "/checkout/address/"
    assert 'value="shopper@example.com"' in acme_client.get("/checkout/email/").content.decode()


def test_the_country_select_is_localized_and_sorted(shop, acme_client):
    _cart_with(acme_client, ("10.00", 1))
    acme_client.post("/checkout/email/", {"email": "erika@example.com"})
    page = acme_client.get("/checkout/address/?lang=de").content.decode()
    names = re.findall(r'<option value="[A-Z]{2}">([^<]+)</option>', page)
    assert "Deutschland" in names and "Vereinigte Staaten" in names
    assert names.index("Österreich") > names.index("Niederlande")


def test_free_shipping_is_shown_over_the_threshold(shop, acme_client):
    _cart_with(acme_client, ("60.00", 2))
    acme_client.post("/checkout/email/", {"email": "erika@example.com"})
    acme_client.post("/checkout/address/", GERMAN_ADDRESS)
    page = _text(acme_client.get("/checkout/shipping/"))
    assert "Standard · free" in page


def test_vouchers_apply_refuse_and_remove_on_the_review(shop, acme_client):
    _cart_with(acme_client, ("10.00", 2), ("25.00", 1))
    _walk_to_review(acme_client, shop)
    with schema_context("acme"):
        voucher("HALF", percentage="50")
        voucher("BIG", amounts=[("EUR", None, "100.00")])
    refused = acme_client.post("/checkout/voucher/", {"code": "BIG"})
    assert refused.status_code == 400
    assert "at least 100.00 EUR" in _text(refused) and "id_code-error" in _text(refused)
    assert acme_client.post("/checkout/voucher/", {"code": ""}).status_code == 400
    applied = acme_client.post("/checkout/voucher/", {"code": "half"}, follow=True)
    page = _text(applied)
    assert "Voucher HALF" in page and "\N{MINUS SIGN}€22.50" in page and "€27.40" in page
    removed = acme_client.post("/checkout/voucher/", {"remove": "1"}, follow=True)
    assert "€49.90" in _text(removed) and "\N{MINUS SIGN}€22.50" not in _text(removed)


def test_continue_to_payment_holds_the_stock(shop, acme_client):
    _cart_with(acme_client, ("10.00", 2))
    _walk_to_review(acme_client, shop)
    # GET before any hold goes back to the review.
    assert acme_client.get("/checkout/payment/")["Location"] == "/checkout/review/"
    page = acme_client.post("/checkout/payment/")
    assert page.status_code == 200
    assert "Your items are reserved until" in _text(page)
    with schema_context("acme"):
        assert list(Reservation.objects.values_list("quantity", flat=True)) == [2]
    # Again (the shopper came back): the hold is renewed, not doubled.
    acme_client.post("/checkout/payment/")
    with schema_context("acme"):
        assert list(Reservation.objects.values_list("quantity", flat=True)) == [2]
    assert acme_client.get("/checkout/payment/").status_code == 200


def test_payment_refused_when_stock_ran_out(shop, acme_client):
    cart = _cart_with(acme_client, ("10.00", 2))
    _walk_to_review(acme_client, shop)
    with schema_context("acme"):
        from apps.commerce.models import CartLine

        CartLine.objects.filter(cart=cart).update(quantity=500)
    refused = acme_client.post("/checkout/payment/")
    assert refused.status_code == 409
    assert "available" in _text(refused)


@pytest.mark.parametrize("lines", [1, 20])
def test_the_review_costs_the_same_queries_for_1_and_20_lines(
    shop, acme_client, django_assert_num_queries, lines
):
    _cart_with(acme_client, *[("10.00", 1)] * lines)
    _walk_to_review(acme_client, shop)
    with schema_context("acme"):
        voucher("TEN", percentage="10")
    acme_client.post("/checkout/voucher/", {"code": "TEN"})
    acme_client.get("/checkout/review/")  # warm the tenant's caches
    with django_assert_num_queries(REVIEW_QUERIES):
        response = acme_client.get("/checkout/review/")
    assert response.status_code == 200
    assert _text(response).count("<tr><td>Product") == lines


# The session, the cart, the checkout (with its method and voucher), the lines with their
# prices, the store's settings, the shipping options, the voucher's terms, the tax rate, and
# the header's mini-cart.
REVIEW_QUERIES = 9
