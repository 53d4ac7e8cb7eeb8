"""/api/v1/commerce/...: products, options, variants, prices, inventory, locations,
collections and categories, written through commerce's services."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from apps.commerce import selectors, services
from apps.commerce.services import PRODUCT_TRANSITIONS, ProductInput, VariantInput
from apps.events.models import OutboxEvent
from apps.tenancy.models import Tenant

from .conftest import assert_problem, login_as

pytestmark = pytest.mark.django_db

API = "/api/v1/commerce"


def post(client: Client, path: str, data, method: str = "post"):
    return getattr(client, method)(
        f"{API}{path}", data=json.dumps(data), content_type="application/json"
    )


def patch(client: Client, path: str, data):
    return post(client, path, data, method="patch")


def put(client: Client, path: str, data):
    return post(client, path, data, method="put")


@pytest.fixture
def shop(acme):
    """acme writes in English and German and sells in USD (default), EUR and JPY.

    Requested before the clients, so no cached tenant predates the locales."""
    Tenant.objects.filter(pk=acme.pk).update(enabled_locales=["en", "de"])
    with schema_context("acme"):
        services.store_settings_update(
            default_currency="USD", enabled_currencies=["USD", "EUR", "JPY"]
        )
    return acme


def in_acme(function, /, **kwargs):
    with schema_context("acme"):
        return function(**kwargs)


def make_product(title: str = "Linen shirt", schema: str = "acme", **fields):
    with schema_context(schema):
        return services.product_create(data=ProductInput(title=title, **fields))


def make_variant(product, sku: str, schema: str = "acme", **fields):
    with schema_context(schema):
        return services.variant_create(product_id=product.pk, data=VariantInput(sku=sku, **fields))


def priced(title: str = "Linen shirt", sku: str = "SHIRT-1", amount: str = "10.00"):
    product = make_product(title)
    variant = make_variant(product, sku)
    in_acme(services.price_set, variant_id=variant.pk, currency="USD", amount=amount)
    return product, variant


# -- products ---------------------------------------------------------------------------------


def test_product_crud(shop, acme_api):
    category = in_acme(services.category_create, name="Shirts")
    response = post(
        acme_api,
        "/products/",
        {
            "title": "Linen shirt",
            "vendor": "Acme",
            "description": "*Soft*",
            "categories": [category.pk],
            "translations": {"de": {"title": "Leinenhemd"}},
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["handle"] == "linen-shirt" and body["status"] == "draft"
    assert body["categories"] == [category.pk]
    assert body["translations"]["de"]["title"] == "Leinenhemd"
    assert "<em>Soft</em>" in body["description_html"]
    product_id = body["id"]

    response = acme_api.get(f"{API}/products/{product_id}/")
    assert response.status_code == 200 and response.json()["title"] == "Linen shirt"

    response = patch(
        acme_api,
        f"/products/{product_id}/",
        {"title": "Linen shirt, blue", "categories": [], "translations": {"de": {"title": "Blau"}}},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["title"] == "Linen shirt, blue" and body["handle"] == "linen-shirt"
    assert body["categories"] == [] and body["translations"]["de"]["title"] == "Blau"
    assert body["version"] == 2

    response = patch(acme_api, f"/products/{product_id}/", {"delete_locales": ["de"]})
    assert response.status_code == 200 and response.json()["translations"] == {}

    assert acme_api.delete(f"{API}/products/{product_id}/").status_code == 204
    assert_problem(acme_api.get(f"{API}/products/{product_id}/"), 404)
    assert in_acme(selectors.product_get, product_id=product_id) is None


def test_product_list_filters_and_ordering(shop, acme_api):
    shirts = in_acme(services.category_create, name="Shirts")
    make_product("Bravo", vendor="Acme", category_ids=[shirts.pk])
    make_product("Alpha", vendor="Acme")
    charlie, _variant = priced("Charlie", "C-1")
    in_acme(services.product_transition, product_id=charlie.pk, action="activate")

    def titles(query: str) -> list[str]:
        response = acme_api.get(f"{API}/products/?{query}")
        assert response.status_code == 200, response.content
        return [row["title"] for row in response.json()["results"]]

    assert titles("ordering=title") == ["Alpha", "Bravo", "Charlie"]
    assert titles("ordering=-title") == ["Charlie", "Bravo", "Alpha"]
    assert titles("status=active") == ["Charlie"]
    assert titles("vendor=Acme&ordering=title") == ["Alpha", "Bravo"]
    assert titles("category=shirts") == ["Bravo"]
    assert titles("sku=C-1") == ["Charlie"]
    assert_problem(acme_api.get(f"{API}/products/?status=gone"), 400, "invalid")


def test_product_validation_errors_name_the_fields(shop, acme_api):
    body = assert_problem(post(acme_api, "/products/", {"vendor": "x"}), 400, "invalid")
    assert "title" in body["errors"]
    body = assert_problem(post(acme_api, "/products/", {"title": "A", "colour": "red"}), 400)
    assert body["errors"] == {"colour": ["Unknown field."]}
    make_product("Taken", handle="taken")
    body = assert_problem(post(acme_api, "/products/", {"title": "B", "handle": "taken"}), 400)
    assert "handle" in body["errors"]
    body = assert_problem(post(acme_api, "/products/", {"title": "C", "categories": [999]}), 400)
    assert "category_ids" in body["errors"]
    body = assert_problem(
        post(acme_api, "/products/", {"title": "D", "translations": {"fr": {"title": "E"}}}), 400
    )
    assert "locale" in body["errors"]
    assert_problem(acme_api.get(f"{API}/products/not-a-uuid/"), 404)


def test_transitions_follow_the_status_machine(shop, acme_api):
    product = make_product()
    # No price in the default currency yet: activation is refused.
    body = assert_problem(post(acme_api, f"/products/{product.pk}/activate/", {}), 409)
    assert body["code"] == "invalid_transition"
    variant = make_variant(product, "SHIRT-1")
    in_acme(services.price_set, variant_id=variant.pk, currency="USD", amount="5")

    response = post(acme_api, f"/products/{product.pk}/activate/", {})
    assert response.status_code == 200 and response.json()["status"] == "active"
    assert_problem(acme_api.delete(f"{API}/products/{product.pk}/"), 409, "invalid_transition")
    body = assert_problem(post(acme_api, f"/products/{product.pk}/activate/", {}), 409)
    assert body["current"] == "active"
    assert post(acme_api, f"/products/{product.pk}/archive/", {}).json()["status"] == "archived"
    assert_problem(post(acme_api, f"/products/{product.pk}/archive/", {}), 409)
    assert post(acme_api, f"/products/{product.pk}/draft/", {}).json()["status"] == "draft"
    assert_problem(post(acme_api, f"/products/{product.pk}/publish/", {}), 404)


def test_transition_routes_are_derived_from_the_table(acme_api):
    paths = acme_api.get("/api/v1/schema/?format=json").json()["paths"]
    routes = {
        path.removeprefix(f"{API}/products/{{id}}/").strip("/")
        for path in paths
        if path.startswith(f"{API}/products/{{id}}/") and path != f"{API}/products/{{id}}/"
    }
    assert routes == set(PRODUCT_TRANSITIONS.actions)
    for name in routes:
        assert "409" in paths[f"{API}/products/{{id}}/{name}/"]["post"]["responses"]


# -- options, variants and prices -------------------------------------------------------------


def test_options_and_variants(shop, acme_api):
    product = make_product()
    response = post(
        acme_api, "/options/", {"product": str(product.pk), "name": "Size", "values": ["S", "M"]}
    )
    assert response.status_code == 201, response.content
    option = response.json()
    assert option["values"] == ["S", "M"] and option["position"] == 0

    response = post(
        acme_api,
        "/variants/",
        {
            "product": str(product.pk),
            "sku": "SHIRT-S",
            "options": {"Size": "S"},
            "weight_grams": "120.5",
        },
    )
    assert response.status_code == 201, response.content
    variant = response.json()
    assert variant["options"] == {"Size": "S"} and variant["weight_grams"] == "120.500"
    assert variant["prices"] == [] and variant["product"] == str(product.pk)

    body = assert_problem(
        post(
            acme_api,
            "/variants/",
            {"product": str(product.pk), "sku": "SHIRT-S2", "options": {"Size": "S"}},
        ),
        400,
    )
    assert "options" in body["errors"]
    body = assert_problem(
        post(
            acme_api,
            "/variants/",
            {"product": str(product.pk), "sku": "SHIRT-S", "options": {"Size": "M"}},
        ),
        400,
    )
    assert "sku" in body["errors"]
    body = assert_problem(
        post(
            acme_api, "/variants/", {"product": "00000000-0000-0000-0000-000000000000", "sku": "X"}
        ),
        400,
    )
    assert list(body["errors"]) == ["product"]
    body = assert_problem(
        post(acme_api, "/variants/", {"product": str(product.pk), "sku": "F", "weight_grams": 1.5}),
        400,
    )
    assert "weight_grams" in body["errors"]

    response = patch(
        acme_api, f"/variants/{variant['id']}/", {"options": {"Size": "M"}, "tracked": False}
    )
    assert response.status_code == 200, response.content
    assert response.json()["options"] == {"Size": "M"} and response.json()["tracked"] is False

    # A value in use by a variant cannot be removed.
    assert_problem(
        patch(acme_api, f"/options/{option['id']}/", {"values": ["S"]}), 409, "catalog_conflict"
    )
    response = patch(acme_api, f"/options/{option['id']}/", {"values": ["M", "L"]})
    assert response.status_code == 200 and response.json()["values"] == ["M", "L"]

    listed = acme_api.get(f"{API}/variants/?product={product.pk}").json()
    assert [row["sku"] for row in listed["results"]] == ["SHIRT-S"]
    assert acme_api.delete(f"{API}/variants/{variant['id']}/").status_code == 204
    assert acme_api.delete(f"{API}/options/{option['id']}/").status_code == 204
    assert acme_api.get(f"{API}/products/{product.pk}/").json()["options"] == []


def test_prices_are_strings_in_and_out(shop, acme_api):
    product = make_product()
    variant = make_variant(product, "SHIRT-1")
    url = f"/variants/{variant.pk}/prices/USD/"

    response = put(acme_api, url, {"amount": "19.905", "compare_at_amount": "25"})
    assert response.status_code == 200, response.content
    assert response.json() == {"currency": "USD", "amount": "19.91", "compare_at_amount": "25.00"}
    raw = acme_api.get(f"{API}/products/{product.pk}/").content.decode()
    assert '"amount":"19.91"' in raw.replace(" ", "")
    assert '"19.91"' in raw and "19.91," not in raw  # never a JSON number

    response = put(acme_api, f"/variants/{variant.pk}/prices/jpy/", {"amount": "1000.4"})
    assert response.json() == {"currency": "JPY", "amount": "1000", "compare_at_amount": None}

    for amount in (19.9, 20, True, None):
        body = assert_problem(put(acme_api, url, {"amount": amount}), 400, "invalid")
        assert list(body["errors"]) == ["amount"], amount
    body = assert_problem(put(acme_api, url, {"amount": "abc"}), 400)
    assert list(body["errors"]) == ["amount"]
    body = assert_problem(put(acme_api, url, {"amount": "-1"}), 400, "commerce_invalid")
    assert list(body["errors"]) == ["amount"]
    body = assert_problem(put(acme_api, url, {"amount": "10", "compare_at_amount": "9"}), 400)
    assert list(body["errors"]) == ["compare_at_amount"]
    body = assert_problem(
        put(acme_api, f"/variants/{variant.pk}/prices/GBP/", {"amount": "1"}), 400
    )
    assert list(body["errors"]) == ["currency"]
    body = assert_problem(
        put(acme_api, f"/variants/{variant.pk}/prices/XYZ/", {"amount": "1"}), 400
    )
    assert list(body["errors"]) == ["currency"]
    with schema_context("acme"):
        assert selectors.variant_get(variant.pk).prices.get(currency="USD").amount == Decimal(
            "19.91"
        )

    assert acme_api.delete(f"{API}/variants/{variant.pk}/prices/JPY/").status_code == 204
    assert_problem(
        acme_api.delete(f"{API}/variants/{variant.pk}/prices/JPY/"), 404, "price_not_found"
    )
    in_acme(services.product_transition, product_id=product.pk, action="activate")
    # An active product keeps a price in the default currency.
    assert_problem(
        acme_api.delete(f"{API}/variants/{variant.pk}/prices/USD/"), 409, "catalog_conflict"
    )
    assert_problem(acme_api.delete(f"{API}/variants/{variant.pk}/"), 409, "catalog_conflict")


# -- inventory and locations ------------------------------------------------------------------


def test_locations_crud(shop, acme_api):
    response = post(acme_api, "/locations/", {"code": "main", "name": "Main warehouse"})
    assert response.status_code == 201, response.content
    location = response.json()
    assert location["active"] is True
    body = assert_problem(post(acme_api, "/locations/", {"code": "main", "name": "Again"}), 400)
    assert "code" in body["errors"]
    response = patch(acme_api, f"/locations/{location['id']}/", {"active": False, "name": "Old"})
    assert response.json() == {**location, "active": False, "name": "Old"}
    assert [
        row["code"] for row in acme_api.get(f"{API}/locations/?active=false").json()["results"]
    ] == ["main"]
    assert acme_api.get(f"{API}/locations/?active=true").json()["results"] == []
    assert acme_api.delete(f"{API}/locations/{location['id']}/").status_code == 204
    assert_problem(acme_api.get(f"{API}/locations/{location['id']}/"), 404)


def test_inventory_read_adjust_and_set(shop, acme_api):
    _product, variant = priced()
    location = in_acme(services.location_create, code="main", name="Main")
    target = {"variant": str(variant.pk), "location": location.pk}

    response = post(acme_api, "/inventory/adjust/", {**target, "delta": 5, "reason": "received"})
    assert response.status_code == 200, response.content
    assert response.json() == {
        **target, "sku": "SHIRT-1", "location_code": "main", "on_hand": 5, "reserved": 0, "available": 5,
    }  # fmt: skip
    body = assert_problem(
        post(acme_api, "/inventory/adjust/", {**target, "delta": -6, "reason": "sold"}), 409
    )
    assert body["code"] == "out_of_stock"
    body = assert_problem(
        post(acme_api, "/inventory/adjust/", {**target, "delta": 2, "reason": "sold"}), 400
    )
    assert list(body["errors"]) == ["delta"]
    body = assert_problem(
        post(acme_api, "/inventory/adjust/", {**target, "delta": 2, "reason": "found"}), 400
    )
    assert list(body["errors"]) == ["reason"]
    body = assert_problem(
        post(
            acme_api,
            "/inventory/adjust/",
            {**target, "location": 999, "delta": 1, "reason": "received"},
        ),
        400,
    )
    assert list(body["errors"]) == ["location"]
    body = assert_problem(
        post(
            acme_api,
            "/inventory/set/",
            {**target, "variant": "00000000-0000-0000-0000-000000000001", "on_hand": 1},
        ),
        400,
    )
    assert list(body["errors"]) == ["variant"]

    response = post(acme_api, "/inventory/set/", {**target, "on_hand": 3, "note": "counted"})
    assert response.status_code == 200 and response.json()["on_hand"] == 3
    with schema_context("acme"):
        assert [(a.delta, a.reason) for a in selectors.adjustments(variant_id=variant.pk)] == [
            (-2, "correction"), (5, "received"),
        ]  # fmt: skip

    listed = acme_api.get(f"{API}/inventory/?variant={variant.pk}").json()
    assert [(row["sku"], row["on_hand"]) for row in listed["results"]] == [("SHIRT-1", 3)]
    assert acme_api.get(f"{API}/inventory/?location={location.pk + 1}").json()["results"] == []
    # The location has stock history now: it is deactivated, not deleted.
    assert_problem(acme_api.delete(f"{API}/locations/{location.pk}/"), 409, "catalog_conflict")


# -- collections and categories ---------------------------------------------------------------


def test_collections(shop, acme_api):
    first, second = make_product("First"), make_product("Second")
    response = post(
        acme_api, "/collections/", {"title": "Summer", "products": [str(first.pk), str(second.pk)]}
    )
    assert response.status_code == 201, response.content
    collection = response.json()
    assert collection["handle"] == "summer"
    assert collection["products"] == [str(first.pk), str(second.pk)]
    assert acme_api.get(f"{API}/products/{first.pk}/").json()["collections"] == [collection["id"]]

    response = patch(
        acme_api,
        f"/collections/{collection['id']}/",
        {"products": [str(second.pk)], "title": "Hot"},
    )
    assert response.status_code == 200
    assert response.json()["products"] == [str(second.pk)] and response.json()["title"] == "Hot"
    assert len(acme_api.get(f"{API}/products/?collection=summer").json()["results"]) == 1

    # One request, one transaction: a refused handle leaves the products as they were.
    post(acme_api, "/collections/", {"title": "Other"})
    body = assert_problem(
        patch(acme_api, f"/collections/{collection['id']}/", {"handle": "other", "products": []}),
        400,
    )
    assert "handle" in body["errors"]
    assert acme_api.get(f"{API}/collections/{collection['id']}/").json()["products"] == [
        str(second.pk)
    ]
    body = assert_problem(
        patch(acme_api, f"/collections/{collection['id']}/", {"products": ["not-a-uuid"]}), 400
    )
    assert "products.0" in body["errors"]
    assert acme_api.delete(f"{API}/collections/{collection['id']}/").status_code == 204


def test_categories(shop, acme_api):
    response = post(acme_api, "/categories/", {"name": "Clothes"})
    assert response.status_code == 201, response.content
    clothes = response.json()
    shirts = post(acme_api, "/categories/", {"name": "Shirts", "parent": clothes["id"]}).json()
    assert shirts["parent"] == clothes["id"] and shirts["handle"] == "shirts"
    body = assert_problem(
        patch(acme_api, f"/categories/{clothes['id']}/", {"parent": shirts["id"]}), 400
    )
    assert list(body["errors"]) == ["parent"]
    assert_problem(acme_api.delete(f"{API}/categories/{clothes['id']}/"), 409, "catalog_conflict")
    listed = acme_api.get(f"{API}/categories/?parent={clothes['id']}").json()
    assert [row["name"] for row in listed["results"]] == ["Shirts"]
    response = patch(acme_api, f"/categories/{shirts['id']}/", {"parent": None, "position": 3})
    assert response.json()["parent"] is None and response.json()["position"] == 3
    assert acme_api.delete(f"{API}/categories/{clothes['id']}/").status_code == 204
    # The content categories of /api/v1/categories/ are another resource.
    assert acme_api.get("/api/v1/categories/").json()["results"] == []


# -- who may call it --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("groups", "staff", "read", "write"),
    [
        (["Merchant"], True, 200, 201),
        (["Editor"], True, 403, 403),
        (["Moderator"], True, 403, 403),
        ([], True, 403, 403),
        (["Merchant"], False, 403, 403),
    ],
)
def test_permissions_matrix(shop, acme_client, groups, staff, read, write):
    product = make_product()
    login_as(acme_client, "acme", email="someone@acme.test", staff=staff, groups=groups)
    assert acme_client.get(f"{API}/products/").status_code == read
    assert acme_client.get(f"{API}/inventory/").status_code == read
    assert post(acme_client, "/locations/", {"code": "x", "name": "X"}).status_code == write
    transition = post(acme_client, f"/products/{product.pk}/archive/", {})
    assert transition.status_code == (409 if write == 201 else 403)
    if write == 403:
        code = "permission_denied"
        assert_problem(post(acme_client, "/products/", {"title": "No"}), 403, code)
        assert in_acme(selectors.products).count() == 1


def test_anonymous_is_refused(shop, acme_client):
    product = make_product()
    assert_problem(acme_client.get(f"{API}/products/"), 401, "not_authenticated")
    assert_problem(acme_client.get(f"{API}/products/{product.pk}/"), 401, "not_authenticated")
    assert_problem(
        post(acme_client, f"/products/{product.pk}/activate/", {}), 401, "not_authenticated"
    )


def test_tenant_isolation(shop, acme_api, globex_api):
    product, variant = priced()
    location = in_acme(services.location_create, code="main", name="Main")
    collection = in_acme(services.collection_create, title="Summer", product_ids=[product.pk])
    category = in_acme(services.category_create, name="Shirts")
    head = OutboxEvent.objects.count()

    for path in (
        f"/products/{product.pk}/",
        f"/variants/{variant.pk}/",
        f"/locations/{location.pk}/",
        f"/collections/{collection.pk}/",
        f"/categories/{category.pk}/",
    ):
        assert_problem(globex_api.get(f"{API}{path}"), 404)
        assert_problem(patch(globex_api, path, {}), 404)
        assert_problem(globex_api.delete(f"{API}{path}"), 404)
    assert_problem(post(globex_api, f"/products/{product.pk}/activate/", {}), 404)
    assert_problem(put(globex_api, f"/variants/{variant.pk}/prices/USD/", {"amount": "1"}), 404)
    body = assert_problem(
        post(
            globex_api,
            "/inventory/adjust/",
            {"variant": str(variant.pk), "location": location.pk, "delta": 1, "reason": "received"},
        ),
        400,
    )
    assert set(body["errors"]) == {"variant"}
    assert globex_api.get(f"{API}/products/").json()["results"] == []
    assert globex_api.get(f"{API}/variants/").json()["results"] == []
    assert OutboxEvent.objects.count() == head
    with schema_context("acme"):
        assert selectors.product_get(product.pk).status == "draft"


# -- query counts -----------------------------------------------------------------------------


def _catalog(count: int) -> None:
    """``count`` products, each with 2 options, 6 variants priced in 2 currencies, 2 categories
    and a collection."""
    with schema_context("acme"):
        categories = [services.category_create(name=f"Category {n}").pk for n in range(2)]
        ids = []
        for n in range(count):
            product = services.product_create(
                data=ProductInput(title=f"Product {n}", category_ids=categories)
            )
            services.option_create(product_id=product.pk, name="Size", values=["S", "M", "L"])
            services.option_create(product_id=product.pk, name="Colour", values=["Red", "Blue"])
            for size in ("S", "M", "L"):
                for colour in ("Red", "Blue"):
                    variant = services.variant_create(
                        product_id=product.pk,
                        data=VariantInput(
                            sku=f"P{n}-{size}-{colour}", options={"Size": size, "Colour": colour}
                        ),
                    )
                    for currency in ("USD", "EUR"):
                        services.price_set(variant_id=variant.pk, currency=currency, amount="9.99")
            ids.append(product.pk)
        services.collection_create(title="All", product_ids=ids)


# session, user, products, translations, options, option values, variants, prices,
# variant option values, categories, collections, images
PRODUCT_LIST_QUERIES = 12


@pytest.mark.parametrize("count", [3, 30])
def test_product_list_query_count_does_not_grow(shop, acme_api, django_assert_num_queries, count):
    _catalog(count)
    acme_api.get(f"{API}/products/")  # warm caches (tenant, flags)
    with django_assert_num_queries(PRODUCT_LIST_QUERIES):
        response = acme_api.get(f"{API}/products/?page_size=100")
    assert response.status_code == 200
    results = response.json()["results"]
    assert len(results) == count
    assert all(len(row["variants"]) == 6 for row in results)
    assert all(len(row["variants"][0]["prices"]) == 2 for row in results)
    assert all(len(row["variants"][5]["options"]) == 2 for row in results)
