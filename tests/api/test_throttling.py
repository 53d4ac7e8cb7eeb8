"""API rate limits: RateLimit-* headers, 429 problems with Retry-After, counting per key, per
user, per address and per tenant, the tenants' own limits, and failing open without Redis.

The throttles' clock is moved by the tests (fixed windows of a minute): no test waits.
"""

from __future__ import annotations

import logging
import re

import pytest
from django.test import Client

from apps.tenancy.models import Tenant
from apps.tenancy.services import tenant_update
from tests.clocks import Clock, frozen_clock
from tests.conftest import tenant_client

from .conftest import assert_problem, login_as
from .test_api_keys import bearer, make_key, staff_owner

pytestmark = pytest.mark.django_db

TAGS = "/api/v1/tags/"
PRODUCTS = "/api/v1/commerce/products/"


@pytest.fixture
def clock(monkeypatch) -> Clock:
    """Ten seconds into a minute: every window ends 50 seconds later."""
    return frozen_clock(
        monkeypatch, "apps.api.throttling.time", 1_800_000_000 + 10
    )  # 1_800_000_000 is a whole minute


@pytest.fixture
def limits(settings, clock):
    """Small limits: 3 requests a minute per client, 5 per tenant."""
    settings.API_THROTTLE_RATES = {"client": 3, "tenant": 5}
    return settings.API_THROTTLE_RATES


def headers(response) -> tuple[int, int, int]:
    return (
        int(response["RateLimit-Limit"]),
        int(response["RateLimit-Remaining"]),
        int(response["RateLimit-Reset"]),
    )


def test_every_answer_says_how_many_requests_are_left_and_then_429(acme_api, limits, clock):
    seen = [headers(acme_api.get(TAGS)) for _ in range(3)]
    assert seen == [(3, 2, 50), (3, 1, 50), (3, 0, 50)]
    refused = acme_api.get(TAGS)
    body = assert_problem(refused, 429, "throttled")
    assert refused["Retry-After"] == "50" and headers(refused) == (3, 0, 50)
    assert "50" in body["detail"]
    # Errors are counted and carry the headers too.
    clock.now += 50
    missing = acme_api.get(f"{TAGS}999999/")
    assert_problem(missing, 404)
    assert headers(missing) == (3, 2, 60)


def test_the_next_window_starts_afresh(acme_api, limits, clock):
    for _ in range(3):
        acme_api.get(TAGS)
    assert_problem(acme_api.get(TAGS), 429)
    clock.now += 49
    assert_problem(acme_api.get(TAGS), 429)
    clock.now += 1
    response = acme_api.get(TAGS)
    assert response.status_code == 200 and headers(response) == (3, 2, 60)


def test_two_keys_of_a_tenant_count_apart_and_together_against_the_tenant(acme, limits):
    owner = staff_owner()
    (_, first), (_, second) = make_key(owner), make_key(owner)
    client = tenant_client("acme")
    for _ in range(3):
        assert client.get(PRODUCTS, **bearer(first)).status_code == 200
    assert_problem(client.get(PRODUCTS, **bearer(first)), 429, "throttled")
    # The second key has its own 3, but the tenant had 4 of its 5 (the refused one counts):
    # the tightest limit is now the tenant's.
    allowed = client.get(PRODUCTS, **bearer(second))
    assert allowed.status_code == 200 and headers(allowed) == (5, 0, 50)
    refused = client.get(PRODUCTS, **bearer(second))
    assert_problem(refused, 429, "throttled")
    assert headers(refused)[:2] == (5, 0)
    # Another tenant counts on its own.
    globex_key = make_key(staff_owner("globex", "sync@globex.test"), schema="globex")[1]
    other = tenant_client("globex").get(PRODUCTS, **bearer(globex_key))
    assert other.status_code == 200 and headers(other) == (3, 2, 50)


def test_staff_sessions_count_per_user(acme, limits):
    alice, bob = Client(HTTP_HOST="acme.localhost"), Client(HTTP_HOST="acme.localhost")
    login_as(alice, "acme", email="alice@acme.test", groups=["Editor"])
    login_as(bob, "acme", email="bob@acme.test", groups=["Editor"])
    for _ in range(3):
        assert alice.get(TAGS).status_code == 200
    assert_problem(alice.get(TAGS), 429)
    assert bob.get(TAGS).status_code == 200


def test_anonymous_callers_count_per_address(acme, limits):
    """The headless carts need no login: an unknown cart is a 404, counted per address."""
    limits["tenant"] = 50
    here, there = tenant_client("acme"), tenant_client("acme")
    here.defaults["REMOTE_ADDR"], there.defaults["REMOTE_ADDR"] = "203.0.113.5", "198.51.100.7"
    cart = "/api/v1/commerce/carts/no-such-token/"
    for remaining in (2, 1, 0):
        response = here.get(cart)
        assert response.status_code == 404 and headers(response)[1] == remaining
    assert_problem(here.get(cart), 429)
    assert headers(there.get(cart))[1] == 2


def test_a_tenants_own_limits_replace_the_settings(acme, globex, limits):
    tenant_update(slug="acme", api_rate_per_client=2, api_rate_per_tenant=50)
    acme_api, globex_api = tenant_client("acme"), tenant_client("globex")
    login_as(acme_api, "acme", email="a@acme.test", groups=["Editor"])
    login_as(globex_api, "globex", email="g@globex.test", groups=["Editor"])
    assert headers(acme_api.get(TAGS)) == (2, 1, 50)
    assert headers(acme_api.get(TAGS)) == (2, 0, 50)
    assert_problem(acme_api.get(TAGS), 429)
    assert headers(globex_api.get(TAGS)) == (3, 2, 50)


def test_a_limit_of_zero_is_no_limit(acme, limits):
    tenant_update(slug="acme", api_rate_per_client=0, api_rate_per_tenant=0)
    client = tenant_client("acme")
    login_as(client, "acme", email="a@acme.test", groups=["Editor"])
    for _ in range(8):
        response = client.get(TAGS)
        assert response.status_code == 200 and "RateLimit-Limit" not in response


def test_limits_fail_open_without_redis(acme_api, limits, settings, caplog):
    """The cache points at a closed port: requests go on, a warning says why."""
    settings.CACHES = {
        "default": {**settings.CACHES["default"], "LOCATION": "redis://127.0.0.1:9/0"}
    }
    with caplog.at_level(logging.WARNING, logger="apps.api.throttling"):
        for _ in range(5):
            response = acme_api.get(TAGS)
            assert response.status_code == 200 and "RateLimit-Limit" not in response
    assert any("not counted" in record.getMessage() for record in caplog.records)


def test_no_query_is_spent_on_limits(acme_api, limits, django_assert_num_queries):
    acme_api.get(TAGS)  # warm the tenant's caches
    # session, user, rows: the same as without limits (tests/api/test_queries.py).
    with django_assert_num_queries(3):
        response = acme_api.get(TAGS)
    assert headers(response)[1] == 1


def test_the_schema_documents_429(acme_api):
    schema = acme_api.get("/api/v1/schema/?format=json").json()
    assert "429" in schema["paths"][TAGS]["get"]["responses"]


def test_operators_set_a_tenants_limits_in_their_admin(operator_client, acme):
    url = f"/admin/tenancy/tenant/{acme.pk}/change/"
    page = operator_client.get(url).content.decode()
    assert 'name="api_rate_per_client"' in page and 'name="api_rate_per_tenant"' in page
    management = dict(re.findall(r'name="(domains-[A-Z_]+)"[^>]*value="(\d*)"', page))
    response = operator_client.post(
        url,
        {
            "name": acme.name, "status": acme.status, "default_locale": acme.default_locale,
            "api_rate_per_client": "120", "api_rate_per_tenant": "", **management,
        },
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:3000]
    acme.refresh_from_db()
    assert (acme.api_rate_per_client, acme.api_rate_per_tenant) == (120, None)
    assert Tenant.objects.get(slug="globex").api_rate_per_client is None


@pytest.mark.parametrize("value", [-1, 1_000_001, "60", 2.5, True])
def test_a_limit_that_is_not_a_count_of_requests_is_refused(acme, value):
    from apps.tenancy.errors import TenantInvalid

    with pytest.raises(TenantInvalid):
        tenant_update(slug="acme", api_rate_per_client=value)
    acme.refresh_from_db()
    assert acme.api_rate_per_client is None


def test_an_update_without_the_limits_keeps_them(acme):
    tenant_update(slug="acme", api_rate_per_client=7, api_rate_per_tenant=70)
    tenant_update(slug="acme", name="Acme again")
    acme.refresh_from_db()
    assert (acme.api_rate_per_client, acme.api_rate_per_tenant) == (7, 70)
    tenant_update(slug="acme", api_rate_per_client=None)
    acme.refresh_from_db()
    assert (acme.api_rate_per_client, acme.api_rate_per_tenant) == (None, 70)


def test_answers_refused_before_the_throttles_show_the_counters_without_counting(
    acme, limits, django_assert_num_queries
):
    """No credentials (401) or no endpoint (404): the headers say where the caller's address
    and the tenant stand, and such requests do not spend the tenant's quota."""
    limits["tenant"] = 50
    visitor = tenant_client("acme")
    visitor.defaults["REMOTE_ADDR"] = "203.0.113.5"
    visitor.get("/api/v1/commerce/carts/no-such-token/")  # counted: 2 of 3 left
    for _ in range(4):
        refused = visitor.get(TAGS)
        assert_problem(refused, 401)
        assert headers(refused) == (3, 2, 50)
    with django_assert_num_queries(0):
        nowhere = visitor.get("/api/v1/no-such-endpoint/")
    assert_problem(nowhere, 404)
    assert headers(nowhere) == (3, 2, 50)
    bad_key = visitor.get(TAGS, **bearer("sk_live_not-a-key"))
    assert_problem(bad_key, 401)
    assert headers(bad_key) == (3, 2, 50)


def test_a_key_without_the_scope_sees_its_own_counter(acme, limits):
    owner = staff_owner()
    _, secret = make_key(owner, scopes=["commerce:read"])
    client = tenant_client("acme")
    assert headers(client.get(PRODUCTS, **bearer(secret))) == (3, 2, 50)
    refused = client.get(TAGS, **bearer(secret))  # content:read is missing
    assert_problem(refused, 403, "scope_missing")
    assert headers(refused) == (3, 2, 50)
