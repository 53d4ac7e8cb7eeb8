"""API keys on /api/v1/: ``Authorization: Bearer <key>``, no CSRF, the key's scopes narrowing
its owner's groups, one 401 for every key that does not work (unknown, revoked, expired,
another tenant's, an owner no longer staff)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.commerce import services as commerce
from apps.commerce.services import ProductInput
from apps.people import services as people
from apps.people.models import ApiKey
from tests.conftest import tenant_client
from tests.factories import UserFactory

from .conftest import assert_problem

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/v1/commerce/products/"
NODES = "/api/v1/nodes/"
POSTS = "/api/v1/posts/"
ORDERS = "/api/v1/commerce/orders/"
CARTS = "/api/v1/commerce/carts/"
JSON = "application/json"


def staff_owner(schema: str = "acme", email: str = "integrator@acme.test", **fields):
    """A staff user with the Editor and Merchant groups (every content and commerce right)."""
    with schema_context(schema):
        user = UserFactory(email=email, is_staff=True, **fields)
        user.groups.add(*Group.objects.filter(name__in=["Editor", "Merchant"]))
    return user


def make_key(owner, kind: str = "secret", scopes=("commerce:read",), schema: str = "acme", **kw):
    with schema_context(schema):
        return people.api_key_create(
            owner_id=owner.pk, name="Shop sync", kind=kind, scopes=list(scopes), **kw
        )


def bearer(secret: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def post_json(client: Client, url: str, data, secret: str):
    return client.post(url, json.dumps(data), content_type=JSON, **bearer(secret))


@pytest.fixture
def owner(acme):
    return staff_owner()


@pytest.fixture
def csrf_client(acme) -> Client:
    """acme's client that enforces CSRF as a browser's would be checked."""
    return Client(HTTP_HOST=tenant_client("acme").defaults["HTTP_HOST"], enforce_csrf_checks=True)


def test_a_read_key_reads_products_and_cannot_write(owner, csrf_client):
    _, secret = make_key(owner, scopes=["commerce:read"])
    response = csrf_client.get(PRODUCTS, **bearer(secret))
    assert response.status_code == 200, response.content

    body = assert_problem(post_json(csrf_client, PRODUCTS, {"title": "Shirt"}, secret), 403)
    assert body["code"] == "scope_missing" and "commerce:write" in body["detail"]


def test_a_write_key_creates_without_csrf(owner, csrf_client):
    _, secret = make_key(owner, scopes=["commerce:read", "commerce:write"])
    response = post_json(csrf_client, PRODUCTS, {"title": "Linen shirt"}, secret)
    assert response.status_code == 201, response.content
    assert response.json()["title"] == "Linen shirt"


def test_the_key_needs_its_owners_permission_too(acme, acme_client):
    """An owner who is only an Editor gets no commerce write from a commerce:write key."""
    with schema_context("acme"):
        editor = UserFactory(email="editor@acme.test", is_staff=True)
        editor.groups.add(Group.objects.get(name="Editor"))
    _, secret = make_key(editor, scopes=["commerce:read", "commerce:write"])
    assert_problem(acme_client.get(PRODUCTS, **bearer(secret)), 403)


def _invalid_key_body(response) -> dict:
    body = assert_problem(response, 401, "invalid_api_key")
    assert response["WWW-Authenticate"] == "Bearer"
    return body


def test_every_key_that_does_not_work_gets_the_same_401(owner, acme_client, globex_client):
    unknown = _invalid_key_body(acme_client.get(PRODUCTS, **bearer("sk_live_" + "x" * 43)))

    key, secret = make_key(owner)
    assert acme_client.get(PRODUCTS, **bearer(secret)).status_code == 200
    # acme's key on globex: globex's schema has no such key, and the answer says no more.
    assert _invalid_key_body(globex_client.get(PRODUCTS, **bearer(secret))) == unknown

    with schema_context("acme"):
        people.api_key_revoke(key_id=key.pk)
    # At once: no cache serves the revoked key.
    assert _invalid_key_body(acme_client.get(PRODUCTS, **bearer(secret))) == unknown

    for header in ("Bearer", "Bearer a b", "Bearer not-a-key", "bearer pk_live_"):
        response = acme_client.get(PRODUCTS, HTTP_AUTHORIZATION=header)
        assert _invalid_key_body(response) == unknown, header


def test_an_expired_key_gets_401(owner, acme_client):
    key, secret = make_key(owner, expires_at=timezone.now() + timedelta(hours=1))
    assert acme_client.get(PRODUCTS, **bearer(secret)).status_code == 200
    with schema_context("acme"):
        ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    _invalid_key_body(acme_client.get(PRODUCTS, **bearer(secret)))


@pytest.mark.parametrize("change", [{"is_staff": False}, {"is_active": False}])
def test_a_key_whose_owner_is_no_longer_staff_gets_401(owner, acme_client, change):
    _, secret = make_key(owner)
    with schema_context("acme"):
        get_user_model().objects.filter(pk=owner.pk).update(**change)
    _invalid_key_body(acme_client.get(PRODUCTS, **bearer(secret)))


def test_anonymous_requests_get_a_bearer_challenge(acme_client):
    response = acme_client.get(PRODUCTS)
    assert_problem(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Bearer"


# -- the scope matrix -------------------------------------------------------------------------

READ_CONTENT = ("secret", ["content:read"])
READ_COMMERCE = ("secret", ["commerce:read"])
WRITE_COMMERCE = ("secret", ["commerce:read", "commerce:write"])
EVERY_SCOPE = ("secret", ["content:read", "content:write", "commerce:read", "commerce:write"])
PUBLISHABLE = ("publishable", [])
KEYS = {
    "content:read": READ_CONTENT,
    "commerce:read": READ_COMMERCE,
    "commerce:rw": WRITE_COMMERCE,
    "all": EVERY_SCOPE,
    "publishable": PUBLISHABLE,
}
# endpoint -> the status of each key (by KEYS's name)
MATRIX = {
    ("get", NODES): {"content:read": 200, "commerce:read": 403, "commerce:rw": 403, "all": 200, "publishable": 200},
    ("post", POSTS): {"content:read": 403, "commerce:read": 403, "commerce:rw": 403, "all": 201, "publishable": 403},
    ("get", PRODUCTS): {"content:read": 403, "commerce:read": 200, "commerce:rw": 200, "all": 200, "publishable": 200},
    ("post", PRODUCTS): {"content:read": 403, "commerce:read": 403, "commerce:rw": 201, "all": 201, "publishable": 403},
    ("get", ORDERS): {"content:read": 403, "commerce:read": 200, "commerce:rw": 200, "all": 200, "publishable": 403},
    ("post", CARTS): {"content:read": 201, "commerce:read": 201, "commerce:rw": 201, "all": 201, "publishable": 201},
}  # fmt: skip
BODIES = {
    POSTS: {"translations": {"en": {"title": "Hello"}}},
    PRODUCTS: {"title": "Linen shirt"},
    CARTS: {"currency": "USD", "locale": "en"},
}
CASES = [
    pytest.param(method, url, key_name, status, id=f"{method} {url} {key_name}")
    for (method, url), statuses in MATRIX.items()
    for key_name, status in statuses.items()
]


@pytest.mark.parametrize(("method", "url", "key_name", "status"), CASES)
def test_scope_matrix(owner, acme_client, method, url, key_name, status):
    kind, scopes = KEYS[key_name]
    _, secret = make_key(owner, kind=kind, scopes=scopes)
    if method == "get":
        response = acme_client.get(url, **bearer(secret))
    else:
        response = post_json(acme_client, url, BODIES[url], secret)
    assert response.status_code == status, response.content[:500]
    if status == 403:
        assert response.json()["code"] == "scope_missing"


def test_a_publishable_key_reads_the_catalogue_only(owner, acme_client):
    with schema_context("acme"):
        product = commerce.product_create(data=ProductInput(title="Shirt"))
    _, secret = make_key(owner, kind="publishable", scopes=[])
    for url in (PRODUCTS, "/api/v1/commerce/collections/", "/api/v1/commerce/categories/",
                "/api/v1/posts/", "/api/v1/pages/"):  # fmt: skip
        assert acme_client.get(url, **bearer(secret)).status_code == 200, url
    for url in ("/api/v1/commerce/inventory/", "/api/v1/commerce/customers/", "/api/v1/media/"):
        assert_problem(acme_client.get(url, **bearer(secret)), 403, "scope_missing")
    response = acme_client.delete(f"{PRODUCTS}{product.pk}/", **bearer(secret))
    assert_problem(response, 403, "scope_missing")


def test_a_publishable_key_sees_only_what_the_public_sees(owner, acme_client):
    """Drafts are invisible to a publishable key (a browser's), listed or asked for by id;
    a secret key with the scope sees them."""
    from apps.content import services as content

    with schema_context("acme"):
        draft = commerce.product_create(data=ProductInput(title="Draft shirt"))
        on_sale = commerce.product_create(data=ProductInput(title="Sold shirt"))
        variant = commerce.variant_create(
            product_id=on_sale.pk, data=commerce.VariantInput(sku="PUB-1")
        )
        commerce.price_set(variant_id=variant.pk, currency="USD", amount="5.00")
        commerce.product_transition(product_id=on_sale.pk, action="activate")
        hidden = content.node_create(
            data=content.NodeInput(
                kind="post", translations=[content.TranslationInput("en", "Hidden")]
            )
        )
        shown = content.node_create(
            data=content.NodeInput(
                kind="post", translations=[content.TranslationInput("en", "Shown")]
            )
        )
        content.node_publish(node_id=shown.pk)
    _, public = make_key(owner, kind="publishable", scopes=[])
    _, secret = make_key(owner, scopes=["commerce:read", "content:read"])

    def ids(url, key):
        return {row["id"] for row in acme_client.get(url, **bearer(key)).json()["results"]}

    assert ids(PRODUCTS, public) == {str(on_sale.pk)}
    assert ids(PRODUCTS, secret) == {str(on_sale.pk), str(draft.pk)}
    assert ids(POSTS, public) == {str(shown.pk)}
    assert ids(POSTS, secret) == {str(shown.pk), str(hidden.pk)}
    assert_problem(acme_client.get(f"{PRODUCTS}{draft.pk}/", **bearer(public)), 404)
    assert_problem(acme_client.get(f"{POSTS}{hidden.pk}/", **bearer(public)), 404)
    assert acme_client.get(f"{PRODUCTS}{on_sale.pk}/", **bearer(public)).status_code == 200
    assert acme_client.get(f"{POSTS}{shown.pk}/", **bearer(public)).status_code == 200
    assert acme_client.get(f"{POSTS}{hidden.pk}/", **bearer(secret)).status_code == 200


def test_last_used_at_is_written_at_most_once_a_minute(
    owner, acme_client, django_assert_num_queries
):
    key, secret = make_key(owner)
    assert key.last_used_at is None
    assert acme_client.get(PRODUCTS, **bearer(secret)).status_code == 200
    with schema_context("acme"):
        first = ApiKey.objects.get(pk=key.pk).last_used_at
    assert first is not None
    acme_client.get(PRODUCTS, **bearer(secret))
    with schema_context("acme"):
        assert ApiKey.objects.get(pk=key.pk).last_used_at == first
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=first - timedelta(minutes=2))
    acme_client.get(PRODUCTS, **bearer(secret))
    with schema_context("acme"):
        assert ApiKey.objects.get(pk=key.pk).last_used_at > first - timedelta(minutes=1)
