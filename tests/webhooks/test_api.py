"""/api/v1/webhooks/: endpoints (CRUD, rotate-secret), deliveries (list, redeliver), with
the webhooks scopes for API keys and each tenant seeing its own only."""

from __future__ import annotations

import json
import uuid

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.webhooks import services
from apps.webhooks.models import WebhookDelivery
from tests.api.conftest import assert_problem
from tests.api.test_api_keys import bearer, make_key, staff_owner
from tests.conftest import as_tenant_admin

pytestmark = pytest.mark.django_db

ENDPOINTS = "/api/v1/webhooks/endpoints/"
DELIVERIES = "/api/v1/webhooks/deliveries/"
JSON = "application/json"
URL = "https://hooks.partner.test/in"


@pytest.fixture(autouse=True)
def partner_name(monkeypatch):
    from apps.webhooks import addresses

    monkeypatch.setattr(addresses, "resolve", lambda host, port: ["93.184.216.34"])


def post(client, url, data=None, **extra):
    return client.post(url, json.dumps(data or {}), content_type=JSON, **extra)


def patch(client, url, data, **extra):
    return client.patch(url, json.dumps(data), content_type=JSON, **extra)


def test_crud_shows_the_secret_on_creation_and_rotation_only(acme_api):
    created = post(acme_api, ENDPOINTS, {"url": URL, "event_types": ["commerce.*"],
                                         "description": "ERP"})  # fmt: skip
    assert created.status_code == 201, created.content
    body = created.json()
    secret = body["secret"]
    assert secret.startswith("whsec_") and len(secret) >= len("whsec_") + 32
    assert body["event_types"] == ["commerce.*"] and body["is_active"] is True

    item = f"{ENDPOINTS}{body['id']}/"
    listed = acme_api.get(ENDPOINTS).json()
    assert [e["id"] for e in listed["results"]] == [body["id"]]
    assert "secret" not in listed["results"][0] and secret not in json.dumps(listed)
    assert "secret" not in acme_api.get(item).json()

    changed = patch(acme_api, item, {"event_types": ["*"], "is_active": False})
    assert changed.status_code == 200, changed.content
    assert changed.json()["event_types"] == ["*"] and changed.json()["is_active"] is False

    rotated = post(acme_api, f"{item}rotate-secret/")
    assert rotated.status_code == 200
    assert rotated.json()["secret"].startswith("whsec_") and rotated.json()["secret"] != secret

    assert acme_api.delete(item).status_code == 204
    assert_problem(acme_api.get(item), 404)


def test_unsafe_urls_get_422_and_bad_fields_400(acme_api, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = False
    settings.WEBHOOKS_ALLOW_HTTP = False
    body = assert_problem(
        post(acme_api, ENDPOINTS, {"url": "https://169.254.169.254/", "event_types": ["*"]}),
        422, "webhook_url_refused",
    )  # fmt: skip
    assert "public addresses only" in body["detail"]
    assert_problem(
        post(acme_api, ENDPOINTS, {"url": "http://hooks.partner.test/", "event_types": ["*"]}),
        422, "webhook_url_refused",
    )  # fmt: skip
    bad_type = assert_problem(
        post(acme_api, ENDPOINTS, {"url": URL, "event_types": ["no.such.event"]}), 400
    )
    assert "event_types" in bad_type["errors"]
    assert_problem(post(acme_api, ENDPOINTS, {"url": URL, "event_types": []}), 400)
    assert_problem(post(acme_api, ENDPOINTS, {"url": URL, "event_types": "*"}), 400)
    assert_problem(post(acme_api, ENDPOINTS, {"url": URL, "event_types": ["*"], "x": 1}), 400)
    assert_problem(acme_api.get(f"{ENDPOINTS}abc/"), 404)
    assert_problem(acme_api.get(f"{DELIVERIES}?endpoint=abc"), 400)
    assert_problem(acme_api.get(f"{DELIVERIES}?status=lost"), 400)


def test_each_tenant_sees_its_own_endpoints_only(acme_api, globex_client):
    created = post(acme_api, ENDPOINTS, {"url": URL, "event_types": ["*"]}).json()
    globex = as_tenant_admin(globex_client, "globex")
    assert globex.get(ENDPOINTS).json()["results"] == []
    assert_problem(globex.get(f"{ENDPOINTS}{created['id']}/"), 404)
    assert_problem(post(globex, f"{ENDPOINTS}{created['id']}/rotate-secret/"), 404)
    assert_problem(globex.delete(f"{ENDPOINTS}{created['id']}/"), 404)


@pytest.mark.parametrize(
    ("scopes", "method", "status"),
    [
        (["webhooks:read"], "get", 200),
        (["webhooks:read"], "post", 403),
        (["webhooks:write"], "post", 201),
        (["commerce:read", "commerce:write"], "get", 403),
        (["commerce:write"], "post", 403),
    ],
)
def test_api_keys_need_the_webhooks_scopes(acme, acme_client, scopes, method, status):
    owner = staff_owner(is_superuser=True)
    _, secret = make_key(owner, scopes=scopes)
    if method == "get":
        response = acme_client.get(ENDPOINTS, **bearer(secret))
    else:
        response = post(
            acme_client, ENDPOINTS, {"url": URL, "event_types": ["*"]}, **bearer(secret)
        )
    assert response.status_code == status, response.content
    if status == 403:
        assert_problem(response, 403, "scope_missing")


def test_a_publishable_key_cannot_touch_webhooks(acme, acme_client):
    _, secret = make_key(staff_owner(is_superuser=True), kind="publishable", scopes=())
    assert_problem(acme_client.get(ENDPOINTS, **bearer(secret)), 403, "scope_missing")


def _delivery(endpoint, status="delivered"):
    return WebhookDelivery.objects.create(
        endpoint=endpoint, event_id=uuid.uuid4(), event_type="testing.widget.changed",
        payload={"id": "x"}, status=status, attempts=1, delivered_at=timezone.now(),
    )  # fmt: skip


def test_deliveries_are_listed_and_redelivered(acme_api, django_capture_on_commit_callbacks):
    with schema_context("acme"):
        endpoint, _ = services.endpoint_create(url=URL, event_types=["*"])
        other, _ = services.endpoint_create(url=URL, event_types=["*"])
        delivery = _delivery(endpoint)
        _delivery(other, status="failed")

    listed = acme_api.get(f"{DELIVERIES}?endpoint={endpoint.pk}").json()["results"]
    assert [d["id"] for d in listed] == [delivery.pk]
    assert listed[0]["message_id"] == f"msg_{delivery.event_id.hex}"
    failed = acme_api.get(f"{DELIVERIES}?status=failed").json()["results"]
    assert [d["endpoint"] for d in failed] == [other.pk]
    detail = acme_api.get(f"{DELIVERIES}{delivery.pk}/").json()
    assert detail["payload"] == {"id": "x"} and detail["attempt_log"] == []

    with django_capture_on_commit_callbacks() as callbacks:
        response = post(acme_api, f"{DELIVERIES}{delivery.pk}/redeliver/")
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "pending"
    assert len(callbacks) == 1  # the send is handed to the webhook workers after the commit
    assert_problem(post(acme_api, f"{DELIVERIES}999999/redeliver/"), 404)


def test_redelivery_needs_the_write_scope(acme, acme_client):
    with schema_context("acme"):
        endpoint, _ = services.endpoint_create(url=URL, event_types=["*"])
        delivery = _delivery(endpoint)
    _, secret = make_key(staff_owner(is_superuser=True), scopes=["webhooks:read"])
    assert acme_client.get(DELIVERIES, **bearer(secret)).status_code == 200
    response = post(acme_client, f"{DELIVERIES}{delivery.pk}/redeliver/", **bearer(secret))
    assert_problem(response, 403, "scope_missing")


def test_staff_need_the_model_permissions(acme_client):
    from tests.api.conftest import login_as

    login_as(acme_client, "acme", email="viewer@acme.test", perms=["webhooks.view_webhookendpoint"])
    assert acme_client.get(ENDPOINTS).status_code == 200
    assert_problem(post(acme_client, ENDPOINTS, {"url": URL, "event_types": ["*"]}), 403)
