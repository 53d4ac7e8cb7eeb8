"""Order emails: sent by the relay after the order commits, once per order and kind, in the
order's language, under the shop's name; never for an order that rolled back."""

from __future__ import annotations

import pytest
from django.db import transaction
from django_tenants.utils import schema_context

from apps.commerce import orders
from apps.commerce.models import OrderEmail
from apps.events import relay

from .order_factories import line_draft, order_draft
from .order_support import committed_orders  # noqa: F401

pytestmark = pytest.mark.usefixtures("committed_orders")


def _place(**fields):
    with schema_context("acme"), transaction.atomic():
        return orders.order_create(order_draft([line_draft()], **fields))


def test_the_confirmation_is_sent_once_however_often_the_relay_runs(mailoutbox):
    order = _place()
    assert mailoutbox == []  # nothing before the relay
    relay.drain()
    relay.drain()
    [message] = mailoutbox
    assert message.to == ["ada@example.com"]
    assert message.subject == f"Your order #{order.number}"
    assert message.from_email == "Acme Test <shop@localhost>"
    assert f"Thank you for your order #{order.number}." in message.body
    assert "2 x Linen shirt (M / Blue)" in message.body
    assert "Total: 25.00 USD" in message.body
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html" and "Total: 25.00 USD" in html
    with schema_context("acme"):
        email = OrderEmail.objects.get(order=order)
        assert (email.kind, email.recipient) == ("confirmation", "ada@example.com")
        assert email.sent_at is not None


def test_the_same_event_handled_again_sends_nothing(mailoutbox):
    """The ledger aside (a replay under a new event id, a handler run by hand): the
    ``OrderEmail`` row keeps it to one email."""
    order = _place()
    relay.drain()
    with schema_context("acme"):
        email = OrderEmail.objects.get(order=order)
        with transaction.atomic():
            sent = orders.order_email_send(
                order_id=order.pk, kind="confirmation", event_id=email.event_id
            )
    assert sent is False
    assert len(mailoutbox) == 1


def test_emails_are_in_the_order_language(mailoutbox):
    order = _place(locale="de")
    with schema_context("acme"):
        orders.order_mark_paid(order_id=order.pk, reference="pay-1", amount=order.total)
        orders.order_ship(order_id=order.pk, carrier="DHL", tracking_number="JJD0003")
    relay.drain()
    confirmation, shipped = sorted(mailoutbox, key=lambda message: len(message.subject))
    assert confirmation.subject == f"Ihre Bestellung #{order.number}"
    assert f"Vielen Dank für Ihre Bestellung #{order.number}." in confirmation.body
    assert "Gesamt: 25.00 USD" in confirmation.body
    assert shipped.subject == f"Ihre Bestellung #{order.number} ist unterwegs"
    assert "Versanddienst: DHL, Sendungsnummer: JJD0003" in shipped.body


def test_the_shipping_notice_follows_the_shipment(mailoutbox):
    order = _place()
    relay.drain()
    with schema_context("acme"):
        orders.order_mark_paid(order_id=order.pk, reference="pay-1", amount=order.total)
    relay.drain()
    assert len(mailoutbox) == 1  # paying sends nothing
    with schema_context("acme"):
        orders.order_ship(order_id=order.pk, carrier="UPS", tracking_number="1Z999")
    relay.drain()
    relay.drain()
    assert [message.subject for message in mailoutbox] == [
        f"Your order #{order.number}", f"Your order #{order.number} is on its way",
    ]  # fmt: skip
    assert "Carrier: UPS, tracking number: 1Z999" in mailoutbox[1].body


def test_a_rolled_back_order_sends_nothing(mailoutbox):
    class CheckoutFailed(Exception):
        pass

    with pytest.raises(CheckoutFailed), schema_context("acme"), transaction.atomic():
        orders.order_create(order_draft([line_draft()]))
        raise CheckoutFailed
    relay.drain()
    assert mailoutbox == []
    with schema_context("acme"):
        assert not OrderEmail.objects.exists()
