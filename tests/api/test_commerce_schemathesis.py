"""The API keeps the promises of its OpenAPI schema: schemathesis generates requests from the
schema and sends them to the Django app in process (its WSGI transport, no network), for every
commerce operation as a Merchant with a session, and for every operation of the schema with a
secret API key holding every scope; no answer may be a 5xx, use a status code or a content
type the schema does not list, or have a body that violates the schema.

Path ids are sometimes replaced by ids of real rows, so the operations also answer 200s (and
409s) with bodies to check, not only 404s. Bounded: a few examples per operation."""

from __future__ import annotations

import time
import uuid
from contextlib import contextmanager

import pytest
import schemathesis
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils.crypto import get_random_string
from django_tenants.utils import schema_context
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from apps.commerce import carts, services
from apps.commerce.services import ProductInput, VariantInput
from apps.content import services as content
from apps.forum import services as forum
from apps.people.models import API_KEY_SCOPES
from apps.webhooks import services as webhooks
from apps.webhooks.models import WebhookDelivery
from config.wsgi import application
from tests.commerce.order_factories import place
from tests.conftest import TEST_TENANTS
from tests.factories import UserFactory
from tests.forum import factories as forum_factories

from .conftest import login_as, make_node, png, upload_media
from .test_api_keys import make_key

pytestmark = pytest.mark.django_db

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES_PER_OPERATION = 4
TIME_BUDGET = 60  # seconds, for each run
# Fields of request bodies that name rows, and the resource of those rows.
REFERENCES = {
    "product": "products", "variant": "variants", "location": "locations",
    "topic_id": "forum:topics", "category_id": "forum:categories", "reply_id": "forum:replies",
}  # fmt: skip


@contextmanager
def in_test_transaction():
    """Requests served in the test's own transaction: Django's WSGI handler would otherwise
    close the connection (and the test's transaction) around each request, which the test
    client also prevents (and undoes after each of its own requests)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def catalog(acme, media_root, settings):
    """A product with an option, a priced variant, an image, a location, a collection, a
    category, a customer with an order, a webhook endpoint (on this machine) with a
    delivery, and a forum category with a topic, a reply and a report of it."""
    settings.WEBHOOKS_ALLOW_HTTP = settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True
    with schema_context("acme"):
        services.store_settings_update(default_currency="USD", enabled_currencies=["USD", "EUR"])
        category = services.category_create(name="Shirts")
        product = services.product_create(
            data=ProductInput(title="Linen shirt", category_ids=[category.pk])
        )
        option = services.option_create(product_id=product.pk, name="Size", values=["S", "M"])
        variant = services.variant_create(
            product_id=product.pk, data=VariantInput(sku="SHIRT-S", options={"Size": "S"})
        )
        services.price_set(variant_id=variant.pk, currency="USD", amount="19.90")
        location = services.location_create(code="main", name="Main")
        services.stock_adjust(
            variant_id=variant.pk, location_id=location.pk, delta=5, reason="received"
        )
        collection = services.collection_create(title="Summer", product_ids=[product.pk])
        image = services.product_image_add(product_id=product.pk, file=png(), alt_text={"en": "A"})
        customer = UserFactory(email="customer@example.test")
        order = place(customer_id=customer.pk)
        # A storefront's cart of an active product (no shipping zone: it never gets as far as
        # paying, which would need committed data).
        on_sale = services.product_create(data=ProductInput(title="Mug"))
        mug = services.variant_create(product_id=on_sale.pk, data=VariantInput(sku="MUG"))
        services.price_set(variant_id=mug.pk, currency="USD", amount="5.00")
        services.stock_adjust(
            variant_id=mug.pk, location_id=location.pk, delta=9, reason="received"
        )
        services.product_transition(product_id=on_sale.pk, action="activate")
        cart = carts.cart_for(
            token=None, customer_id=None, currency="USD", locale="en", create=True
        )
        carts.cart_add(cart_id=cart.pk, variant_id=mug.pk, quantity=1)
        content_category = content.category_create(name="News")
        tag = content.tag_get_or_create(name="Linen")
        endpoint, _ = webhooks.endpoint_create(url="http://127.0.0.1:9/in", event_types=["*"])
        delivery = WebhookDelivery.objects.create(
            endpoint=endpoint, event_id=uuid.uuid4(), event_type="commerce.product.created",
            payload={"id": "x"},
        )  # fmt: skip
        forum_category = forum_factories.category(name="Help")
        asker, answerer = forum_factories.member("Asker"), forum_factories.member("Answerer")
        topic = forum.topic_start(
            category_id=forum_category.pk, title="How?", body="B", actor=asker
        )
        reply = forum.reply_post(topic_id=topic.pk, body="Thus", actor=answerer)
        flag = forum.reply_flag(reply_id=reply.pk, reason="spam", actor=asker)
    post = make_node(title="Hello")
    page = make_node(kind="page", title="About")
    media = upload_media()
    return {
        "content:nodes": str(post.pk),
        "content:posts": str(post.pk),
        "content:pages": str(page.pk),
        "content:categories": content_category.pk,
        "content:tags": tag.pk,
        "content:media": str(media.pk),
        "products": str(product.pk),
        "variants": str(variant.pk),
        "options": option.pk,
        "locations": location.pk,
        "collections": collection.pk,
        "categories": category.pk,
        "images": str(image.pk),
        "orders": str(order.pk),
        "customers": customer.pk,
        "carts": str(cart.token),
        "cart_variant": str(mug.pk),
        "webhooks:endpoints": endpoint.pk,
        "webhooks:deliveries": delivery.pk,
        "forum:categories": forum_category.pk,
        "forum:topics": topic.pk,
        "forum:replies": reply.pk,
        "forum:flags": flag.pk,
    }


def resource_of(path: str) -> str:
    """The key of ``catalog`` naming a real row for ``path``'s ``{id}``."""
    parts = path.split("/")[3:]  # after /api/v1/
    if parts[0] == "commerce":
        return parts[1]
    if parts[0] in ("webhooks", "forum"):
        return f"{parts[0]}:{parts[1]}"
    return f"content:{parts[0]}"


def without_security(document: dict, scheme: str) -> None:
    """Drop ``scheme`` from every operation's ways in, so that schemathesis never sends a made-up
    credential of that kind (the run sends its own)."""
    for operation in (op for path in document["paths"].values() for op in path.values()):
        operation["security"] = [way for way in operation.get("security", ()) if scheme not in way]


def exercise(document: dict, *, path_regex: str, catalog, headers, cookies=None) -> dict:
    """Every operation of ``document`` under ``path_regex``, a few generated cases each, sent with
    ``headers`` and ``cookies`` and checked; the status codes seen per operation."""
    schema = schemathesis.openapi.from_dict(document)
    schema.app = application
    operations = [
        result.ok() for result in schema.include(path_regex=path_regex).get_all_operations()
    ]
    base_url = f"http://{settings.TENANT_BASE_DOMAIN}"
    seen: dict[str, set[int]] = {}

    def run(operation) -> None:
        resource = resource_of(operation.path)

        @hypothesis_settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(
            case=operation.as_strategy(),
            real=st.sampled_from([True, False]),
            currency=st.sampled_from(["USD", "EUR"]),
        )
        def call(case, real, currency):
            cart = "token" in (case.path_parameters or {})
            if real and "id" in (case.path_parameters or {}):
                case.path_parameters["id"] = catalog[resource]
                if "currency" in case.path_parameters:
                    case.path_parameters["currency"] = currency
            if real and "token" in (case.path_parameters or {}):
                case.path_parameters["token"] = catalog["carts"]
                if "variant" in case.path_parameters:
                    case.path_parameters["variant"] = catalog["cart_variant"]
            if real and isinstance(case.body, dict):
                for field, rows in REFERENCES.items():
                    if field in case.body:
                        case.body[field] = catalog["cart_variant" if cart else rows]
            response = case.call_and_validate(
                base_url=base_url, headers=headers, cookies=cookies, checks=CHECKS
            )
            seen.setdefault(operation.label, set()).add(response.status_code)

        call()

    with in_test_transaction():
        # Deletions last, so the other operations still find the rows to work on.
        for operation in sorted(
            operations, key=lambda operation: operation.method.upper() == "DELETE"
        ):
            run(operation)
    return seen


def test_commerce_operations_conform_to_the_schema(acme_client, catalog):
    login_as(acme_client, "acme", email="merchant@acme.test", groups=["Merchant"])
    csrf = get_random_string(32)
    session = acme_client.cookies[settings.SESSION_COOKIE_NAME].value
    cookies = {settings.SESSION_COOKIE_NAME: session, settings.CSRF_COOKIE_NAME: csrf}
    # The transport binds its cookies to "localhost" (the base domain in tests), so the tenant
    # is named by the resolver's header rather than by a subdomain.
    headers = {settings.TENANT_HEADER: "acme", "X-CSRFToken": csrf}
    document = acme_client.get("/api/v1/schema/?format=json").json()
    # This run speaks as the merchant's session: a generated bearer key would only ever be a 401
    # (tests/api/test_api_keys.py covers keys).
    without_security(document, "apiKey")
    assert sum(1 for path in document["paths"] if path.startswith("/api/v1/commerce/")) >= 20

    started = time.monotonic()
    seen = exercise(
        document,
        path_regex=r"^/api/v1/commerce/",
        catalog=catalog,
        headers=headers,
        cookies=cookies,
    )
    assert time.monotonic() - started < TIME_BUDGET
    assert len(seen) >= 40
    # Not only refusals: the real rows were read and written.
    assert 200 in seen["GET /api/v1/commerce/products/{id}/"]
    assert 200 in seen["GET /api/v1/commerce/products/"]
    assert 200 in seen["GET /api/v1/commerce/images/{id}/"]
    assert 200 in seen["GET /api/v1/commerce/orders/{id}/"]
    assert 200 in seen["GET /api/v1/commerce/customers/{id}/"]
    assert 200 in seen["GET /api/v1/commerce/carts/{token}/"]
    assert 201 in seen["POST /api/v1/commerce/carts/"]
    for label in (
        "PUT /api/v1/commerce/variants/{id}/prices/{currency}/",
        "PATCH /api/v1/commerce/products/{id}/",
        "POST /api/v1/commerce/inventory/adjust/",
        "POST /api/v1/commerce/carts/{token}/lines/",
        "PATCH /api/v1/commerce/carts/{token}/checkout/",
    ):
        assert any(code < 300 for code in seen[label]), (label, seen[label])


def test_every_operation_conforms_with_a_secret_key_holding_every_scope(acme_client, catalog):
    """The whole schema, as an integrator's server sees it: a secret key of the tenant's
    administrator (a superuser), with every scope; no session, no CSRF token."""
    with schema_context("acme"):
        admin = get_user_model().objects.get(username=TEST_TENANTS["acme"][1])
    _, secret = make_key(admin, scopes=list(API_KEY_SCOPES))
    headers = {settings.TENANT_HEADER: "acme", "Authorization": f"Bearer {secret}"}
    document = acme_client.get("/api/v1/schema/?format=json").json()
    without_security(document, "cookieAuth")
    without_security(document, "apiKey")

    started = time.monotonic()
    seen = exercise(
        document,
        path_regex=r"^/api/v1/",
        catalog=catalog,
        headers=headers,
    )
    assert time.monotonic() - started < TIME_BUDGET
    assert len(seen) == sum(len(path) for path in document["paths"].values())
    # The key got in everywhere: real rows of both modules and the feed were read, and written.
    for label in (
        "GET /api/v1/events/",
        "GET /api/v1/posts/{id}/",
        "GET /api/v1/media/{id}/",
        "GET /api/v1/commerce/products/{id}/",
        "GET /api/v1/commerce/orders/{id}/",
        "GET /api/v1/webhooks/endpoints/{id}/",
        "GET /api/v1/webhooks/deliveries/{id}/",
        "GET /api/v1/forum/topics/{id}/",
        "GET /api/v1/forum/replies/{id}/",
        "GET /api/v1/forum/flags/{id}/",
    ):
        assert 200 in seen[label], (label, seen[label])
    for label in (
        "PATCH /api/v1/commerce/products/{id}/",
        "PATCH /api/v1/forum/topics/{id}/",
        "PATCH /api/v1/forum/categories/{id}/",
    ):
        assert any(code < 300 for code in seen[label]), (label, seen[label])
    assert not any(401 in codes for codes in seen.values()), seen
