"""The commerce API keeps the promises of its OpenAPI schema: schemathesis generates requests
from the schema for every commerce operation and sends them to the Django app in process (its
WSGI transport, no network), as a Merchant with a session; no answer may be a 5xx, use a status
code or a content type the schema does not list, or have a body that violates the schema.

Path ids are sometimes replaced by ids of real rows, so the operations also answer 200s (and
409s) with bodies to check, not only 404s. Bounded: a few examples per operation."""

from __future__ import annotations

import time
from contextlib import contextmanager

import pytest
import schemathesis
from django.conf import settings
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
from config.wsgi import application
from tests.commerce.order_factories import place
from tests.factories import UserFactory

from .conftest import login_as, png

pytestmark = pytest.mark.django_db

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES_PER_OPERATION = 4
TIME_BUDGET = 60  # seconds, for the whole run
# Fields of request bodies that name rows, and the resource of those rows.
REFERENCES = {"product": "products", "variant": "variants", "location": "locations"}


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
def catalog(acme, media_root):
    """A product with an option, a priced variant, an image, a location, a collection, a
    category, and a customer with an order."""
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
    return {
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
    }


def test_commerce_operations_conform_to_the_schema(acme_client, catalog):
    login_as(acme_client, "acme", email="merchant@acme.test", groups=["Merchant"])
    csrf = get_random_string(32)
    session = acme_client.cookies[settings.SESSION_COOKIE_NAME].value
    cookies = {settings.SESSION_COOKIE_NAME: session, settings.CSRF_COOKIE_NAME: csrf}
    # The transport binds its cookies to "localhost" (the base domain in tests), so the tenant
    # is named by the resolver's header rather than by a subdomain.
    headers = {settings.TENANT_HEADER: "acme", "X-CSRFToken": csrf}
    base_url = f"http://{settings.TENANT_BASE_DOMAIN}"
    document = acme_client.get("/api/v1/schema/?format=json").json()
    # This run speaks as the merchant's session: a generated bearer key would only ever be a 401
    # (tests/api/test_api_keys.py covers keys).
    for operation in (op for path in document["paths"].values() for op in path.values()):
        operation["security"] = [
            way for way in operation.get("security", ()) if "apiKey" not in way
        ]
    schema = schemathesis.openapi.from_dict(document)
    schema.app = application
    operations = [
        result.ok()
        for result in schema.include(path_regex=r"^/api/v1/commerce/").get_all_operations()
    ]
    assert len(operations) >= 40

    started = time.monotonic()
    seen: dict[str, set[int]] = {}

    def run(operation) -> None:
        resource = operation.path.split("/")[4]

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
    assert time.monotonic() - started < TIME_BUDGET
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
