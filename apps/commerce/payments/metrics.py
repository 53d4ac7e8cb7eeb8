"""Prometheus metrics of payments: each provider's answers, counted where they are recorded
(``services._record``)."""

from __future__ import annotations

from prometheus_client import Counter

from ..models import PaymentOutcome

ATTEMPTS = Counter(
    "payment_attempts_total",
    "Charges and refunds a provider answered, by outcome",
    ["provider", "kind", "outcome"],
)

TIMEOUT = "timeout"


def outcome_label(outcome: str, error_code: str) -> str:
    """approved, declined, pending (a transfer awaited), timeout, or error (the provider
    could not be reached or refused the request)."""
    if outcome == PaymentOutcome.FAILED:
        return TIMEOUT if error_code == TIMEOUT else "error"
    return str(outcome)


def count_attempt(*, provider: str, kind: str, outcome: str, error_code: str) -> None:
    ATTEMPTS.labels(provider, kind, outcome_label(outcome, error_code)).inc()
