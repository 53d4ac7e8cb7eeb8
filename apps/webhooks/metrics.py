"""Prometheus metrics of webhook delivery: one count per attempt, by what came of it."""

from __future__ import annotations

from prometheus_client import Counter

# delivered: the receiver took it; retry: it failed and comes again on the schedule;
# dead: it failed and the retry policy gave up; failed: it failed and the endpoint is
# disabled (410 Gone, the endpoint's breaker, or already disabled).
DELIVERIES = Counter(
    "webhook_deliveries_total", "Webhook delivery attempts, by outcome", ["outcome"]
)
