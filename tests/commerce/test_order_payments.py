"""Orders and their money together (``apps.commerce.order_payments``): a refund of a card order
is paid back by the gateway before the order records it, a refund of a bank transfer only
recorded; a transfer received confirms the checkout's pending charge in the transaction that
marks the order paid. Through the services, the orders API and the order admin.

Payment services refuse to run inside a transaction: committed data (``placing``), the
card gateway the local fake.
"""

from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone
from django_tenants.utils import schema_context
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from apps.commerce import order_payments
from apps.commerce.errors import (
    CommerceInvalid,
    OrderVersionConflict,
    PaymentConflict,
    PaymentUnavailable,
    RefundNotRecorded,
)
from apps.commerce.models import Order, OrderEvent, OrderStatus, PaymentAttempt, PaymentStatus
from apps.commerce.order_payments import (
    order_record_transfer,
    order_refund_with_payment,
    order_transition_with_payment,
)
from apps.commerce.payments.services import payment_refund
from apps.commerce.placement import checkout_place_order
from apps.events.models import OutboxEvent
from tests.api.conftest import assert_problem
from tests.conftest import tenant_client
from tests.factories import StaffFactory

from .checkout_factories import eur_variant, stocked
from .concurrency import race
from .test_payments import closed_port
from .test_placement import VISA, _at_payment
from .test_placement import placing as _placing  # noqa: F401 (the fixture ``shop`` takes)

ORDERS_API = "/api/v1/commerce/orders/"
_shirts = itertools.count(1)
ORDERS_ADMIN = "/admin/commerce/order/"


@pytest.fixture
def shop(request) -> dict:
    """test_placement's ``placing``: acme on committed data selling in EUR, the gateway up."""
    return request.getfixturevalue("_placing")


def _placed(shop, provider_code: str, card=None) -> Order:
    """An order of 2 x 10.00 + 4.90 shipping = 24.90 EUR, placed through the checkout."""
    shirt = eur_variant("10.00", f"Shirt {next(_shirts)}")
    stocked(shirt, main=5)
    checkout = _at_payment(shop["method"], (shirt, 2))
    return checkout_place_order(checkout_id=checkout.pk, provider_code=provider_code, card=card)


@pytest.fixture
def card_order(shop) -> Order:
    order = _placed(shop, "test_card", VISA)
    assert order.status == OrderStatus.PAID and order.total == Decimal("24.90")
    return order


@pytest.fixture
def transfer_order(shop) -> Order:
    order = _placed(shop, "manual")
    assert order.status == OrderStatus.PENDING
    return order


def _refunds(order: Order) -> list[dict]:
    rows = OrderEvent.objects.filter(order_id=order.pk, type="commerce.order.refunded")
    return [row.payload for row in rows.order_by("version")]


def _refund_attempts(order: Order) -> list[tuple[str, Decimal, int]]:
    rows = PaymentAttempt.objects.filter(reference=order.checkout_reference, kind="refund")
    return [(a.outcome, a.amount, a.tries) for a in rows.order_by("number")]


# -- refunds of a card order -------------------------------------------------------------------


def test_a_card_refund_is_paid_back_by_the_gateway_then_recorded_with_its_reference(
    shop, card_order
):
    gateway = shop["gateway"]
    order = order_refund_with_payment(
        order_id=card_order.pk, amount=Decimal("10.00"), reason="Dent", expected_version=2
    )
    assert (order.status, order.payment_status, order.refunded_amount) == (
        OrderStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED, Decimal("10.00"),
    )  # fmt: skip
    [paid_back] = gateway.refunds.values()
    assert paid_back["amount"] == "10.00"
    [event] = _refunds(order)
    assert event["payment_reference"] == paid_back["id"] and event["reason"] == "Dent"

    order = order_refund_with_payment(order_id=card_order.pk, amount="14.90")
    assert (order.status, order.payment_status) == (OrderStatus.REFUNDED, PaymentStatus.REFUNDED)
    assert sorted(r["amount"] for r in gateway.refunds.values()) == ["10.00", "14.90"]
    assert [e["payment_reference"] for e in _refunds(order)] == [
        a.provider_reference
        for a in PaymentAttempt.objects.filter(kind="refund").order_by("number")
    ]


def test_a_refused_refund_calls_no_gateway_and_changes_nothing(shop, card_order):
    gateway = shop["gateway"]
    before = gateway.requests
    with pytest.raises(CommerceInvalid) as refused:
        order_refund_with_payment(order_id=card_order.pk, amount="24.91")
    assert "24.90" in refused.value.errors["amount"]
    with pytest.raises(OrderVersionConflict):
        order_refund_with_payment(order_id=card_order.pk, amount="1.00", expected_version=1)
    assert gateway.requests == before and not gateway.refunds
    assert not PaymentAttempt.objects.filter(kind="refund").exists()
    assert Order.objects.get(pk=card_order.pk).version == card_order.version


def test_a_gateway_outage_is_a_503_with_the_order_unchanged_and_the_retry_is_the_same_refund(
    shop, card_order, settings
):
    live_url = settings.TEST_CARD_GATEWAY_URL
    settings.TEST_CARD_GATEWAY_URL = f"http://127.0.0.1:{closed_port()}"
    with pytest.raises(PaymentUnavailable):
        order_refund_with_payment(order_id=card_order.pk, amount="5.00")
    unchanged = Order.objects.get(pk=card_order.pk)
    assert (unchanged.version, unchanged.refunded_amount) == (card_order.version, 0)
    assert _refund_attempts(card_order) == [("failed", Decimal("5.00"), 1)]

    settings.TEST_CARD_GATEWAY_URL = live_url
    order = order_refund_with_payment(order_id=card_order.pk, amount="5.00")
    assert order.refunded_amount == Decimal("5.00")
    assert _refund_attempts(card_order) == [("approved", Decimal("5.00"), 2)]
    assert len(shop["gateway"].refunds) == 1


def test_a_refund_paid_back_but_not_recorded_is_recorded_by_the_next_never_paid_twice(
    shop, card_order
):
    """The process stopped between the gateway's refund and the order's record."""
    gateway = shop["gateway"]
    lost = payment_refund(order_reference=card_order.checkout_reference, amount="7.00")
    # Its caller may still be on its way to record it: wait.
    with pytest.raises(PaymentConflict):
        order_refund_with_payment(order_id=card_order.pk, amount="7.00")
    PaymentAttempt.objects.filter(pk=lost.pk).update(updated_at=timezone.now() - timedelta(hours=1))
    with pytest.raises(RefundNotRecorded) as refused:
        order_refund_with_payment(order_id=card_order.pk, amount="3.00")
    assert refused.value.extra["payment_reference"] == lost.provider_reference
    assert "7.00" in refused.value.detail and refused.value.extra["amount"] == "7.00"

    order = order_refund_with_payment(order_id=card_order.pk, amount="7.00", reason="late")
    assert order.refunded_amount == Decimal("7.00")
    assert len(gateway.refunds) == 1
    assert [e["payment_reference"] for e in _refunds(order)] == [lost.provider_reference]
    # Recorded now: the next refund is paid back again.
    order_refund_with_payment(order_id=card_order.pk, amount="3.00")
    assert len(gateway.refunds) == 2


def test_racing_refunds_the_gateway_and_the_order_agree(shop, card_order):
    """Three merchants refund 10.00 of 24.90 at once: two fit, the gateway's ledger serializes
    them, and the order records exactly what the gateway paid back."""
    outcomes = race([lambda: order_refund_with_payment(order_id=card_order.pk, amount="10.00")] * 3)
    assert all(outcome[0] in ("ok", "refused") for outcome in outcomes), outcomes
    paid_back = sorted(r["amount"] for r in shop["gateway"].refunds.values())
    order = Order.objects.get(pk=card_order.pk)
    assert order.refunded_amount == sum((Decimal(a) for a in paid_back), Decimal(0))
    assert len(paid_back) == sum(outcome[0] == "ok" for outcome in outcomes) >= 1
    assert sorted(e["payment_reference"] for e in _refunds(order)) == sorted(
        r["id"] for r in shop["gateway"].refunds.values()
    )


@hypothesis_settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(amounts=st.lists(st.decimals("0.01", "20.00", places=2), min_size=1, max_size=4))
def test_refunds_in_any_amounts_leave_the_gateway_and_the_order_agreeing(shop, amounts):
    """Each refund is paid back and recorded when it fits in what is left, refused before
    the gateway when it does not; the order refunds what the gateway paid back, no more."""
    order = _placed(shop, "test_card", VISA)
    left, accepted = order.total, []
    for amount in amounts:
        if amount <= left:
            order = order_refund_with_payment(order_id=order.pk, amount=amount)
            left, accepted = left - amount, [*accepted, amount]
        else:
            with pytest.raises(CommerceInvalid):
                order_refund_with_payment(order_id=order.pk, amount=amount)
    paid_back = [
        Decimal(refund["amount"])
        for refund in shop["gateway"].refunds.values()
        if refund["charge"] == order.payment_reference
    ]
    assert sorted(paid_back) == sorted(accepted)
    order = Order.objects.get(pk=order.pk)
    assert order.refunded_amount == sum(accepted, Decimal(0)) == order.total - left
    assert (order.status == OrderStatus.REFUNDED) == (left == 0)


# -- bank transfers ----------------------------------------------------------------------------


def test_a_transfer_refund_is_only_recorded(shop, transfer_order):
    paid = order_record_transfer(
        order_id=transfer_order.pk, reference="BANK-1", amount=transfer_order.total
    )
    order = order_refund_with_payment(order_id=paid.pk, amount="24.90")
    assert order.status == OrderStatus.REFUNDED
    assert shop["gateway"].requests == 0
    assert _refund_attempts(order) == []
    assert _refunds(order)[0]["payment_reference"] == ""


def test_a_transfer_received_marks_the_order_paid_and_confirms_its_pending_charge(
    transfer_order,
):
    order = order_record_transfer(
        order_id=transfer_order.pk, reference="BANK-42", amount="24.90", expected_version=1
    )
    assert (order.status, order.payment_reference) == (OrderStatus.PAID, "BANK-42")
    attempt = PaymentAttempt.objects.get(reference=transfer_order.checkout_reference)
    assert (attempt.outcome, attempt.provider_reference) == ("approved", "BANK-42")
    confirmed = OutboxEvent.objects.get(event_type="commerce.payment.confirmed")
    assert confirmed.payload["provider_reference"] == "BANK-42"
    assert OutboxEvent.objects.filter(
        event_type="commerce.order.paid", aggregate_id=str(order.pk)
    ).exists()


def test_a_transfer_whose_confirmation_fails_leaves_order_and_charge_as_they_were(
    transfer_order, monkeypatch
):
    """Both in one transaction: the order marked paid first (its row locked first, as every
    order write), then the charge confirmed; a failure of the second undoes the first."""
    confirm = order_payments.payment_confirm

    def confirm_then_fail(**kwargs):
        confirm(**kwargs)
        raise RuntimeError("the connection dropped")

    monkeypatch.setattr(order_payments, "payment_confirm", confirm_then_fail)
    outbox = OutboxEvent.objects.count()
    with pytest.raises(RuntimeError):
        order_record_transfer(order_id=transfer_order.pk, reference="BANK-1", amount="24.90")
    order = Order.objects.get(pk=transfer_order.pk)
    assert (order.status, order.version) == (OrderStatus.PENDING, 1)
    attempt = PaymentAttempt.objects.get(reference=transfer_order.checkout_reference)
    assert (attempt.outcome, attempt.provider_reference) == ("pending", attempt.reference)
    assert OutboxEvent.objects.count() == outbox


def test_a_wrong_amount_confirms_nothing(transfer_order):
    with pytest.raises(CommerceInvalid):
        order_record_transfer(order_id=transfer_order.pk, reference="BANK-1", amount="20.00")
    attempt = PaymentAttempt.objects.get(reference=transfer_order.checkout_reference)
    assert attempt.outcome == "pending"


def test_the_dispatcher_refuses_data_an_action_does_not_take(transfer_order):
    with pytest.raises(CommerceInvalid) as refused:
        order_transition_with_payment(
            order_id=transfer_order.pk, action="mark_paid", reference="B", amount="24.90",
            payment_reference="x",
        )  # fmt: skip
    assert set(refused.value.errors) == {"payment_reference"}


# -- through the API and the admin -------------------------------------------------------------


@pytest.fixture
def merchant_client(shop):
    """acme's client logged in as a merchant (committed, removed afterwards)."""
    client = tenant_client("acme")
    user = StaffFactory(email="merchant-pay@acme.test")
    user.groups.add(Group.objects.get(name="Merchant"))
    client.force_login(user)
    yield client
    with schema_context("acme"):
        get_user_model().objects.filter(pk=user.pk).delete()


def test_the_apis_refunds_and_refund_transition_pay_back_through_the_gateway(
    shop, card_order, merchant_client
):
    url = f"{ORDERS_API}{card_order.pk}/"
    response = merchant_client.post(
        f"{url}refunds/", {"amount": "4.90"}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    response = merchant_client.post(
        f"{url}transitions/refund/", {"amount": "20.00", "expected_version": 3},
        content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "refunded"
    assert sorted(r["amount"] for r in shop["gateway"].refunds.values()) == ["20.00", "4.90"]


def test_the_api_answers_503_when_the_gateway_is_down(card_order, merchant_client, settings):
    settings.TEST_CARD_GATEWAY_URL = f"http://127.0.0.1:{closed_port()}"
    response = merchant_client.post(
        f"{ORDERS_API}{card_order.pk}/refunds/", {"amount": "4.90"},
        content_type="application/json",
    )  # fmt: skip
    assert_problem(response, 503, "payment_unavailable")
    assert Order.objects.get(pk=card_order.pk).refunded_amount == 0


def test_the_apis_mark_paid_confirms_the_transfer(transfer_order, merchant_client):
    response = merchant_client.post(
        f"{ORDERS_API}{transfer_order.pk}/transitions/mark_paid/",
        {"reference": "BANK-7", "amount": "24.90"}, content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 200, response.content
    attempt = PaymentAttempt.objects.get(reference=transfer_order.checkout_reference)
    assert (attempt.outcome, attempt.provider_reference) == ("approved", "BANK-7")


def test_the_admins_refund_form_pays_back_through_the_gateway(shop, card_order, merchant_client):
    response = merchant_client.post(
        f"{ORDERS_ADMIN}{card_order.pk}/transition/refund/",
        {"refund-expected_version": 2, "refund-amount": "24.90", "refund-reason": "Lost"},
        follow=True,
    )  # fmt: skip
    assert [str(m) for m in response.context["messages"]] == [
        f"Order #{card_order.number} was refunded."
    ]
    [paid_back] = shop["gateway"].refunds.values()
    assert paid_back["amount"] == "24.90"
    assert _refunds(card_order)[0]["payment_reference"] == paid_back["id"]


def test_the_admins_mark_paid_form_confirms_the_transfer(transfer_order, merchant_client):
    merchant_client.post(
        f"{ORDERS_ADMIN}{transfer_order.pk}/transition/mark_paid/",
        {"mark_paid-expected_version": 1, "mark_paid-reference": "BANK-9",
         "mark_paid-amount": "24.90"},
    )  # fmt: skip
    attempt = PaymentAttempt.objects.get(reference=transfer_order.checkout_reference)
    assert (attempt.outcome, attempt.provider_reference) == ("approved", "BANK-9")
    assert Order.objects.get(pk=transfer_order.pk).status == OrderStatus.PAID
