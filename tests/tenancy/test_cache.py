"""The resolver's caches: warm cost, stampede protection, invalidation, Redis outages."""

import os
import queue
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext

from apps.core.breakers import REDIS, breaker
from apps.tenancy import services
from apps.tenancy.resolver import slug_key, tenant_by_slug, tenant_cache
from tests.conftest import subprocess_database_url

WATCHER = Path(__file__).with_name("watch_tenant.py")
# Far longer than the wait below, so that an expired entry cannot explain what the watcher sees.
WATCHER_CACHE_SECONDS = 3600
PROPAGATION_TIMEOUT_SECONDS = 20  # generous: it is a bound on a wait, not a measurement


def test_warm_request_costs_no_query(acme_client, django_assert_num_queries):
    assert acme_client.get("/").status_code == 200
    with django_assert_num_queries(0):
        response = acme_client.get("/")
    assert response.status_code == 200


def test_cold_request_costs_one_lookup(acme_client):
    with CaptureQueriesContext(connection) as captured:
        assert acme_client.get("/robots.txt").status_code == 200
    lookups = [q for q in captured.captured_queries if "tenancy_tenant" in q["sql"]]
    assert len(lookups) == 1


def test_second_process_warm_from_redis_costs_no_query(acme_client, django_assert_num_queries):
    acme_client.get("/")
    tenant_cache.clear_local()  # as if another web process: only Redis is warm
    with django_assert_num_queries(0):
        assert tenant_by_slug("acme").slug == "acme"


def test_unknown_tenant_is_cached_negatively(db, django_assert_num_queries):
    client = Client(HTTP_HOST="nobody.localhost")
    assert client.get("/").status_code == 404
    with django_assert_num_queries(0):
        assert client.get("/").status_code == 404


def test_concurrent_cold_lookups_cost_one_query(live_db):
    """Twenty threads miss the cache for one tenant at the same moment: one database query."""
    threads_count = 20
    barrier = threading.Barrier(threads_count)
    lookups: list[str] = []
    results: list[str | None] = []
    lock = threading.Lock()

    def count(execute, sql, params, many, context):
        if "tenancy_tenant" in sql:
            with lock:
                lookups.append(sql)
        return execute(sql, params, many, context)

    def worker():
        try:
            with connection.execute_wrapper(count):
                barrier.wait()
                tenant = tenant_by_slug("acme")
            with lock:
                results.append(tenant.slug if tenant else None)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ["acme"] * threads_count
    assert len(lookups) == 1


def _lines(process: subprocess.Popen) -> queue.Queue:
    """The lines ``process`` prints, as they come (``None`` once its output ends)."""
    lines: queue.Queue = queue.Queue()

    def read() -> None:
        for line in process.stdout:
            lines.put(line.strip())
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    return lines


def _next(lines: queue.Queue) -> str | None:
    try:
        return lines.get(timeout=PROPAGATION_TIMEOUT_SECONDS)
    except queue.Empty:
        return f"(nothing printed within {PROPAGATION_TIMEOUT_SECONDS} s)"


@pytest.mark.integration
def test_suspension_reaches_another_process_through_the_invalidation_channel(live_db):
    """Another process drops its cached tenant when told over pub/sub, long before it expires.

    The watcher keeps what it read for an hour, so nothing but the invalidation
    message can make it see the suspension within the timeout.
    """
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="config.settings.test")
    env["DATABASE_URL"] = subprocess_database_url()
    env["TENANT_CACHE_POSITIVE_TTL"] = str(WATCHER_CACHE_SECONDS)
    watcher = subprocess.Popen(
        [sys.executable, str(WATCHER), "acme"], stdout=subprocess.PIPE, text=True, env=env
    )
    lines = _lines(watcher)
    try:
        # It is subscribed, read acme from the database and cached it (here and in Redis).
        assert _next(lines) == "active"
        assert tenant_cache.shared.get(slug_key("acme"))["status"] == "active"
        services.tenant_suspend(slug="acme")
        assert _next(lines) == "suspended"
    finally:
        watcher.kill()
        watcher.wait()
        services.tenant_activate(slug="acme")


def test_changes_invalidate_this_process_and_redis(live_db):
    assert tenant_by_slug("acme").status == "active"
    try:
        services.tenant_suspend(slug="acme")
        assert tenant_cache.shared.get(slug_key("acme")) is None or (
            tenant_cache.shared.get(slug_key("acme"))["status"] == "suspended"
        )
        assert tenant_by_slug("acme").status == "suspended"
        assert Client(HTTP_HOST="acme.localhost").get("/").status_code == 403
    finally:
        services.tenant_activate(slug="acme")
    assert Client(HTTP_HOST="acme.localhost").get("/").status_code == 200


def test_a_new_domain_replaces_a_negative_entry(acme, django_capture_on_commit_callbacks):
    client = Client(HTTP_HOST="shop.acme.test")
    assert client.get("/").status_code == 404  # now cached as unknown
    with django_capture_on_commit_callbacks(execute=True):
        services.domain_add(slug="acme", domain="shop.acme.test")
    assert client.get("/").status_code == 200


@pytest.fixture
def redis_down(settings):
    settings.CACHES = {
        alias: {**conf, "LOCATION": "redis://127.0.0.1:1/0"}
        for alias, conf in settings.CACHES.items()
    }
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    yield


def test_requests_resolve_with_redis_down(db, redis_down):
    client = Client(HTTP_HOST="acme.localhost")
    for _ in range(6):
        assert client.get("/").status_code == 200
    assert Client(HTTP_HOST="globex.localhost").get("/").status_code == 200
    assert Client(HTTP_HOST="nobody.localhost").get("/").status_code == 404
    assert breaker(REDIS).current_state == "open"


def test_resolution_falls_back_to_the_database_when_the_breaker_is_open(db, redis_down):
    breaker(REDIS).open()
    tenant_cache.clear_local()
    assert tenant_by_slug("globex").slug == "globex"
