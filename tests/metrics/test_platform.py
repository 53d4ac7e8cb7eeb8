"""/metrics: requests by route, cache reads, circuit breakers and module modes."""

from __future__ import annotations

import time
import uuid

import pybreaker
import pytest
from django.conf import settings
from django.test import Client

from apps.core.breakers import breaker, report, reset_all
from apps.core.modules import modules
from apps.tenancy.services import module_mode_set
from tests.conftest import tenant_client

from .support import increase, scrape, series, value

PREVIEW = "/preview/<uuid:node_id>/"


def test_requests_are_counted_and_timed_by_route_never_by_path(acme_client):
    before = scrape()
    paths = [f"/preview/{uuid.uuid4()}/" for _ in range(3)]
    statuses = {acme_client.get(path).status_code for path in paths}
    after = scrape()

    (status,) = statuses
    labels = {"route": PREVIEW, "method": "GET", "status": str(status)}
    assert increase(before, after, "http_requests_total", **labels) == 3
    timed = {"route": PREVIEW, "method": "GET"}
    assert increase(before, after, "http_request_duration_seconds_count", **timed) == 3
    assert increase(before, after, "http_request_duration_seconds_bucket", le="+Inf", **timed) == 3
    routes = {dict(labels).get("route") for labels in series(after, "http_requests_total")}
    assert not any(path.strip("/").split("/")[-1] in str(routes) for path in paths)


def test_unresolved_requests_and_odd_methods_have_bounded_labels(acme_client):
    before = scrape()
    # A tenant's pages match any path (and answer 404 for an unknown one) ...
    assert acme_client.get("/no/such/page/").status_code == 404
    # ... the public domain's URLs do not.
    assert Client(HTTP_HOST=settings.TENANT_BASE_DOMAIN).get("/no/such/").status_code == 404
    assert Client(HTTP_HOST=f"nobody.{settings.TENANT_BASE_DOMAIN}").get("/").status_code == 404
    odd = tenant_client("acme").generic("BREW", "/").status_code
    after = scrape()

    unmatched = {"route": "unmatched", "method": "GET", "status": "404"}
    assert increase(before, after, "http_requests_total", **unmatched) == 2
    brewed = {"route": "/", "method": "other", "status": str(odd)}
    routes = {dict(labels)["route"] for labels in series(after, "http_requests_total")}
    assert not any("no/such" in route for route in routes)
    assert increase(before, after, "http_requests_total", **brewed) == 1


def test_a_cached_family_counts_misses_then_hits(acme_client):
    acme_client.get("/")  # warm the tenant cache and the site snapshot's generation
    from django.core.cache import cache

    cache.clear()
    before = scrape()
    assert acme_client.get("/").status_code == 200
    cold = scrape()
    assert acme_client.get("/").status_code == 200
    warm = scrape()

    misses = increase(before, cold, "cache_requests_total", cache="pages:site", result="miss")
    assert misses >= 1
    assert increase(before, cold, "cache_requests_total", cache="pages:site", result="hit") == 0
    # The second request reads what the first one built: as many hits, no miss.
    assert increase(cold, warm, "cache_requests_total", cache="pages:site", result="hit") == misses
    assert increase(cold, warm, "cache_requests_total", cache="pages:site", result="miss") == 0
    # Tenant resolution reports through its own counter, by the layer that answered.
    assert value(warm, "tenancy_lookups_total", layer="local") >= 1


def _failing() -> None:
    raise ConnectionError("down")


def test_breaker_states_and_failures(db):
    cb = breaker("tests.metrics", fail_max=2, reset_timeout=60)
    cb.close()
    before = scrape()
    assert value(before, "circuit_breaker_state", breaker="tests.metrics") == 0

    with pytest.raises(ConnectionError):
        cb.call(_failing)
    one_failure = scrape()
    assert (
        increase(before, one_failure, "circuit_breaker_failures_total", breaker="tests.metrics")
        == 1
    )
    assert value(one_failure, "circuit_breaker_state", breaker="tests.metrics") == 0

    with pytest.raises(pybreaker.CircuitBreakerError):
        cb.call(_failing)
    opened = scrape()
    assert value(opened, "circuit_breaker_state", breaker="tests.metrics") == 2
    assert increase(before, opened, "circuit_breaker_failures_total", breaker="tests.metrics") == 2

    cb.half_open()
    assert value(scrape(), "circuit_breaker_state", breaker="tests.metrics") == 1
    cb.close()
    assert value(scrape(), "circuit_breaker_state", breaker="tests.metrics") == 0


def test_a_breaker_open_in_another_process_shows_and_a_family_of_guards_does_not(db):
    report("tests.elsewhere", opened=True, until=time.time() + 60)
    report("tests.family:acme:1", opened=True, until=time.time() + 60)
    try:
        found = series(scrape(), "circuit_breaker_state")
    finally:
        reset_all()
    assert found[(("breaker", "tests.elsewhere"),)] == 2
    assert not any("tests.family" in dict(labels)["breaker"] for labels in found)


def test_module_modes(db, django_capture_on_commit_callbacks):
    names = sorted(module.name for module in modules())
    assert len(names) >= 2
    with django_capture_on_commit_callbacks(execute=True):
        module_mode_set(module=names[0], mode="read-only", reason="maintenance")

    found = series(scrape(), "module_mode")

    assert {labels for labels, seen in found.items() if seen} == {
        (("mode", "read-only"), ("module", names[0])),
        *((("mode", "normal"), ("module", name)) for name in names[1:]),
    }
    assert len(found) == 3 * len(names)  # every mode of every module, the others at 0
