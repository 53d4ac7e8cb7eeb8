"""Every endpoint of the API against every kind of key: which scope opens which door.

The expectations are written out here (which module each resource belongs to, which ones a
publishable key may read), independently of ``apps.api.permissions``; a resource the router
gains without an entry here fails the first test. The key's owner is the tenant's
administrator, so a refusal can only come from the key.
"""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from django_tenants.utils import schema_context

from apps.api.urls import router
from tests.conftest import TEST_TENANTS

from .test_api_keys import bearer, make_key

pytestmark = pytest.mark.django_db

# basename -> the module whose scopes open it; None: no key needed (a cart's token is enough).
MODULE = {
    "node": "content", "post": "content", "page": "content", "category": "content",
    "tag": "content", "media": "content",
    "commerce-product": "commerce", "commerce-option": "commerce",
    "commerce-image": "commerce", "commerce-variant": "commerce",
    "commerce-inventory": "commerce", "commerce-location": "commerce",
    "commerce-collection": "commerce", "commerce-category": "commerce",
    "commerce-order": "commerce", "commerce-customer": "commerce", "commerce-cart": None,
    "webhook-endpoint": "webhooks", "webhook-delivery": "webhooks",
    "forum-category": "forum", "forum-topic": "forum", "forum-reply": "forum",
    "forum-flag": "forum",
}  # fmt: skip
# What a publishable key may read: the published catalogue, content and forum, nothing else.
PUBLIC_READS = {
    "node", "post", "page", "category", "tag",
    "commerce-product", "commerce-collection", "commerce-category",
    "forum-category", "forum-topic", "forum-reply",
}  # fmt: skip
KEYS = {
    "content:read": ["content:read"],
    "content:write": ["content:write"],
    "commerce:read": ["commerce:read"],
    "commerce:write": ["commerce:write"],
    "webhooks:read": ["webhooks:read"],
    "webhooks:write": ["webhooks:write"],
    "events:read": ["events:read"],
    "forum:read": ["forum:read"],
    "forum:write": ["forum:write"],
    "every scope": [
        "content:read", "content:write", "commerce:read", "commerce:write",
        "webhooks:read", "webhooks:write", "events:read", "forum:read", "forum:write",
    ],
    "publishable": None,
}  # fmt: skip


def _routes(action: str) -> list[tuple[str, str]]:
    """(basename, url) of every list route whose view set has ``action`` (list, create)."""
    found = []
    for prefix, viewset, basename in router.registry:
        if hasattr(viewset, action):
            found.append((basename, f"/api/v1/{prefix}/"))
    return found


@pytest.fixture
def secrets(acme) -> dict[str, str]:
    with schema_context("acme"):
        admin = get_user_model().objects.get(username=TEST_TENANTS["acme"][1])
    assert admin.is_superuser
    made = {}
    for name, scopes in KEYS.items():
        kind = "publishable" if scopes is None else "secret"
        made[name] = make_key(admin, kind=kind, scopes=scopes or [])[1]
    return made


def test_every_resource_has_its_expectations():
    assert {basename for _prefix, _viewset, basename in router.registry} == set(MODULE)


def _may_read(key: str, basename: str) -> bool:
    if KEYS[key] is None:
        return basename in PUBLIC_READS
    return f"{MODULE[basename]}:read" in KEYS[key]


def _may_write(key: str, basename: str) -> bool:
    return KEYS[key] is not None and f"{MODULE[basename]}:write" in KEYS[key]


@pytest.mark.parametrize("key", KEYS)
def test_lists_open_to_the_read_scope_of_their_module(acme_client, secrets, key):
    outcomes = {}
    for basename, url in _routes("list"):
        response = acme_client.get(url, **bearer(secrets[key]))
        outcomes[basename] = response.status_code
        if response.status_code == 403:
            assert response.json()["code"] == "scope_missing", (url, response.content)
    expected = {basename: 200 if _may_read(key, basename) else 403 for basename in outcomes}
    assert outcomes == expected
    assert len(outcomes) >= 22


@pytest.mark.parametrize("key", KEYS)
def test_creates_open_to_the_write_scope_of_their_module(acme_client, secrets, key):
    """An empty body: a key that may write gets as far as the input's check (400); one that
    may not is refused before it (403). Carts need no key at all."""
    outcomes = {}
    for basename, url in _routes("create"):
        if MODULE[basename] is None:
            continue
        response = acme_client.post(
            url, json.dumps({}), content_type="application/json", **bearer(secrets[key])
        )
        outcomes[basename] = response.status_code
    expected = {basename: 400 if _may_write(key, basename) else 403 for basename in outcomes}
    assert outcomes == expected
    assert len(outcomes) >= 15


@pytest.mark.parametrize("key", KEYS)
def test_the_event_feed_opens_to_events_read_only(acme_client, secrets, key):
    response = acme_client.get("/api/v1/events/", **bearer(secrets[key]))
    assert response.status_code == (200 if "events:read" in (KEYS[key] or []) else 403)
