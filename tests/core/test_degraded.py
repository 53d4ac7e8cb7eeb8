"""The module registry's degraded modes and the readiness report, breaker by breaker."""

from __future__ import annotations

import json
import time
from io import StringIO

import pytest
import redis
from django.conf import settings
from django.core.management import CommandError, call_command
from django.test import Client
from django_tenants.utils import schema_context

from apps.core import modules
from apps.core.breakers import BROKER, REDIS, breaker, open_breakers, report
from apps.tenancy.resolver import MODULE_MODES_KEY, tenant_cache
from tests.conftest import as_tenant_admin, tenant_client

GATEWAY = "payments.test_card"


def ready() -> dict:
    response = Client().get("/health/ready")
    body = json.loads(response.content)
    body["http_status"] = response.status_code
    return body


@pytest.fixture
def set_mode(django_capture_on_commit_callbacks):
    def set_to(module: str, mode: str, reason: str = "") -> None:
        with django_capture_on_commit_callbacks(execute=True):
            call_command("module_mode", module, mode, "--reason", reason, stdout=StringIO())

    return set_to


def test_readiness_reports_every_registered_check_and_module(db):
    body = ready()
    assert set(body["checks"]) == {d.name for d in modules.dependencies()}
    assert {"database", "redis", "broker", "outbox", "search", "payments", "webhooks"} <= set(
        body["checks"]
    )
    assert body["checks"]["database"]["critical"] is True
    assert all(not c["critical"] for name, c in body["checks"].items() if name != "database")
    assert all(isinstance(c["ms"], float) for c in body["checks"].values())
    assert body["modules"]["checkout"] == {"mode": "normal"}
    assert set(body["modules"]) == {"blog", "pages", "forum", "shop", "checkout", "search"}


def test_the_payment_breaker_makes_checkout_read_only_and_readiness_degraded(db, acme_client):
    gateway = breaker(GATEWAY)
    gateway.open()
    body = ready()
    assert body["http_status"] == 200
    assert body["status"] == "degraded"
    assert body["checks"]["payments"]["breakers_open"] == [GATEWAY]
    assert body["modules"]["checkout"] == {"mode": "read-only", "reason": "payments is unavailable"}
    assert body["modules"]["shop"] == {"mode": "normal"}

    refused = acme_client.post("/checkout/email/", {"email": "x@example.test"})
    assert refused.status_code == 503
    assert refused["Retry-After"] == "30"
    assert "read-only" in refused.content.decode()
    api = as_tenant_admin(tenant_client("acme")).post(
        "/api/v1/commerce/carts/", {}, content_type="application/json"
    )
    assert api.status_code == 503
    assert json.loads(api.content)["code"] == "module_unavailable"
    # Reads of the checkout and writes of the rest of the shop go on.
    assert acme_client.get("/checkout/").status_code != 503
    assert acme_client.post("/cart/add/", {}).status_code != 503

    gateway.close()
    assert ready()["modules"]["checkout"] == {"mode": "normal"}
    assert acme_client.post("/checkout/email/", {"email": "x@example.test"}).status_code != 503


def test_an_open_breaker_lapses_after_its_reset_timeout(db):
    """pybreaker says "open" until the next call; a read-only module would make none."""
    gateway = breaker(GATEWAY)
    gateway.open()
    assert GATEWAY in open_breakers()
    gateway._state_storage.opened_at = gateway._state_storage.opened_at.replace(year=2000)
    report(GATEWAY, opened=True, until=time.time() - 1)  # as every process recorded it
    assert GATEWAY not in open_breakers()
    assert ready()["modules"]["checkout"] == {"mode": "normal"}


def test_the_redis_breaker_degrades_readiness_and_the_site_goes_on(db, acme_client):
    breaker(REDIS).open()
    body = ready()
    assert body["status"] == "degraded"
    assert body["checks"]["redis"]["breakers_open"] == [REDIS]
    assert acme_client.get("/blog/").status_code == 200


def test_the_broker_breaker_degrades_readiness_and_writes_still_commit(db, acme_client):
    from apps.events.models import OutboxEvent

    breaker(BROKER).open()
    body = ready()
    assert body["status"] == "degraded"
    assert body["checks"]["broker"]["breakers_open"] == [BROKER]
    admin = as_tenant_admin(tenant_client("acme"))
    before = OutboxEvent.objects.count()
    response = admin.post("/api/v1/tags/", {"name": "Degraded"}, content_type="application/json")
    assert response.status_code == 201, response.content
    assert OutboxEvent.objects.count() == before + 1  # waits in the outbox for the relay


def test_a_failing_webhook_receiver_shows_in_every_process_and_clears(db):
    name = "webhooks:acme:7"
    report(name, opened=True, until=time.time() + 60)
    # Another process (a fresh reader) sees it through Redis.
    raw = redis.Redis.from_url(settings.REDIS_URL).hgetall("platform:breakers:open")
    assert name.encode() in raw
    body = ready()
    assert body["checks"]["webhooks"]["breakers_open"] == [name]
    assert body["checks"]["webhooks"]["status"] == "degraded"
    report(name, opened=False)
    assert ready()["checks"]["webhooks"]["status"] == "ok"


def test_outbox_lag_over_its_threshold_is_degraded(db, settings):
    from apps.events.selectors import reset_health_cache
    from apps.tenancy.models import Tenant
    from apps.tenancy.services import tenant_update

    tenant_update(slug="acme", name="Acme Lagging")  # one pending event
    settings.EVENTS = {**settings.EVENTS, "READY_LAG_SECONDS": -1}
    reset_health_cache()
    check = ready()["checks"]["outbox"]
    assert check["status"] == "degraded"
    assert "oldest pending event" in check["detail"]
    assert Tenant.objects.get(slug="acme").name == "Acme Lagging"


def test_an_operator_puts_a_module_in_read_only_mode_and_back(db, set_mode, acme_client):
    from tests.forum import factories as forum

    with schema_context("acme"):
        category = forum.category()
        member = forum.member()
    set_mode("forum", "read-only", "moving the forum's database")
    client = tenant_client("acme")
    with schema_context("acme"):
        client.force_login(member)
    assert client.get("/forum/").status_code == 200
    refused = client.post(f"/forum/c/{category.slug}/new/", {"title": "Hello", "body": "World"})
    assert refused.status_code == 503
    assert refused["Retry-After"] == "30"
    api = as_tenant_admin(tenant_client("acme")).post(
        "/api/v1/forum/categories/", {}, content_type="application/json"
    )
    assert api.status_code == 503
    assert ready()["modules"]["forum"] == {
        "mode": "read-only",
        "reason": "moving the forum's database",
    }
    # Other modules are not touched.
    assert acme_client.get("/blog/").status_code == 200

    set_mode("forum", "disabled")
    assert client.get("/forum/").status_code == 503

    set_mode("forum", "normal")
    assert client.get("/forum/").status_code == 200
    assert ready()["modules"]["forum"] == {"mode": "normal"}


def test_modes_are_cached_and_invalidated_in_every_process(db, set_mode):
    set_mode("blog", "read-only")
    assert modules.manual_modes()["blog"].mode == modules.Mode.READ_ONLY
    # The shared entry holds the mode too: another process reads it without a query.
    assert tenant_cache.shared.get(MODULE_MODES_KEY)["blog"] == ("read-only", "")
    set_mode("blog", "normal")
    assert tenant_cache.shared.get(MODULE_MODES_KEY) is None  # dropped for everyone


def test_the_mode_command_refuses_what_it_does_not_know(db):
    with pytest.raises(CommandError):
        call_command("module_mode", "casino", "read-only", stdout=StringIO())
    with pytest.raises(CommandError, match="give the mode"):
        call_command("module_mode", "forum", stdout=StringIO())
    out = StringIO()
    call_command("module_mode", stdout=out)
    assert "checkout" in out.getvalue() and "normal" in out.getvalue()


def test_failing_searches_answer_503_then_disable_search_for_a_while(live_db):
    """The read model is away (its table renamed): searches answer 503, never 500; five in a
    row open the search breaker and the search module is disabled without another query."""
    from django.db import connection

    client = tenant_client("acme")
    with connection.cursor() as cursor:
        cursor.execute(
            "ALTER TABLE acme.index_content_listing RENAME TO index_content_listing_away"
        )
    try:
        for _ in range(5):
            response = client.get("/blog/search/?q=anything")
            assert response.status_code == 503
            assert response["Retry-After"] == "30"
        body = ready()
        assert body["checks"]["search"]["breakers_open"] == ["search"]
        assert body["modules"]["search"] == {"mode": "disabled", "reason": "search is unavailable"}
        assert client.get("/forum/search/?q=anything").status_code == 503
        assert client.get("/shop/").status_code == 200  # the rest of the site goes on
    finally:
        with connection.cursor() as cursor:
            cursor.execute(
                "ALTER TABLE acme.index_content_listing_away RENAME TO index_content_listing"
            )
    breaker("search").close()
    assert client.get("/blog/search/?q=anything").status_code == 200
