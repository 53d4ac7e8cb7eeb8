"""Payments against the fake card gateway, a real HTTP server on a free port (it stands for
the outside card processor), on committed data: a payment service commits its attempt
before it calls the provider, so it cannot run inside a test's transaction.
"""

from __future__ import annotations

import logging
import socket
from datetime import timedelta
from decimal import Decimal
from uuid import uuid4

import pytest
import requests
from django.db import connection, transaction
from django.utils import timezone, translation
from django_tenants.utils import schema_context
from hypothesis import given
from hypothesis import strategies as st

from apps.api.exceptions import exception_handler
from apps.commerce.errors import (
    CommerceInvalid,
    PaymentConflict,
    PaymentDeclined,
    PaymentInsideTransaction,
    PaymentNotFound,
    PaymentUnavailable,
)
from apps.commerce.models import PaymentAttempt
from apps.commerce.payments import fake_gateway
from apps.commerce.payments.base import providers
from apps.commerce.payments.cards import card_brand, luhn_valid, normalize_card_number
from apps.commerce.payments.reconciliation import payments_next_reconcile, payments_reconcile
from apps.commerce.payments.selectors import payments_for
from apps.commerce.payments.services import (
    payment_charge,
    payment_confirm,
    payment_refund,
    payments_link_order,
)
from apps.core.breakers import reset_all as reset_breakers
from apps.core.errors import InvalidTransition
from apps.events.models import OutboxEvent

from .concurrency import race

VISA = "4242 4242 4242 4242"
MASTERCARD = "5555-5555-5555-4444"
SLOW = "4000 0000 0000 0119"
UNAVAILABLE = "The card service is unavailable; nothing was charged. Try again in a minute."


def card(number: str = VISA, **fields) -> dict:
    return {"number": number, "exp_month": 12, "exp_year": 2099, "cvc": "123", **fields}


@pytest.fixture
def gateway(settings):
    """The fake gateway on a free port; the test card provider talks to it."""
    server, thread = fake_gateway.start(slow_seconds=settings.TEST_CARD_GATEWAY_SLOW_SECONDS)
    settings.TEST_CARD_GATEWAY_URL = f"http://127.0.0.1:{server.server_address[1]}"
    yield server.gateway
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def paying(live_db, gateway):
    """acme's schema on committed data, with the gateway; the attempts made go afterwards."""
    with schema_context("acme"):
        yield gateway
        PaymentAttempt.objects.all().delete()
    connection.set_schema_to_public()


def charge(reference: str = "chk-1", number: str = VISA, amount: str = "12.50", **fields):
    return payment_charge(
        reference=reference, amount=amount, currency="EUR", provider_code="test_card",
        card=card(number), **fields,
    )  # fmt: skip


def attempted_events(attempt: PaymentAttempt) -> list[dict]:
    rows = OutboxEvent.objects.filter(aggregate_id=str(attempt.pk)).order_by("position")
    return [{"type": row.event_type, **row.payload} for row in rows]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- card numbers (no database) -------------------------------------------------------------


@given(
    digits=st.text(alphabet="0123456789", min_size=12, max_size=19),
    separators=st.lists(st.sampled_from([" ", "-", "  ", " - ", "\t"]), max_size=19),
)
def test_normalization_drops_every_space_and_dash_and_keeps_the_digits(digits, separators):
    typed = "".join(
        d + (separators[i] if i < len(separators) else "") for i, d in enumerate(digits)
    )
    assert normalize_card_number(f"  {typed} ") == digits
    assert luhn_valid(normalize_card_number(typed)) == luhn_valid(digits)


@given(prefix=st.text(alphabet="0123456789", min_size=11, max_size=18))
def test_exactly_one_check_digit_makes_a_number_luhn_valid(prefix):
    assert sum(luhn_valid(prefix + str(check)) for check in range(10)) == 1


def test_known_numbers_and_brands():
    assert luhn_valid("4242424242424242") and luhn_valid("5555555555554444")
    assert not luhn_valid("4242424242424241")
    assert card_brand("4242424242424242") == "visa"
    assert card_brand("5555555555554444") == "mastercard"
    assert normalize_card_number(4242) == ""


def test_production_offers_only_bank_transfers_unless_enabled(settings):
    settings.PAYMENT_PROVIDERS = ["manual"]
    assert [p.code for p in providers()] == ["manual"]
    settings.PAYMENT_PROVIDERS = ["manual", "test_card"]
    assert [p.code for p in providers()] == ["manual", "test_card"]


# -- charges --------------------------------------------------------------------------------


@pytest.mark.parametrize(("number", "brand"), [(VISA, "visa"), (MASTERCARD, "mastercard")])
def test_an_approved_charge_is_recorded_and_published(paying, number, brand):
    attempt = charge(number=number)

    assert attempt.outcome == "approved"
    assert attempt.provider_reference.startswith("ch_")
    assert (attempt.card_last4, attempt.card_brand) == (number[-4:], brand)
    assert attempt.idempotency_key == "chk-1:charge:1"
    [at_gateway] = paying.charges_for("chk-1")
    assert at_gateway["id"] == attempt.provider_reference
    assert at_gateway["amount"] == "12.50"
    [event] = attempted_events(attempt)
    assert event["type"] == "commerce.payment.attempted"
    assert (event["outcome"], event["amount"], event["currency"]) == ("approved", "12.50", "EUR")
    assert event["card_last4"] == number[-4:]
    assert list(payments_for("chk-1")) == [attempt]


@pytest.mark.parametrize(
    ("number", "code", "message"),
    [
        ("4000 0000 0000 0002", "card_declined", "Your card was declined."),
        ("4000 0000 0000 9995", "insufficient_funds", "Your card has insufficient funds."),
        ("4000 0000 0000 0069", "expired_card", "Your card has expired."),
    ],
)
def test_a_declined_card_is_recorded_and_refused_with_402(paying, number, code, message):
    with pytest.raises(PaymentDeclined) as refused:
        charge(number=number)

    assert refused.value.status == 402
    assert refused.value.detail == message
    [attempt] = payments_for("chk-1")
    assert (attempt.outcome, attempt.error_code, attempt.message) == ("declined", code, message)
    assert refused.value.extra["attempt_id"] == str(attempt.pk)
    # Another card afterwards is a new attempt with a new key.
    second = charge()
    assert (second.number, second.idempotency_key, second.outcome) == (
        2,
        "chk-1:charge:2",
        "approved",
    )
    assert [a.outcome for a in payments_for("chk-1")] == ["declined", "approved"]


def test_a_decline_message_is_in_the_shoppers_language(paying):
    with translation.override("de"), pytest.raises(PaymentDeclined) as refused:
        charge(number="4000 0000 0000 0002")
    assert refused.value.detail == "Ihre Karte wurde abgelehnt."


def test_a_timeout_fails_and_the_retry_of_the_same_attempt_charges_once(paying):
    with pytest.raises(PaymentUnavailable) as refused:
        charge(number=SLOW)

    assert refused.value.status == 503
    [attempt] = payments_for("chk-1")
    assert (attempt.outcome, attempt.error_code, attempt.tries) == ("failed", "timeout", 1)
    # The gateway finishes the charge it was sent after the client gave up on it ...
    assert len(paying.wait_for_charges("chk-1", 1, timeout=10)) == 1

    retried = charge(number=SLOW)  # ... and the retry, with the same key, gets that answer

    assert (retried.pk, retried.tries, retried.outcome) == (attempt.pk, 2, "approved")
    assert retried.idempotency_key == attempt.idempotency_key
    [at_gateway] = paying.charges_for("chk-1")
    assert retried.provider_reference == at_gateway["id"]
    assert [(e["outcome"], e["tries"]) for e in attempted_events(retried)] == [
        ("failed", 1),
        ("approved", 2),
    ]


NOT_KNOWN_YET = (
    "The outcome of your earlier payment is not known yet, so nothing was charged now. "
    "Try again in a minute."
)


def test_another_card_while_the_gateway_still_works_on_the_timed_out_charge_is_refused(paying):
    with pytest.raises(PaymentUnavailable):
        charge(number=SLOW)
    # The gateway is still sleeping on the slow card: the earlier charge's outcome is unknown.
    with pytest.raises(PaymentUnavailable) as refused:
        charge(number=VISA)

    assert (refused.value.status, refused.value.detail) == (503, NOT_KNOWN_YET)
    [attempt] = payments_for("chk-1")
    assert (attempt.outcome, attempt.error_code, attempt.tries) == ("failed", "timeout", 1)
    assert paying.requests == 1  # the slow charge only: the new card was never sent
    assert [c["last4"] for c in paying.wait_for_charges("chk-1", 1, timeout=10)] == ["0119"]


def test_another_card_after_a_timeout_the_gateway_finished_is_not_charged(paying):
    """The first card's charge went through after the shop stopped waiting: paying with
    another card settles it as approved, and that charge pays; the new card is not sent."""
    with pytest.raises(PaymentUnavailable):
        charge(number=SLOW)
    [finished] = paying.wait_for_charges("chk-1", 1, timeout=10)

    paid = charge(number=VISA)

    [attempt] = payments_for("chk-1")
    assert paid.pk == attempt.pk and attempt.number == 1
    assert (attempt.outcome, attempt.provider_reference, attempt.tries) == (
        "approved", finished["id"], 1,
    )  # fmt: skip
    assert attempt.card_last4 == "0119" and "finished this payment" in attempt.message
    assert [c["id"] for c in paying.charges_for("chk-1")] == [finished["id"]]
    assert [(e["outcome"], e["error_code"]) for e in attempted_events(attempt)] == [
        ("failed", "timeout"),
        ("approved", ""),
    ]
    with pytest.raises(PaymentConflict):  # paid: no other card is charged afterwards either
        charge(number=MASTERCARD)
    assert len(paying.charges_for("chk-1")) == 1


def test_an_earlier_charge_found_approved_for_another_total_is_refunded_and_nothing_charged(
    paying,
):
    with pytest.raises(PaymentUnavailable):
        charge(number=SLOW, amount="12.50")
    [finished] = paying.wait_for_charges("chk-1", 1, timeout=10)

    with pytest.raises(PaymentConflict) as refused:
        charge(number=VISA, amount="15.00")  # the cart changed meanwhile

    assert "12.50 EUR went through after all" in refused.value.detail
    assert [(a.kind, a.outcome) for a in payments_for("chk-1")] == [
        ("charge", "approved"), ("refund", "approved"),
    ]  # fmt: skip
    [charged] = paying.charges_for("chk-1")
    assert charged["id"] == finished["id"] and charged["refunded"] == "12.50"

    # The shopper pays the new total: the refunded charge does not count as paying it.
    paid = charge(number=VISA, amount="15.00")
    assert (paid.outcome, paid.number, paid.amount) == ("approved", 2, Decimal("15.00"))
    assert [c["amount"] for c in paying.charges_for("chk-1")] == ["12.50", "15.00"]
    with pytest.raises(PaymentConflict):
        charge(number=VISA, amount="15.00")  # paid now
    # A refund of that order gives back the second charge, never more than it.
    with pytest.raises(CommerceInvalid) as too_much:
        payment_refund(order_reference="chk-1", amount="15.01")
    assert "15.00" in str(too_much.value.errors["amount"])
    refund = payment_refund(order_reference="chk-1")
    assert (refund.amount, refund.outcome) == (Decimal("15.00"), "approved")
    second = next(c for c in paying.charges_for("chk-1") if c["amount"] == "15.00")
    assert second["refunded"] == "15.00"


def test_another_card_after_a_timeout_that_never_reached_the_gateway_is_charged(paying):
    """The first request was lost on its way: the look-up finds nothing, the first attempt
    is settled as not received, and the other card is a new attempt with a new key."""
    paying.lose_next(1)
    with pytest.raises(PaymentUnavailable):
        charge(number=MASTERCARD)
    [first] = payments_for("chk-1")
    assert (first.outcome, first.error_code) == ("failed", "timeout")

    second = charge(number=VISA)

    first.refresh_from_db()
    assert (first.outcome, first.error_code) == ("failed", "not_received")
    assert first.message == "The payment service never received this payment; nothing was charged."
    assert (second.number, second.idempotency_key, second.outcome) == (
        2, "chk-1:charge:2", "approved",
    )  # fmt: skip
    [at_gateway] = paying.charges_for("chk-1")
    assert (at_gateway["id"], at_gateway["last4"]) == (second.provider_reference, "4242")
    assert at_gateway["idempotency_key"] == "chk-1:charge:2"
    assert [e["error_code"] for e in attempted_events(first)] == ["timeout", "not_received"]


def test_another_card_while_the_gateway_is_down_is_refused_and_charges_nothing(paying, settings):
    with pytest.raises(PaymentUnavailable):
        charge(number=SLOW)
    paying.wait_for_charges("chk-1", 1, timeout=10)
    live_url = settings.TEST_CARD_GATEWAY_URL
    settings.TEST_CARD_GATEWAY_URL = f"http://127.0.0.1:{closed_port()}"

    with pytest.raises(PaymentUnavailable) as refused:
        charge(number=VISA)

    assert (refused.value.status, refused.value.detail) == (503, NOT_KNOWN_YET)
    [attempt] = payments_for("chk-1")
    assert (attempt.outcome, attempt.error_code, attempt.tries) == ("failed", "timeout", 1)
    assert len(attempted_events(attempt)) == 1
    assert paying.requests == 1 and len(paying.charges_for("chk-1")) == 1
    # Back up, and the breaker (opened by the timeout and the look-up's two tries) lets calls
    # through again: the look-up finds the first charge approved, nothing else is charged.
    settings.TEST_CARD_GATEWAY_URL = live_url
    reset_breakers()
    assert charge(number=VISA).pk == attempt.pk
    assert len(paying.charges_for("chk-1")) == 1


def test_a_paid_checkout_refuses_another_charge(paying):
    charge()
    with pytest.raises(PaymentConflict):
        charge(number=MASTERCARD)
    assert len(paying.charges_for("chk-1")) == 1


def test_two_clicks_on_pay_charge_once(paying):
    outcomes = race([lambda: charge(reference="chk-race")] * 2)

    assert sorted(outcome[0] for outcome in outcomes) == ["ok", "refused"], outcomes
    assert ("refused", "PaymentConflict") in outcomes
    assert len(paying.charges_for("chk-race")) == 1
    assert [a.outcome for a in payments_for("chk-race")] == ["approved"]


def test_the_breaker_opens_after_failures_and_then_refuses_without_calling(paying, settings):
    live_url = settings.TEST_CARD_GATEWAY_URL
    settings.TEST_CARD_GATEWAY_URL = f"http://127.0.0.1:{closed_port()}"
    for index in range(settings.TEST_CARD_BREAKER_FAIL_MAX):
        with pytest.raises(PaymentUnavailable) as refused:
            charge(reference=f"chk-down-{index}")
        assert refused.value.detail == UNAVAILABLE

    settings.TEST_CARD_GATEWAY_URL = live_url
    with pytest.raises(PaymentUnavailable) as refused:
        charge(reference="chk-after")

    assert refused.value.detail == UNAVAILABLE
    assert paying.requests == 0  # the gateway is up, and was never called
    recorded = PaymentAttempt.objects.order_by("reference")
    assert [(a.reference, a.outcome, a.error_code) for a in recorded] == [
        ("chk-after", "failed", "unavailable"),
        *[(f"chk-down-{i}", "failed", "unavailable") for i in range(3)],
    ]


def test_an_invalid_card_is_refused_before_anything_is_recorded_or_called(paying):
    with pytest.raises(CommerceInvalid) as refused:
        payment_charge(
            reference="chk-1", amount="1.0", currency="EUR", provider_code="test_card",
            card=card("4242 4242 4242 4241", exp_month=13, cvc="12"),
        )  # fmt: skip
    assert set(refused.value.errors) == {"card.number", "card.exp_month", "card.cvc"}
    with pytest.raises(CommerceInvalid) as refused:
        charge(number=VISA, amount="-1")
    assert set(refused.value.errors) == {"amount"}
    with pytest.raises(CommerceInvalid) as refused:
        payment_charge(
            reference="chk-1", amount="1", currency="EUR", provider_code="test_card",
            card=card(exp_month=1, exp_year=2020),
        )  # fmt: skip
    assert set(refused.value.errors) == {"card.exp_year"}
    assert paying.requests == 0
    assert not PaymentAttempt.objects.exists()
    status, body = _as_problem(refused.value)
    assert status == 400 and "card.exp_year" in body["errors"]


def test_a_disabled_provider_is_bad_input(paying, settings):
    settings.PAYMENT_PROVIDERS = ["manual"]
    with pytest.raises(CommerceInvalid) as refused:
        charge()
    assert set(refused.value.errors) == {"provider"}
    assert paying.requests == 0


def test_the_card_number_is_never_stored_or_logged(paying, caplog):
    caplog.set_level(logging.DEBUG)
    charge(reference="chk-a")
    with pytest.raises(PaymentDeclined):
        charge(reference="chk-b", number="4000 0000 0000 0002")
    with pytest.raises(PaymentUnavailable):
        charge(reference="chk-c", number=SLOW)

    table = connection.ops.quote_name(PaymentAttempt._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT row_to_json(t)::text FROM {table} t")  # noqa: S608
        rows = [row[0] for row in cursor.fetchall()]
    assert len(rows) == 3
    outbox = [str(row.payload) for row in OutboxEvent.objects.all()]
    assert len(outbox) == 3
    for number in (VISA, "4000 0000 0000 0002", SLOW):
        digits = number.replace(" ", "")
        for text in [*rows, *outbox, caplog.text]:
            # Nothing beyond the last four digits, in any spelling.
            assert digits[:12] not in text.replace(" ", "").replace("-", ""), text
    assert {row.payload["card_last4"] for row in OutboxEvent.objects.all()} == {
        "4242",
        "0002",
        "0119",
    }


def test_payments_refuse_to_run_inside_a_transaction(paying):
    with transaction.atomic(), pytest.raises(PaymentInsideTransaction):
        charge()


# -- bank transfers -------------------------------------------------------------------------


def test_a_bank_transfer_is_pending_with_instructions_until_confirmed(paying, settings):
    attempt = payment_charge(
        reference="chk-bank", amount="99.9", currency="EUR", provider_code="manual"
    )

    assert attempt.outcome == "pending"
    assert settings.PAYMENT_MANUAL_BANK_DETAILS["iban"] in attempt.message
    assert "chk-bank" in attempt.message and "99.90 EUR" in attempt.message
    assert paying.requests == 0

    confirmed = payment_confirm(attempt_id=attempt.pk, provider_reference="TRX-778")

    assert (confirmed.outcome, confirmed.provider_reference) == ("approved", "TRX-778")
    assert [e["type"] for e in attempted_events(attempt)] == [
        "commerce.payment.attempted",
        "commerce.payment.confirmed",
    ]
    with pytest.raises(InvalidTransition):
        payment_confirm(attempt_id=attempt.pk, provider_reference="TRX-778")
    with pytest.raises(PaymentConflict):  # bank transfers are paid back by the bank
        payment_refund(order_reference="chk-bank")
    with pytest.raises(PaymentNotFound):
        payment_confirm(attempt_id="not-a-uuid", provider_reference="x")


# -- refunds --------------------------------------------------------------------------------


def test_refunds_never_add_up_to_more_than_the_charge(paying):
    paid = charge(amount="20.00")

    part = payment_refund(order_reference="chk-1", amount="5.00")
    assert (part.kind, part.outcome, part.amount, part.number) == ("refund", "approved", 5, 1)
    assert part.provider_reference.startswith("re_")
    assert (part.card_last4, part.card_brand) == (paid.card_last4, paid.card_brand)
    with pytest.raises(CommerceInvalid) as refused:
        payment_refund(order_reference="chk-1", amount="15.01")
    assert set(refused.value.errors) == {"amount"}

    rest = payment_refund(order_reference="chk-1")

    assert rest.amount == Decimal("15.00")
    with pytest.raises(CommerceInvalid):
        payment_refund(order_reference="chk-1")
    assert [(a.kind, a.number) for a in payments_for("chk-1")] == [
        ("charge", 1), ("refund", 1), ("refund", 2),
    ]  # fmt: skip


def test_a_charge_through_a_provider_switched_off_since_is_still_refunded(paying, settings):
    paid = charge(amount="20.00")
    settings.PAYMENT_PROVIDERS = ["manual"]  # the card taken off the checkout meanwhile
    refund = payment_refund(order_reference="chk-1")
    assert (refund.provider, refund.outcome, refund.amount) == (
        paid.provider, "approved", Decimal("20.00"),
    )  # fmt: skip
    [at_gateway] = paying.charges_for("chk-1")
    assert at_gateway["refunded"] == "20.00"


def test_a_refund_needs_an_approved_charge(paying):
    with pytest.raises(PaymentNotFound):
        payment_refund(order_reference="chk-none")


# -- the gateway itself, and the API's mapping ------------------------------------------------


def test_the_gateway_replays_a_key_and_refuses_it_with_another_body(gateway, settings):
    url = settings.TEST_CARD_GATEWAY_URL
    body = {"amount": "3.00", "currency": "EUR", "reference": "r1", "card": card()}
    first = requests.post(
        f"{url}/v1/charges", json=body, headers={"Idempotency-Key": "k"}, timeout=5
    )
    again = requests.post(
        f"{url}/v1/charges", json=body, headers={"Idempotency-Key": "k"}, timeout=5
    )
    other = requests.post(
        f"{url}/v1/charges", json={**body, "amount": "4.00"}, headers={"Idempotency-Key": "k"},
        timeout=5,
    )  # fmt: skip
    keyless = requests.post(f"{url}/v1/charges", json=body, timeout=5)

    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert other.status_code == 422
    assert keyless.status_code == 400
    assert len(gateway.charges_for("r1")) == 1
    assert requests.get(f"{url}/health", timeout=5).json() == {"status": "ok"}
    listed = requests.get(f"{url}/v1/charges", params={"reference": "r1"}, timeout=5).json()
    assert [c["id"] for c in listed["data"]] == [first.json()["id"]]


def _as_problem(error) -> tuple[int, dict]:
    response = exception_handler(error, {})
    return response.status_code, response.data


def test_the_api_answers_402_and_503_for_payments(db):
    status, body = _as_problem(PaymentDeclined("Your card was declined.", attempt_id="a"))
    assert (status, body["code"], body["detail"]) == (
        402,
        "payment_declined",
        "Your card was declined.",
    )
    response = exception_handler(PaymentUnavailable(UNAVAILABLE, retry_after=60), {})
    assert response.status_code == 503
    assert response["Retry-After"] == "60"


@pytest.mark.parametrize("declined_before", [1, 12])
def test_a_charge_costs_the_same_queries_after_1_or_12_declines(
    paying, django_assert_num_queries, declined_before
):
    for _round in range(declined_before):
        with pytest.raises(PaymentDeclined):
            charge(number="4000 0000 0000 0002")
    # The search path, the advisory lock, the checkout's charges, the new attempt, its due
    # reconciliation marked, COMMIT; then the attempt locked, updated, the event's tenant, the
    # outbox row, COMMIT: none of it grows with the attempts before.
    with django_assert_num_queries(11):
        attempt = charge()
    assert attempt.number == declined_before + 1


# -- reconciliation: charges nobody came back for ----------------------------------------------


def later(settings, extra: float = 1):
    """When an attempt made now is due for reconciliation, and ``extra`` seconds more."""
    return timezone.now() + timedelta(seconds=settings.PAYMENT_RECONCILE_AFTER_SECONDS + extra)


def timed_out(at_gateway, reference: str = "chk-1", *, finished: bool) -> PaymentAttempt:
    """A charge whose answer never came: the gateway finished it, or never received it."""
    if not finished:
        at_gateway.lose_next(1)
    with pytest.raises(PaymentUnavailable):
        charge(reference=reference, number=SLOW if finished else MASTERCARD)
    if finished:
        assert len(at_gateway.wait_for_charges(reference, 1, timeout=10)) == 1
    [attempt] = payments_for(reference)
    assert (attempt.outcome, attempt.error_code) == ("failed", "timeout")
    return attempt


def test_an_abandoned_charge_the_gateway_finished_is_refunded_exactly_once(
    paying, settings, caplog
):
    attempt = timed_out(paying, finished=True)
    assert payments_next_reconcile() == attempt.updated_at + timedelta(
        seconds=settings.PAYMENT_RECONCILE_AFTER_SECONDS
    )
    assert payments_reconcile(now=timezone.now()) == 0  # not yet: the shopper may come back
    caplog.set_level(logging.WARNING)

    assert payments_reconcile(now=later(settings)) == 1
    assert payments_reconcile(now=later(settings, 3600)) == 0  # a second run finds nothing

    [charged] = paying.charges_for("chk-1")
    attempt.refresh_from_db()
    assert (attempt.outcome, attempt.provider_reference) == ("approved", charged["id"])
    assert [(a.kind, a.outcome, a.amount) for a in payments_for("chk-1")] == [
        ("charge", "approved", Decimal("12.50")),
        ("refund", "approved", Decimal("12.50")),
    ]
    assert charged["refunded"] == "12.50" and len(paying.refunds) == 1
    assert [e["outcome"] for e in attempted_events(attempt)] == ["failed", "approved"]
    assert "has no order: refunding it" in caplog.text
    assert payments_next_reconcile() is None


def test_a_shopper_who_paid_again_after_a_refund_and_left_is_refunded_too(paying, settings):
    """The first charge was refunded (reconciled); the shopper came back, paid again, and left
    before any order: that second charge is money taken with no order as well."""
    timed_out(paying, finished=True)
    assert payments_reconcile(now=later(settings)) == 1
    again = charge(number=VISA)
    assert (again.outcome, again.number) == ("approved", 2)
    assert payments_reconcile(now=timezone.now()) == 0  # not yet: an order may follow

    assert payments_reconcile(now=later(settings)) == 1
    assert [(a.kind, a.outcome, a.amount) for a in payments_for("chk-1")] == [
        ("charge", "approved", Decimal("12.50")),
        ("refund", "approved", Decimal("12.50")),
        ("charge", "approved", Decimal("12.50")),
        ("refund", "approved", Decimal("12.50")),
    ]
    assert {c["refunded"] for c in paying.charges_for("chk-1")} == {"12.50"}
    assert payments_reconcile(now=later(settings, 3600)) == 0
    assert payments_next_reconcile() is None


def test_an_abandoned_charge_that_never_reached_the_gateway_is_settled_as_not_received(
    paying, settings
):
    attempt = timed_out(paying, finished=False)

    assert payments_reconcile(now=later(settings)) == 1

    attempt.refresh_from_db()
    assert (attempt.outcome, attempt.error_code) == ("failed", "not_received")
    assert paying.charges_for("chk-1") == [] and paying.refunds == {}
    assert payments_reconcile(now=later(settings, 3600)) == 0
    assert payments_next_reconcile() is None


def test_a_charge_whose_checkout_became_an_order_is_left_alone(paying, settings):
    attempt = timed_out(paying, finished=True)
    payments_link_order(reference="chk-1", order_id=uuid4())
    requests_before = paying.requests

    assert payments_next_reconcile() is None
    assert payments_reconcile(now=later(settings)) == 0

    attempt.refresh_from_db()
    assert (attempt.outcome, attempt.error_code) == ("failed", "timeout")
    assert paying.requests == requests_before and paying.refunds == {}


def test_a_gateway_that_cannot_tell_leaves_the_charge_for_a_later_run(paying, settings):
    attempt = timed_out(paying, finished=True)
    paying.fail_next(settings.ERROR_POLICIES["payments"]["MAX_ATTEMPTS"])  # the look-up's tries
    first_run = later(settings)

    assert payments_reconcile(now=first_run) == 0

    attempt.refresh_from_db()
    assert (attempt.outcome, attempt.error_code) == ("failed", "timeout")
    assert paying.refunds == {}
    # Taken by that run: due again a period after it (the breaker has closed by then).
    reset_breakers()
    assert payments_reconcile(now=first_run + timedelta(seconds=1)) == 0
    period = timedelta(seconds=settings.PAYMENT_RECONCILE_AFTER_SECONDS)
    assert payments_next_reconcile() == first_run + period
    assert payments_reconcile(now=first_run + period) == 1
    assert [a.kind for a in payments_for("chk-1")] == ["charge", "refund"]


def test_two_runs_at_once_refund_once(paying, settings):
    for number in range(2):
        timed_out(paying, f"chk-{number}", finished=True)
    at = later(settings)

    outcomes = race([lambda: payments_reconcile(now=at)] * 2)

    assert sorted(outcome[0] for outcome in outcomes) == ["ok", "ok"], outcomes
    assert sum(outcome[1] for outcome in outcomes) == 2
    assert len(paying.refunds) == 2
    refunds = PaymentAttempt.objects.filter(kind="refund", outcome="approved")
    assert sorted(refunds.values_list("reference", flat=True)) == ["chk-0", "chk-1"]
