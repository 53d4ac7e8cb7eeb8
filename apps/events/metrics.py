"""Prometheus metrics of the event backbone.

Counters and the latency histogram are kept by the processes that publish and
dispatch (multiprocess mode when ``PROMETHEUS_MULTIPROC_DIR`` is set); backlog
gauges are read from PostgreSQL at scrape time, so every process reports the
same figures.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

PUBLISHED = Counter("events_published_total", "Events committed to the outbox", ["event_type"])
DISPATCHED = Counter(
    "events_dispatched_total", "Events handled by a subscriber", ["event_type", "handler"]
)
HANDLER_FAILURES = Counter("events_handler_failures_total", "Handler runs that raised", ["handler"])
DEAD_LETTERS = Counter(
    "events_dead_letters_total", "Deliveries given up as dead letters", ["handler"]
)
DISPATCH_LATENCY = Histogram(
    "events_dispatch_latency_seconds",
    "From occurred_at to handled",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)


class OutboxCollector(Collector):
    """Backlog, oldest pending age, trouble counts and each handler's lag, read from the
    outbox at scrape time."""

    def collect(self):
        from .selectors import handler_lag, outbox_health

        health = outbox_health()
        backlog = GaugeMetricFamily("events_outbox_backlog", "Pending outbox rows")
        backlog.add_metric([], health.pending)
        yield backlog
        oldest = GaugeMetricFamily(
            "events_outbox_oldest_pending_seconds", "Age of the oldest pending row"
        )
        oldest.add_metric([], health.oldest_pending_age)
        yield oldest
        deliveries = GaugeMetricFamily(
            "events_deliveries", "Deliveries waiting, by status", labels=["status"]
        )
        for status, count in sorted(health.deliveries.items()):
            deliveries.add_metric([status], count)
        yield deliveries
        lag = GaugeMetricFamily(
            "events_handler_lag_seconds",
            "Age of the oldest event a handler has not handled yet",
            labels=["handler"],
        )
        for handler, seconds in sorted(handler_lag().items()):
            lag.add_metric([handler], seconds)
        yield lag
