"""Order emails: sent by the relay after the order commits, one per order and kind, in the
order's language, under the shop's name; never for an order that rolled back; retried by beat
when the mail server refuses, sent again by a merchant after the last retry."""

from __future__ import annotations

import socket
from datetime import datetime, timedelta
from uuid import uuid4

import pytest
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.commerce import order_emails, orders
from apps.commerce import tasks as commerce_tasks
from apps.commerce.errors import OrderEmailNotFound
from apps.commerce.models import Order, OrderEmail
from apps.events import relay
from apps.tenancy.models import DueWork

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
            sent = order_emails.order_email_send(
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


# -- a mail server that refuses or is out of reach: retried by beat, then sent again by hand --


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _email(order) -> OrderEmail:
    with schema_context("acme"):
        return OrderEmail.objects.get(order=order, kind="confirmation")


def _mark() -> datetime | None:
    return (
        DueWork.objects.filter(tenant__slug="acme", kind=order_emails.RETRY_ORDER_EMAILS)
        .values_list("due_at", flat=True)
        .first()
    )


def test_a_refused_email_is_retried_by_beat_on_its_schedule_and_sent_once(smtp_server, settings):
    DueWork.objects.filter(kind=order_emails.RETRY_ORDER_EMAILS).delete()
    up = settings.EMAIL_PORT
    settings.EMAIL_PORT = _closed_port()  # the mail server is down
    order = _place()
    before = timezone.now()
    relay.drain()
    failed = _email(order)
    assert (failed.sent_at, failed.attempts) == (None, 1)
    assert failed.last_error.startswith("ConnectionRefusedError")
    first_step = timedelta(seconds=settings.ORDER_EMAIL_RETRY_SECONDS[0])
    assert before + first_step <= failed.next_attempt_at <= timezone.now() + first_step
    assert failed.state == "waiting"
    assert _mark() <= failed.next_attempt_at  # beat will visit acme by then

    # Not yet due: nothing is tried.
    assert commerce_tasks.retry_order_emails(now=failed.next_attempt_at - timedelta(seconds=1)) == 0
    assert _email(order).attempts == 1

    settings.EMAIL_PORT = up  # back
    assert commerce_tasks.retry_order_emails(now=failed.next_attempt_at) == 1
    [message] = smtp_server.wait_for(1)
    sent = _email(order)
    assert sent.sent_at is not None and sent.attempts == 2 and sent.last_error == ""
    assert sent.state == "sent"
    assert message["Subject"] == f"Your order #{order.number}"
    assert message["Message-ID"].strip() == f"<order-{order.pk}-confirmation@localhost>"
    assert _mark() is None  # nothing left to retry: the mark went
    assert commerce_tasks.retry_order_emails(now=timezone.now() + timedelta(days=1)) == 0
    assert len(smtp_server.messages) == 1


def test_after_the_last_step_the_email_waits_for_a_merchant(smtp_server, settings):
    up = settings.EMAIL_PORT
    settings.EMAIL_PORT = _closed_port()
    settings.ORDER_EMAIL_RETRY_SECONDS = (60, 120)
    order = _place()
    relay.drain()
    for attempt in (2, 3):
        due = _email(order).next_attempt_at
        assert commerce_tasks.retry_order_emails(now=due) == 0
        assert _email(order).attempts == attempt
    given_up = _email(order)
    assert (given_up.next_attempt_at, given_up.state) == (None, "not_sent")
    assert given_up.last_error.startswith("ConnectionRefusedError")
    assert commerce_tasks.retry_order_emails(now=timezone.now() + timedelta(days=30)) == 0
    assert _email(order).attempts == 3

    settings.EMAIL_PORT = up
    with schema_context("acme"):
        resent = order_emails.order_email_resend(email_id=given_up.pk)
    assert resent.state == "sent" and resent.attempts == 1
    [message] = smtp_server.wait_for(1)
    assert message["Message-ID"].strip() == f"<order-{order.pk}-confirmation@localhost>"


def test_an_attempt_that_never_answered_is_tried_again_after_the_hand_over_time(smtp_server):
    """Its worker died with the message at the mail server: the row says attempt 1, no error,
    and a retry at the end of the hand-over time."""
    with schema_context("acme"), transaction.atomic():
        order = orders.order_create(order_draft([line_draft()]))
        # What the handler's transaction commits; its worker dies before the send returns.
        order_emails.order_email_send(order_id=order.pk, kind="confirmation", event_id=uuid4())
        transaction.get_connection().run_on_commit.clear()
    waiting = _email(order)
    assert (waiting.attempts, waiting.last_error, waiting.state) == (1, "", "waiting")
    handover = timedelta(seconds=settings.ORDER_EMAIL_HANDOVER_SECONDS)
    assert waiting.next_attempt_at - waiting.created_at == handover

    assert (
        commerce_tasks.retry_order_emails(now=waiting.next_attempt_at - timedelta(seconds=1)) == 0
    )
    assert commerce_tasks.retry_order_emails(now=waiting.next_attempt_at) == 1
    [message] = smtp_server.wait_for(1)
    assert message["Subject"] == f"Your order #{order.number}"
    assert _email(order).attempts == 2


def test_sending_again_goes_to_the_orders_current_address(mailoutbox):
    order = _place()
    relay.drain()
    with schema_context("acme"):
        Order.objects.filter(pk=order.pk).update(email="ada@new.example")
        email = order_emails.order_email_resend(email_id=_email(order).pk)
        with pytest.raises(OrderEmailNotFound):
            order_emails.order_email_resend(email_id=email.pk + 1000)
    assert [message.to for message in mailoutbox] == [["ada@example.com"], ["ada@new.example"]]
    assert email.recipient == "ada@new.example" and email.state == "sent"
