"""API keys in the people module: made and revoked by the services (the secret returned once,
only its SHA-256 stored, neither in an event), found by ``api_key_for``, and managed through
the ``api_key`` command and the admin."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.events.models import OutboxEvent
from apps.people import selectors, services
from apps.people.errors import ApiKeyInvalid, ApiKeyNotFound
from apps.people.models import ApiKey
from tests.conftest import as_tenant_admin
from tests.factories import UserFactory

ADMIN = "admin@acme.test"
KEYS_URL = "/admin/people/apikey/"


@pytest.fixture
def in_acme(acme):
    with schema_context("acme"):
        yield


@pytest.fixture
def owner(in_acme):
    return UserFactory(email="integrator@acme.test", is_staff=True)


def create(owner, **fields):
    values = {"name": "Shop sync", "kind": "secret", "scopes": ["commerce:read"], **fields}
    return services.api_key_create(owner_id=owner.pk, **values)


def key_events() -> list[OutboxEvent]:
    return list(OutboxEvent.objects.filter(event_type__startswith="people.api_key.").order_by("pk"))


def stored_row(key: ApiKey) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT row_to_json(k)::text FROM people_apikey k WHERE id = %s", [key.pk])
        return cursor.fetchone()[0]


def test_a_key_is_shown_once_and_stored_as_its_hash(owner):
    key, secret = create(owner, scopes=["commerce:write", "commerce:read", "commerce:read"])
    kind_prefix, random_part = secret[:8], secret[8:]
    assert kind_prefix == "sk_live_" and len(random_part) == 43
    assert key.prefix == secret[:16]
    assert key.digest == hashlib.sha256(secret.encode()).hexdigest()
    assert key.scopes == ["commerce:read", "commerce:write"]  # known order, no duplicates
    assert secret not in stored_row(key) and random_part[8:] not in stored_row(key)

    assert selectors.api_key_for(secret) == key
    assert selectors.api_key_for(secret[:-1] + ("A" if secret[-1] != "A" else "B")) is None

    (created,) = key_events()
    assert created.event_type == "people.api_key.created"
    assert created.payload["prefix"] == key.prefix and created.payload["scopes"] == key.scopes
    text = json.dumps(created.payload)
    assert random_part[8:] not in text and key.digest not in text


def test_a_publishable_key_has_its_own_prefix_and_no_scopes(owner):
    key, secret = create(owner, kind="publishable", scopes=[])
    assert secret.startswith("pk_live_") and key.scopes == [] and key.is_publishable


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"scopes": []}, "scopes"),
        ({"scopes": ["orders:everything"]}, "scopes"),
        ({"kind": "publishable", "scopes": ["content:read"]}, "scopes"),
        ({"kind": "master"}, "kind"),
        ({"name": "  "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"expires_at": timezone.now() - timedelta(seconds=1)}, "expires_at"),
    ],
)
def test_bad_keys_are_refused_with_the_field(owner, fields, field):
    with pytest.raises(ApiKeyInvalid) as refused:
        create(owner, **fields)
    assert field in refused.value.errors
    assert not ApiKey.objects.exists() and not key_events()


def test_only_active_staff_own_keys(in_acme):
    customer = UserFactory(email="shopper@acme.test", is_staff=False)
    with pytest.raises(ApiKeyInvalid) as refused:
        create(customer)
    assert "owner" in refused.value.errors


def test_revoked_and_expired_keys_are_not_found(owner):
    key, secret = create(owner)
    later, later_secret = create(owner, expires_at=timezone.now() + timedelta(hours=1))
    assert selectors.api_key_for(later_secret) == later
    ApiKey.objects.filter(pk=later.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert selectors.api_key_for(later_secret) is None

    services.api_key_revoke(key_id=key.pk)
    services.api_key_revoke(key_id=key.pk)  # again: nothing more happens
    assert selectors.api_key_for(secret) is None
    revoked = [event for event in key_events() if event.event_type == "people.api_key.revoked"]
    assert len(revoked) == 1 and revoked[0].payload["prefix"] == key.prefix
    with pytest.raises(ApiKeyNotFound):
        services.api_key_revoke(key_id=key.pk + 1000)


def test_api_key_for_is_one_query(owner, django_assert_num_queries):
    for number in range(5):
        create(owner, name=f"key {number}")
    _, secret = create(owner)
    with django_assert_num_queries(1):
        assert selectors.api_key_for(secret).owner == owner
    with django_assert_num_queries(0):
        assert selectors.api_key_for("not a key") is None


def test_last_used_at_is_one_update_a_minute_at_most(owner, django_assert_num_queries):
    key, _ = create(owner)
    with django_assert_num_queries(1):
        services.api_key_touch(key)
    first = ApiKey.objects.get(pk=key.pk).last_used_at
    assert first is not None and key.last_used_at == first
    with django_assert_num_queries(0):  # recent: not even a query
        services.api_key_touch(key)
    # Another process that loaded the key before the touch writes nothing either.
    stale_copy = ApiKey.objects.get(pk=key.pk)
    stale_copy.last_used_at = None
    services.api_key_touch(stale_copy)
    assert ApiKey.objects.get(pk=key.pk).last_used_at == first


# -- the command ------------------------------------------------------------------------------


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("api_key", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_command_creates_lists_and_revokes(acme):
    out, err = run(
        "create", "--tenant", "acme", "--owner", ADMIN, "--name", "ERP",
        "--kind", "secret", "--scope", "commerce:read", "--scope", "commerce:write",
    )  # fmt: skip
    secret = out.strip()
    with schema_context("acme"):
        key = selectors.api_key_for(secret)
        assert key.name == "ERP" and key.scopes == ["commerce:read", "commerce:write"]
    assert key.prefix in err and secret not in err

    listing, _ = run("list", "--tenant", "acme")
    assert key.prefix in listing and "active" in listing and secret not in listing

    out, _ = run("revoke", "--tenant", "acme", "--prefix", key.prefix)
    assert key.prefix in out
    with schema_context("acme"):
        assert selectors.api_key_for(secret) is None
    assert "revoked" in run("list", "--tenant", "acme")[0]


@pytest.mark.parametrize(
    "args",
    [
        ("create", "--tenant", "nope", "--owner", ADMIN, "--name", "x", "--scope", "content:read"),
        ("create", "--tenant", "acme", "--owner", "who@acme.test", "--name", "x"),
        ("create", "--tenant", "acme", "--owner", ADMIN, "--name", "x"),  # no scope
        ("create", "--tenant", "acme", "--owner", ADMIN, "--name", "x", "--expires", "soon"),
        ("revoke", "--tenant", "acme", "--prefix", "sk_live_nothere"),
    ],
)
def test_the_command_refuses_bad_input(acme, args):
    with pytest.raises(CommandError):
        run(*args)


# -- the admin --------------------------------------------------------------------------------


def test_the_admin_shows_the_secret_once_and_revokes(acme_client):
    admin = as_tenant_admin(acme_client)
    response = admin.post(
        f"{KEYS_URL}add/",
        {"name": "Headless shop", "kind": "secret", "scopes": ["commerce:read", "content:read"]},
    )
    assert response.status_code == 200, response.content.decode()[:2000]
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    with schema_context("acme"):
        key = ApiKey.objects.get()
        assert key.owner.username == ADMIN and key.scopes == ["content:read", "commerce:read"]
    secret = page.split('id="api-key-secret" type="text" readonly value="')[1].split('"')[0]
    with schema_context("acme"):
        assert selectors.api_key_for(secret) == key

    listing = admin.get(KEYS_URL).content.decode()
    assert key.prefix in listing and secret not in listing
    detail = admin.get(f"{KEYS_URL}{key.pk}/change/").content.decode()
    assert key.prefix in detail and secret not in detail and 'name="name"' not in detail

    response = admin.post(KEYS_URL, {"action": "revoke", "_selected_action": [key.pk]})
    assert response.status_code == 302
    with schema_context("acme"):
        assert selectors.api_key_for(secret) is None


def test_a_bad_key_in_the_admin_is_a_form_error(acme_client):
    admin = as_tenant_admin(acme_client)
    response = admin.post(f"{KEYS_URL}add/", {"name": "No scope", "kind": "secret"})
    assert response.status_code == 200
    assert "at least one scope" in response.content.decode()
    with schema_context("acme"):
        assert not ApiKey.objects.exists()


def test_only_who_may_add_keys_sees_them(acme_client):
    with schema_context("acme"):
        staff = UserFactory(email="merchant@acme.test", is_staff=True)
        staff.user_permissions.add(
            *Permission.objects.filter(content_type__app_label="people", codename="view_apikey")
        )
        acme_client.force_login(staff)
    assert acme_client.get(KEYS_URL).status_code == 403
    with schema_context("acme"):
        staff.user_permissions.add(Permission.objects.get(codename="add_apikey"))
    assert acme_client.get(KEYS_URL).status_code == 200


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.one_of(st.text(), st.text().map(lambda tail: "sk_live_" + tail)))
def test_any_other_string_finds_no_key(owner, candidate):
    if not ApiKey.objects.exists():
        create(owner, name="kept")
    assert selectors.api_key_for(candidate) is None  # NUL, surrogates, overlong: no error
