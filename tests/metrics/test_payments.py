"""Card payments under the "payments" error policy, and payment_attempts_total.

Against the fake card gateway (a real HTTP server on a free port), on committed data.
"""

from __future__ import annotations

import pytest

from apps.commerce.errors import PaymentDeclined, PaymentUnavailable
from apps.commerce.payments.selectors import payments_for
from apps.commerce.payments.test_card import BREAKER, gateway_breaker
from tests.commerce.test_payments import SLOW, UNAVAILABLE, charge

from .support import increase, scrape

DECLINED_CARD = "4000 0000 0000 0002"


def outcome(before, after, name: str) -> float:
    return increase(
        before, after, "payment_attempts_total", provider="test_card", kind="charge", outcome=name
    )


def test_a_decline_is_counted_as_declined(paying):
    before = scrape()
    with pytest.raises(PaymentDeclined):
        charge(number=DECLINED_CARD)
    after = scrape()
    assert outcome(before, after, "declined") == 1
    assert outcome(before, after, "approved") == 0
    charge(reference="chk-2")
    assert outcome(after, scrape(), "approved") == 1


def test_a_gateway_5xx_is_tried_again_with_the_same_key_and_charges_once(paying):
    paying.fail_next(1)
    before = scrape()

    attempt = charge()

    after = scrape()
    assert (attempt.outcome, attempt.tries) == ("approved", 1)
    assert paying.requests == 2  # the 503, then the charge
    assert len(paying.charges_for("chk-1")) == 1
    assert outcome(before, after, "approved") == 1
    assert increase(before, after, "circuit_breaker_failures_total", breaker=BREAKER) == 1


def test_an_outage_longer_than_the_policy_fails_with_the_clear_message(paying, settings):
    attempts = settings.ERROR_POLICIES["payments"]["MAX_ATTEMPTS"]
    paying.fail_next(attempts)
    before = scrape()

    with pytest.raises(PaymentUnavailable) as refused:
        charge()

    assert refused.value.detail == UNAVAILABLE
    assert paying.requests == attempts
    [attempt] = payments_for("chk-1")
    assert (attempt.outcome, attempt.error_code) == ("failed", "unavailable")
    assert outcome(before, scrape(), "error") == 1
    # The same key again once the gateway is back: the same attempt, charged once.
    retried = charge()
    assert (retried.pk, retried.tries, retried.outcome) == (attempt.pk, 2, "approved")


def test_a_timeout_is_not_tried_again_in_the_request(paying):
    before = scrape()
    with pytest.raises(PaymentUnavailable):
        charge(number=SLOW)
    assert paying.requests == 1
    assert outcome(before, scrape(), "timeout") == 1


def test_an_open_breaker_falls_back_without_calling(paying):
    gateway_breaker().open()
    before = scrape()
    assert before[("circuit_breaker_state", (("breaker", BREAKER),))] == 2

    with pytest.raises(PaymentUnavailable) as refused:
        charge()

    assert refused.value.detail == UNAVAILABLE
    assert paying.requests == 0
    assert outcome(before, scrape(), "error") == 1
