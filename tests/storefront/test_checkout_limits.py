"""The checkout's POSTs are rate limited per address: the themed 429 page, nothing written,
GETs never counted, paying limited on its own, and the next window open again."""

from __future__ import annotations

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from apps.commerce.models import Checkout, Order
from tests.commerce.checkout_factories import shipping_zone, tax
from tests.commerce.conftest import CURRENCIES

from .test_checkout_steps import _cart_with, _text, _walk_to_review

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(acme_site):
    """A shop that ships to Germany (as in test_checkout_steps)."""
    from apps.commerce import services

    with schema_context("acme"):
        services.store_settings_update(default_currency="USD", enabled_currencies=CURRENCIES)
        tax("DE", "0.19")
        return shipping_zone(("DE", "AT"), price="4.90", free_over="100.00")


def _email() -> str:
    with schema_context("acme"):
        return Checkout.objects.get().email


def test_step_posts_over_the_limit_get_the_429_page_and_change_nothing(
    shop, acme_client, clock, settings
):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "checkout_ip": "3/m"}
    _cart_with(acme_client, ("10.00", 1))
    for number in range(3):
        sent = acme_client.post("/checkout/email/", {"email": f"n{number}@example.com"})
        assert sent.status_code == 302
    for _ in range(5):  # GETs are not counted
        assert acme_client.get("/checkout/email/").status_code == 200
    limited = acme_client.post(
        "/checkout/email/",
        {"email": "late@example.com"},
        HTTP_REFERER="http://acme.localhost/checkout/email/",
    )
    assert limited.status_code == 429
    wait = int(limited["Retry-After"])
    assert 1 <= wait <= 61
    page = _text(limited)
    assert "Too many attempts. Please try again in" in page
    assert 'href="http://acme.localhost/checkout/email/"' in page  # the way back
    assert "Acme" in page  # the site's own page, not a bare error
    assert "no-cache" in limited["Cache-Control"]
    assert _email() == "n2@example.com"
    # Another address goes on; the same one after the window too.
    elsewhere = Client(HTTP_HOST="acme.localhost", REMOTE_ADDR="198.51.100.4")
    elsewhere.cookies = acme_client.cookies
    assert elsewhere.post("/checkout/email/", {"email": "b@example.com"}).status_code == 302
    clock.now += wait
    assert acme_client.post("/checkout/email/", {"email": "c@example.com"}).status_code == 302
    assert _email() == "c@example.com"


def test_paying_is_limited_on_its_own_and_the_message_is_translated(
    shop, acme_client, clock, settings
):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "checkout_pay_ip": "1/h"}
    _cart_with(acme_client, ("10.00", 1))
    _walk_to_review(acme_client, shop)
    assert acme_client.post("/checkout/payment/").status_code == 200
    assert acme_client.post("/checkout/pay/", {}).status_code == 400  # counted all the same
    limited = acme_client.post("/checkout/pay/?lang=de", {"provider": "manual"})
    assert limited.status_code == 429 and int(limited["Retry-After"]) > 60
    assert "Zu viele Versuche" in _text(limited)
    with schema_context("acme"):
        assert not Order.objects.exists()
    # The other steps are not held back by the payment limit.
    assert acme_client.post("/checkout/payment/").status_code == 200
