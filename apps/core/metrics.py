"""Prometheus metrics that cut across the platform: HTTP requests, read caches, circuit
breakers, module modes and scheduled jobs.

Counters and histograms are kept by the process that counts (multiprocess mode when
``PROMETHEUS_MULTIPROC_DIR`` is set); figures that are a state, not a count (a breaker's
state, a module's mode), are read at scrape time by the collectors in ``collectors()``,
which ``/metrics`` (``apps.events.views``) adds to its registry. Domain metrics live next to
their domain (``apps.events.metrics``, ``apps.webhooks.metrics``,
``apps.commerce.payments.metrics``). Labels never carry a raw path, a tenant or an id: their
values are bounded.
"""

from __future__ import annotations

import logging
import time

from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

UNMATCHED = "unmatched"

HTTP_REQUESTS = Counter(
    "http_requests_total", "HTTP requests answered", ["route", "method", "status"]
)
HTTP_DURATION = Histogram(
    "http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
CACHE_REQUESTS = Counter(
    "cache_requests_total", "Reads of a platform cache, by result", ["cache", "result"]
)
BREAKER_FAILURES = Counter(
    "circuit_breaker_failures_total", "Calls a circuit breaker counted as failed", ["breaker"]
)
JOB_FAILURES = Counter(
    "scheduled_job_failures_total", "Scheduled jobs given up after the policy's retries", ["job"]
)
JOB_RETRIES = Counter(
    "scheduled_job_retries_total", "Scheduled jobs sent again after a failure", ["job"]
)

# The methods a label may name; anything else is "other" (a client may send any word).
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def route_of(request) -> str:
    """The URL pattern that answered ``request`` (``/blog/<slug:slug>/``), never the path;
    ``"unmatched"`` when no pattern did (a 404, an unknown host, a middleware's answer)."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return UNMATCHED
    return "/" + match.route


class RequestMetricsMiddleware:
    """Counts every request by route, method and status, and times it."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed = time.perf_counter() - started
        route = route_of(request)
        method = request.method if request.method in KNOWN_METHODS else "other"
        HTTP_REQUESTS.labels(route, method, str(response.status_code)).inc()
        HTTP_DURATION.labels(route, method).observe(elapsed)
        return response


def cache_read(cache: str, hit: bool) -> None:
    CACHE_REQUESTS.labels(cache, "hit" if hit else "miss").inc()


# -- collectors, read at scrape time ------------------------------------------------------------

BREAKER_STATES = {"closed": 0, "half-open": 1, "open": 2}


class BreakerCollector(Collector):
    """``circuit_breaker_state{breaker}``: 0 closed, 1 half-open, 2 open: this process's
    breakers, and those another process has open (shared through Redis, ``open_breakers``).
    Guards of a family (``webhooks:<schema>:<endpoint>``, one per receiver) stay out: one
    series each would grow with the tenants."""

    def collect(self):
        from .breakers import all_breakers, open_breakers

        states = {
            name: BREAKER_STATES.get(cb.current_state, 2) for name, cb in all_breakers().items()
        }
        for name in open_breakers():
            if ":" not in name:
                states[name] = BREAKER_STATES["open"]
        family = GaugeMetricFamily(
            "circuit_breaker_state",
            "Circuit breaker state: 0 closed, 1 half-open, 2 open",
            labels=["breaker"],
        )
        for name, state in sorted(states.items()):
            family.add_metric([name], state)
        yield family


class ModuleModeCollector(Collector):
    """``module_mode{module,mode}``: 1 for each module's effective mode (``apps.core.modules``:
    the operator's, or the fallback of a module whose dependency's breaker is open), 0 for
    the others."""

    def collect(self):
        from .modules import Mode, effective_mode, modules

        family = GaugeMetricFamily(
            "module_mode", "A module's effective mode (1 = current)", labels=["module", "mode"]
        )
        for module in sorted(modules(), key=lambda item: item.name):
            try:
                current = effective_mode(module.name).mode
            except Exception:  # a scrape reports what it can
                logger.warning("module_mode: no mode for %s", module.name, exc_info=True)
                continue
            for mode in Mode.values:
                family.add_metric([module.name, mode], 1 if current == mode else 0)
        yield family


def collectors() -> list[Collector]:
    """The cross-cutting scrape-time collectors, for ``/metrics``'s registry."""
    return [BreakerCollector(), ModuleModeCollector()]
