"""The order emails through a real SMTP conversation (a local aiosmtpd server): placed, the
relay drained, one confirmation in the shopper's language; shipped, one shipping notice."""

from __future__ import annotations

import pytest

from apps.commerce.models import Cart, OrderEmail
from apps.commerce.order_payments import order_record_transfer
from apps.commerce.orders import order_ship
from apps.commerce.placement import checkout_place_order
from apps.events import relay

from .checkout_factories import eur_variant, stocked
from .smtp import text_of
from .test_placement import _at_payment
from .test_placement import placing as _placing  # noqa: F401 (the fixture ``shop`` takes)


@pytest.fixture
def shop(request) -> dict:
    """test_placement's ``placing``: acme on committed data selling in EUR."""
    return request.getfixturevalue("_placing")


def test_one_confirmation_then_one_shipping_notice_in_the_shoppers_language(shop, smtp_server):
    shirt = eur_variant("10.00", "Hemd")
    stocked(shirt, main=5)
    checkout = _at_payment(shop["method"], (shirt, 2))
    Cart.objects.filter(pk=checkout.cart_id).update(locale="de")
    order = checkout_place_order(checkout_id=checkout.pk, provider_code="manual")
    assert smtp_server.messages == []  # nothing before the relay runs

    relay.drain()
    relay.drain()
    [confirmation] = smtp_server.messages
    assert confirmation["To"] == "erika@example.com"
    assert confirmation["Subject"] == f"Ihre Bestellung #{order.number}"
    assert f"Vielen Dank für Ihre Bestellung #{order.number}." in text_of(confirmation)
    assert "Gesamt: 24.90 EUR" in text_of(confirmation)

    order_record_transfer(order_id=order.pk, reference="BANK-1", amount=order.total)
    order_ship(order_id=order.pk, carrier="DHL", tracking_number="JJD0001")
    relay.drain()
    relay.drain()
    assert [message["Subject"] for message in smtp_server.messages] == [
        f"Ihre Bestellung #{order.number}", f"Ihre Bestellung #{order.number} ist unterwegs",
    ]  # fmt: skip
    assert "Versanddienst: DHL, Sendungsnummer: JJD0001" in text_of(smtp_server.messages[1])
    assert OrderEmail.objects.filter(order=order, sent_at__isnull=False).count() == 2
