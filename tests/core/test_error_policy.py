"""The error policy's decisions, and ``call``'s retries in place."""

from __future__ import annotations

import pybreaker
import pytest

from apps.core.error_policy import (
    Action,
    ErrorPolicy,
    PermanentError,
    Superseded,
    TransientError,
    Unrecovered,
    policy,
)

POLICY = ErrorPolicy(
    max_attempts=3, base_delay=1, jitter=0, retryable=(TransientError,),
    fallback=(pybreaker.CircuitBreakerError,), ignored=(Superseded,),
)  # fmt: skip


@pytest.mark.parametrize(
    ("error", "attempt", "action"),
    [
        (TransientError(), 1, Action.RETRY),
        (TransientError(), 3, Action.FAIL),
        (pybreaker.CircuitBreakerError(), 1, Action.FALLBACK),
        (PermanentError(), 1, Action.FAIL),
        (ValueError(), 1, Action.FAIL),  # not retryable
        (Superseded(), 1, Action.IGNORE),
    ],
)
def test_decisions(error, attempt, action):
    assert POLICY.decide(error, attempt).action is action


def test_call_retries_in_place_with_the_backoff_then_succeeds():
    outcomes = [TransientError("503"), TransientError("503"), "done"]
    slept = []

    def flaky():
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    assert (
        ErrorPolicy(max_attempts=3, base_delay=1, jitter=0).call(flaky, sleep=slept.append)
        == "done"
    )
    assert slept == [1, 2]


def test_call_gives_up_with_the_decision():
    def down():
        raise pybreaker.CircuitBreakerError("open")

    with pytest.raises(Unrecovered) as gave_up:
        POLICY.call(down, sleep=lambda _: None)
    assert (gave_up.value.decision.action, gave_up.value.attempts) == (Action.FALLBACK, 1)


def test_the_platform_policies_come_from_the_settings(settings):
    settings.ERROR_POLICIES = {
        **settings.ERROR_POLICIES,
        "payments": {"MAX_ATTEMPTS": 5, "BASE_DELAY_SECONDS": 0.1, "MAX_DELAY_SECONDS": 2},
    }
    assert policy("payments").max_attempts == 5
    assert policy("relay").max_attempts == settings.EVENTS["MAX_ATTEMPTS"]
    assert policy("webhooks").schedule == tuple(settings.WEBHOOKS["RETRY_SCHEDULE_SECONDS"])
    with pytest.raises(KeyError):
        policy("nobody")
