"""One policy for what to do when an operation fails: retry (with backoff), fall back, fail,
or ignore.

The event relay, webhook delivery, card payments and the scheduled jobs all decide through
it, so retry behaviour is the same everywhere; their policies are built in one place,
``policy(name)``, from the settings that tune them (``EVENTS``, ``WEBHOOKS``,
``ERROR_POLICIES``).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import TypeVar

import pybreaker
from django.conf import settings

T = TypeVar("T")


class Action(Enum):
    RETRY = "retry"
    FALLBACK = "fallback"  # the dependency is known to be away: answer without it at once
    FAIL = "fail"  # give up: dead letter, alert
    IGNORE = "ignore"  # the failure does not matter; treat as done


class PermanentError(Exception):
    """Retrying cannot help (bad payload, unknown type): go straight to the dead letters."""


class TransientError(Exception):
    """A failure that a later attempt may not meet (a 5xx, a refused connection)."""


class Superseded(Exception):
    """Another run did, or is doing, this work (an expected race): nothing to report."""


@dataclass(frozen=True)
class Decision:
    action: Action
    delay: float = 0.0
    reason: str = ""


class Unrecovered(Exception):
    """``ErrorPolicy.call`` gave up: ``decision`` says FAIL or FALLBACK after ``attempts``."""

    def __init__(self, error: BaseException, decision: Decision, attempts: int) -> None:
        super().__init__(f"{decision.action.value} after {attempts} attempt(s): {error}")
        self.error, self.decision, self.attempts = error, decision, attempts


@dataclass(frozen=True)
class ErrorPolicy:
    max_attempts: int = 8
    base_delay: float = 1.0
    max_delay: float = 300.0
    jitter: float = 0.25  # +/- this fraction of the delay
    # Fixed delays before attempts 2, 3, ... (webhooks: 5 s, 30 s, 2 min, ...) instead of
    # doubling ``base_delay``; the last one repeats.
    schedule: tuple[float, ...] = ()
    permanent: tuple[type[BaseException], ...] = (PermanentError,)
    ignored: tuple[type[BaseException], ...] = ()
    # Errors that mean "the dependency is away" (an open breaker): no retry, the fallback.
    fallback: tuple[type[BaseException], ...] = ()
    # Only these are retried; any other error fails at once.
    retryable: tuple[type[BaseException], ...] = (BaseException,)

    def backoff(self, attempt: int) -> float:
        """Delay before attempt ``attempt + 1``: base * 2^(attempt-1), capped, or the
        ``schedule``'s delay; with jitter."""
        if self.schedule:
            delay = self.schedule[min(max(0, attempt - 1), len(self.schedule) - 1)]
        else:
            delay = min(self.max_delay, self.base_delay * (2 ** max(0, attempt - 1)))
        spread = delay * self.jitter
        return max(0.0, delay + random.uniform(-spread, spread))

    def decide(self, error: BaseException, attempt: int) -> Decision:
        """What to do after ``attempt`` attempts (1 = the first) ended in ``error``."""
        if isinstance(error, self.ignored):
            return Decision(Action.IGNORE, reason=type(error).__name__)
        if isinstance(error, self.permanent):
            return Decision(Action.FAIL, reason=f"permanent: {type(error).__name__}")
        if isinstance(error, self.fallback):
            return Decision(Action.FALLBACK, reason=type(error).__name__)
        if not isinstance(error, self.retryable):
            return Decision(Action.FAIL, reason=f"not retryable: {type(error).__name__}")
        if attempt >= self.max_attempts:
            return Decision(Action.FAIL, reason=f"gave up after {attempt} attempts")
        return Decision(Action.RETRY, delay=self.backoff(attempt))

    def call(
        self, func: Callable[..., T], *args, sleep: Callable[[float], None] = time.sleep, **kwargs
    ) -> T | None:
        """``func(*args, **kwargs)``, tried again in this thread while the policy says RETRY
        (after its delay). None when it says IGNORE; ``Unrecovered`` (from the last error)
        when it says FAIL or FALLBACK. For short, idempotent calls only: the caller waits."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return func(*args, **kwargs)
            except Exception as error:
                decision = self.decide(error, attempt)
                if decision.action is Action.RETRY:
                    sleep(decision.delay)
                    continue
                if decision.action is Action.IGNORE:
                    return None
                raise Unrecovered(error, decision, attempt) from error


# -- the platform's policies, in one place -----------------------------------------------------


def _relay() -> ErrorPolicy:
    config = settings.EVENTS
    return ErrorPolicy(
        max_attempts=config["MAX_ATTEMPTS"],
        base_delay=config["RETRY_BASE_SECONDS"],
        max_delay=config["RETRY_MAX_SECONDS"],
        # EventValidationError and UnknownEventType are permanent errors too.
        permanent=(PermanentError,),
    )


def _webhooks() -> ErrorPolicy:
    config = settings.WEBHOOKS
    return ErrorPolicy(
        max_attempts=len(config["RETRY_SCHEDULE_SECONDS"]) + 1,
        schedule=tuple(config["RETRY_SCHEDULE_SECONDS"]),
        jitter=config["RETRY_JITTER"],
    )


def _payments() -> ErrorPolicy:
    # Every call to a card gateway carries the attempt's idempotency key: a retry of a 5xx or
    # a refused connection cannot charge twice. A timeout is not retried in the request (the
    # shopper has waited long enough; the next "Pay" retries with the same key).
    config = settings.ERROR_POLICIES["payments"]
    return ErrorPolicy(
        max_attempts=config["MAX_ATTEMPTS"],
        base_delay=config["BASE_DELAY_SECONDS"],
        max_delay=config["MAX_DELAY_SECONDS"],
        retryable=(TransientError,),
        fallback=(pybreaker.CircuitBreakerError,),
    )


def _jobs() -> ErrorPolicy:
    config = settings.ERROR_POLICIES["jobs"]
    return ErrorPolicy(
        max_attempts=config["MAX_ATTEMPTS"],
        base_delay=config["BASE_DELAY_SECONDS"],
        max_delay=config["MAX_DELAY_SECONDS"],
        jitter=config["JITTER"],
        ignored=(Superseded,),
    )


POLICIES: dict[str, Callable[[], ErrorPolicy]] = {
    "relay": _relay,
    "webhooks": _webhooks,
    "payments": _payments,
    "jobs": _jobs,
}


def policy(name: str) -> ErrorPolicy:
    """The policy ``name`` ("relay", "webhooks", "payments", "jobs"), as the settings are now."""
    return POLICIES[name]()
