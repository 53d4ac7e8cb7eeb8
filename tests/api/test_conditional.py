"""ETag, If-None-Match and If-Match on the API's single resources, and the tenants'
strict mode (428 without If-Match)."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, connections
from django.test import Client
from django.urls import reverse
from django_tenants.utils import schema_context

from apps.api.urls import router
from apps.commerce import services as commerce
from apps.commerce.models import Order, Product
from apps.commerce.services import ProductInput, VariantInput
from apps.content import services as content
from apps.events.models import OutboxEvent
from apps.forum import services as forum
from apps.people import services as people
from apps.tenancy.services import tenant_update
from apps.webhooks import services as webhooks
from apps.webhooks.models import WebhookDelivery
from tests.commerce.checkout_factories import make_cart
from tests.commerce.order_factories import place
from tests.conftest import tenant_client
from tests.forum import factories as forum_factories

from .conftest import assert_problem, login_as, make_node, png, upload_media

User = get_user_model()
JSON = "application/json"
PRODUCTS = "/api/v1/commerce/products/"


def url_of(basename: str, route_name: str, **kwargs) -> str:
    return reverse(f"api:{basename}-{route_name}", kwargs=kwargs, urlconf="config.urls_tenant")


def patch(client: Client, url: str, data, **headers):
    return client.patch(url, json.dumps(data), content_type=JSON, **headers)


def if_match(tag: str) -> dict[str, str]:
    return {"HTTP_IF_MATCH": tag}


@pytest.fixture
def store(acme):
    """acme sells in USD and EUR (set before any client caches the tenant)."""
    with schema_context("acme"):
        commerce.store_settings_update(default_currency="USD", enabled_currencies=["USD", "EUR"])
    return acme


def make_product(title: str = "Linen shirt"):
    with schema_context("acme"):
        return commerce.product_create(data=ProductInput(title=title))


@pytest.fixture
def samples(store, acme_api, media_root, settings) -> dict[str, str]:
    """One object behind every detail route of the API: basename -> its lookup value."""
    settings.WEBHOOKS_ALLOW_HTTP = settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True
    with schema_context("acme"):
        endpoint, _ = webhooks.endpoint_create(url="http://127.0.0.1:9/in", event_types=["*"])
        delivery = WebhookDelivery.objects.create(
            endpoint=endpoint, event_id=uuid.uuid4(), event_type="commerce.product.created",
            payload={"id": "x"},
        )  # fmt: skip
        product = commerce.product_create(data=ProductInput(title="Linen shirt"))
        option = commerce.option_create(product_id=product.pk, name="Size", values=["S", "M"])
        variant = commerce.variant_create(
            product_id=product.pk, data=VariantInput(sku="LS-1", options={"Size": "S"})
        )
        commerce.price_set(variant_id=variant.pk, currency="USD", amount="10.00")
        commerce.price_set(variant_id=variant.pk, currency="EUR", amount="10.00")
        image = commerce.product_image_add(product_id=product.pk, file=png())
        location = commerce.location_create(code="main", name="Main")
        collection = commerce.collection_create(title="Summer")
        shirts = commerce.category_create(name="Shirts")
        order = place(variant)
        customer = people.customer_sign_up(
            email="ada@example.com", password="a long passphrase 42", display_name="Ada"
        )
        cart = make_cart((variant, 1))
        category = content.category_create(name="News")
        tag = content.tag_get_or_create(name="Red")
        forum_category = forum_factories.category(name="Help")
        asker, answerer = forum_factories.member("Asker"), forum_factories.member("Answerer")
        topic = forum.topic_start(
            category_id=forum_category.pk, title="How?", body="B", actor=asker
        )
        reply = forum.reply_post(topic_id=topic.pk, body="Thus", actor=answerer)
        flag = forum.reply_flag(reply_id=reply.pk, reason="spam", actor=asker)
    started = patch(
        acme_api, f"/api/v1/commerce/carts/{cart.token}/checkout/", {"email": "ada@example.com"}
    )
    assert started.status_code == 200, started.content
    post = make_node(kind="post", title="A post")
    return {
        "node": str(make_node(kind="article", title="An article").pk),
        "post": str(post.pk),
        "page": str(make_node(kind="page", title="A page").pk),
        "category": str(category.pk),
        "tag": str(tag.pk),
        "media": str(upload_media().pk),
        "commerce-product": str(product.pk),
        "commerce-option": str(option.pk),
        "commerce-image": str(image.pk),
        "commerce-variant": str(variant.pk),
        "commerce-location": str(location.pk),
        "commerce-collection": str(collection.pk),
        "commerce-category": str(shirts.pk),
        "commerce-order": str(order.pk),
        "commerce-customer": str(getattr(customer, "pk", customer)),
        "commerce-cart": str(cart.token),
        "webhook-endpoint": str(endpoint.pk),
        "webhook-delivery": str(delivery.pk),
        "forum-category": str(forum_category.pk),
        "forum-topic": str(topic.pk),
        "forum-reply": str(reply.pk),
        "forum-flag": str(flag.pk),
    }


def detail_routes(viewset):
    """The router's detail routes of ``viewset`` that it implements, with their methods."""
    for route in router.get_routes(viewset):
        methods = router.get_method_map(viewset, route.mapping)
        if route.detail and methods:
            yield route, methods


def query_of(route_name: str) -> dict[str, str]:
    if route_name == "commerce-order-as-of":
        return {"at": datetime.now(UTC).isoformat()}
    return {}


def test_every_single_resource_get_answers_an_etag_and_304(samples, acme_api):
    checked = []
    for _prefix, viewset, basename in router.registry:
        for route, methods in detail_routes(viewset):
            if "get" not in methods:
                continue
            assert basename in samples, f"no sample object for {basename}"
            lookup = getattr(viewset, "lookup_url_kwarg", None) or viewset.lookup_field
            name = route.name.format(basename=basename)
            url = url_of(basename, name.removeprefix(f"{basename}-"), **{lookup: samples[basename]})
            query = query_of(name)
            response = acme_api.get(url, query)
            assert response.status_code == 200, (url, response.content[:300])
            etag = response["ETag"]
            assert etag.startswith('"') and etag.endswith('"'), etag  # strong: no W/
            body = response.json()
            if methods["get"] == "retrieve" and isinstance(body.get("version"), int):
                assert etag == f'"v{body["version"]}"', url

            again = acme_api.get(url, query, HTTP_IF_NONE_MATCH=etag)
            assert again.status_code == 304, url
            assert again.content == b""
            assert again["ETag"] == etag
            weak = acme_api.get(url, query, HTTP_IF_NONE_MATCH=f'"other", W/{etag}')
            assert weak.status_code == 304, url  # If-None-Match compares weakly
            assert acme_api.get(url, query, HTTP_IF_NONE_MATCH='"other"').status_code == 200
            checked.append(name)
    assert {"node-detail", "commerce-product-detail", "commerce-order-as-of"} <= set(checked)
    assert len(checked) >= 17


def test_every_write_with_the_current_etag_gets_through(samples, acme_api):
    """The tag a GET answers is the tag ``If-Match`` compares with, for every resource."""
    checked = []
    for _prefix, viewset, basename in router.registry:
        for _route, methods in detail_routes(viewset):
            if methods.get("patch") != "partial_update":
                continue
            lookup = getattr(viewset, "lookup_url_kwarg", None) or viewset.lookup_field
            url = url_of(basename, "detail", **{lookup: samples[basename]})
            etag = acme_api.get(url)["ETag"]
            stale = patch(acme_api, url, {}, **if_match('"stale"'))
            assert_problem(stale, 412, "precondition_failed")
            current = patch(acme_api, url, {}, **if_match(etag))
            assert current.status_code < 300 or current.status_code == 400, (url, current.content)
            checked.append(basename)
    assert {"node", "commerce-product", "commerce-variant", "tag", "media"} <= set(checked)
    assert len(checked) >= 12


@pytest.mark.django_db
def test_a_stale_if_match_changes_nothing(store, acme_api):
    product = make_product()
    url = f"{PRODUCTS}{product.pk}/"
    read = acme_api.get(url)
    assert read["ETag"] == '"v1"'
    events = OutboxEvent.objects.count()

    changed = patch(acme_api, url, {"title": "Hemp shirt"}, **if_match('"v1"'))
    assert changed.status_code == 200, changed.content
    assert changed["ETag"] == '"v2"'
    for tag in ('"v1"', 'W/"v2"', '"v1", "v3"', "v2", "garbage"):
        refused = patch(acme_api, url, {"title": "Wool shirt"}, **if_match(tag))
        assert_problem(refused, 412, "precondition_failed")
        assert refused.json()["etag"] == '"v2"'
    assert_problem(acme_api.delete(url, **if_match('"v1"')), 412, "precondition_failed")
    with schema_context("acme"):
        product = Product.objects.get(pk=product.pk)
    assert (product.title, product.version) == ("Hemp shirt", 2)
    assert OutboxEvent.objects.count() == events + 1  # the one change that went through

    assert (
        patch(acme_api, url, {"title": "Silk shirt"}, **if_match('"v0", "v2"')).status_code == 200
    )
    assert patch(acme_api, url, {"title": "Wool shirt"}, **if_match("*")).status_code == 200
    assert acme_api.delete(url, **if_match('"v4"')).status_code == 204
    assert_problem(acme_api.delete(url, **if_match("*")), 404)


@pytest.mark.django_db
def test_a_resource_without_version_is_tagged_by_its_representation(acme_api):
    with schema_context("acme"):
        tag = content.tag_get_or_create(name="Red")
    url = f"/api/v1/tags/{tag.pk}/"
    etag = acme_api.get(url)["ETag"]
    assert not etag.startswith('"v')
    assert patch(acme_api, url, {"name": "Crimson"}, **if_match(etag)).status_code == 200
    new_etag = acme_api.get(url)["ETag"]
    assert new_etag != etag
    assert_problem(patch(acme_api, url, {"name": "Blue"}, **if_match(etag)), 412)
    assert acme_api.get(url).json()["name"] == "Crimson"


@pytest.mark.django_db
def test_translations_sub_route_compares_with_the_node(acme_api):
    node = make_node(kind="post", title="Hello")
    url = f"/api/v1/posts/{node.pk}/"
    etag = acme_api.get(url)["ETag"]
    translation = f"/api/v1/posts/{node.pk}/translations/en/"
    body = {"title": "Hello again"}
    stale = acme_api.put(translation, json.dumps(body), content_type=JSON, **if_match('"v0"'))
    assert_problem(stale, 412)
    fresh = acme_api.put(translation, json.dumps(body), content_type=JSON, **if_match(etag))
    assert fresh.status_code == 200, fresh.content


@pytest.mark.django_db
def test_strict_mode_requires_if_match_on_versioned_resources_only(store):
    tenant_update(slug="acme", require_if_match=True)  # before any client caches acme
    client = tenant_client("acme")
    login_as(client, "acme", email="merchant@acme.test", groups=["Editor", "Merchant"])
    product = make_product()
    url = f"{PRODUCTS}{product.pk}/"
    body = assert_problem(patch(client, url, {"title": "Hemp"}), 428, "precondition_required")
    assert "If-Match" in body["detail"]
    assert_problem(client.delete(url), 428)
    with schema_context("acme"):
        assert Product.objects.get(pk=product.pk).title == "Linen shirt"
    assert patch(client, url, {"title": "Hemp"}, **if_match('"v1"')).status_code == 200
    # Reads and creations need nothing; a resource without a version needs no If-Match.
    assert client.get(url).status_code == 200
    assert client.post(PRODUCTS, {"title": "New"}, content_type=JSON).status_code == 201
    with schema_context("acme"):
        location = commerce.location_create(code="main", name="Main")
    located = patch(client, f"/api/v1/commerce/locations/{location.pk}/", {"name": "Depot"})
    assert located.status_code == 200


@pytest.mark.django_db
def test_without_strict_mode_if_match_is_optional(store, acme_api):
    product = make_product()
    assert patch(acme_api, f"{PRODUCTS}{product.pk}/", {"title": "Hemp"}).status_code == 200


# -- orders: If-Match is their expected_version --------------------------------------------


def _order(store) -> Order:
    with schema_context("acme"):
        return place(None)


@pytest.mark.django_db
def test_order_transitions_take_if_match_as_their_expected_version(store, acme_api):
    order = _order(store)
    url = f"/api/v1/commerce/orders/{order.pk}/"
    etag = acme_api.get(url)["ETag"]
    assert etag == f'"v{order.version}"'
    confirm = f"{url}transitions/confirm/"
    stale = acme_api.post(confirm, "{}", content_type=JSON, **if_match(f'"v{order.version + 5}"'))
    assert_problem(stale, 412, "precondition_failed")
    # The body's expected_version keeps its 409.
    body_stale = acme_api.post(
        confirm, json.dumps({"expected_version": order.version + 5}), content_type=JSON
    )
    assert_problem(body_stale, 409, "order_version_conflict")
    with schema_context("acme"):
        assert Order.objects.get(pk=order.pk).status == order.status
    confirmed = acme_api.post(confirm, "{}", content_type=JSON, **if_match(etag))
    assert confirmed.status_code == 200, confirmed.content
    assert confirmed.json()["status"] == "confirmed"


@pytest.mark.django_db
def test_order_transitions_need_if_match_in_strict_mode(store):
    tenant_update(slug="acme", require_if_match=True)
    order = _order(store)
    client = tenant_client("acme")
    login_as(client, "acme", email="merchant@acme.test", groups=["Merchant"])
    confirm = f"/api/v1/commerce/orders/{order.pk}/transitions/confirm/"
    assert_problem(client.post(confirm, "{}", content_type=JSON), 428, "precondition_required")
    with_body = client.post(
        confirm, json.dumps({"expected_version": order.version}), content_type=JSON
    )
    assert with_body.status_code == 200, with_body.content


# -- two writers with the same ETag ----------------------------------------------------------


@pytest.fixture
def racing_merchant(live_db):
    """A committed merchant of acme and a committed product; both go afterwards."""
    user = login_as(tenant_client("acme"), "acme", email="race@acme.test", groups=["Merchant"])
    product = make_product("Racing shirt")
    yield user, product
    with schema_context("acme"):
        Product.objects.filter(pk=product.pk).delete()
        User.objects.filter(pk=user.pk).delete()
    connection.set_schema_to_public()


@pytest.mark.parametrize("round_", range(3))
def test_two_writers_with_the_same_etag_one_wins(racing_merchant, round_):
    user, product = racing_merchant
    url = f"{PRODUCTS}{product.pk}/"
    clients = [tenant_client("acme"), tenant_client("acme")]
    with schema_context("acme"):
        for client in clients:
            client.force_login(user)
    etag = clients[0].get(url)["ETag"]
    assert clients[1].get(url)["ETag"] == etag
    barrier = threading.Barrier(2)
    answers: list = [None, None]

    def write(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            answers[index] = patch(
                clients[index], url, {"title": f"Writer {index}"}, **if_match(etag)
            )
        except Exception as error:  # reported by the assertions below
            answers[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [200, 412], [getattr(a, "content", a) for a in answers]
    winner = next(index for index, answer in enumerate(answers) if answer.status_code == 200)
    with schema_context("acme"):
        stored = Product.objects.get(pk=product.pk)
    assert stored.title == f"Writer {winner}"
    assert f'"v{stored.version}"' == answers[winner]["ETag"]
    assert stored.version == int(etag.strip('"v')) + 1


@pytest.mark.django_db
def test_the_schema_describes_the_headers(acme_api):
    paths = acme_api.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()["paths"]
    detail = paths["/api/v1/commerce/products/{id}/"]
    get = detail["get"]
    assert "If-None-Match" in {p["name"] for p in get["parameters"] if p["in"] == "header"}
    assert "ETag" in get["responses"]["200"]["headers"]
    assert "304" in get["responses"]
    for method in ("patch", "delete"):
        operation = detail[method]
        headers = {p["name"] for p in operation["parameters"] if p["in"] == "header"}
        assert "If-Match" in headers, method
        assert {"412", "428"} <= set(operation["responses"]), method
    confirm = paths["/api/v1/commerce/orders/{id}/transitions/confirm/"]["post"]
    assert "If-Match" in {p["name"] for p in confirm["parameters"] if p["in"] == "header"}
    assert "412" in confirm["responses"]
    # Lists have no ETag; carts take no If-Match.
    assert "ETag" not in paths["/api/v1/commerce/products/"]["get"]["responses"]["200"].get(
        "headers", {}
    )
    cart_line = paths["/api/v1/commerce/carts/{token}/lines/{variant}/"]["patch"]
    assert "If-Match" not in {p["name"] for p in cart_line.get("parameters", [])}
