"""/api/v1/commerce/images/: a product's images through commerce's services (multipart upload
with alt text, alt text changes, a new order, deletion), shown in the product's answers."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context

from apps.commerce import selectors, services
from apps.core.images import IMAGE_MAX_BYTES
from apps.events.models import OutboxEvent

from .conftest import assert_problem, login_as, png
from .test_commerce import (
    API,
    _catalog,
    in_acme,
    make_product,
    patch,
    post,
    shop,  # noqa: F401 (the fixture: acme in English and German)
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shop")]


@pytest.fixture(autouse=True)
def _uploads_in_tmp(media_root) -> None:
    """Every test of this module uploads into its own folder (``media_root``, conftest)."""


def upload(client, target, **fields):
    return client.post(f"{API}/images/", {"product": str(target.pk), "file": png()} | fields)


def add_image(product, schema: str = "acme", **alt_text: str):
    with schema_context(schema):
        return services.product_image_add(product_id=product.pk, file=png(), alt_text=alt_text)


def test_upload_with_alt_text_and_see_it_in_the_product(acme_api, media_root):
    product = make_product("Trail tent")
    response = upload(acme_api, product, **{"alt_text.en": "A tent", "alt_text.de": "Ein Zelt"})
    assert response.status_code == 201, response.content
    image = response.json()
    assert image["product"] == str(product.pk)
    assert (image["width"], image["height"], image["position"]) == (3, 2, 0)
    assert image["content_type"] == "image/png" and image["size"] > 0
    assert image["alt_text"] == {"en": "A tent", "de": "Ein Zelt"}
    assert image["url"].startswith("http://acme.localhost/media/acme/products/")
    assert list(media_root.glob("acme/products/*/*/trail-tent*.png"))

    second = upload(acme_api, product, alt_text=json.dumps({"en": "Inside"}))
    assert second.status_code == 201, second.content
    assert second.json()["position"] == 1 and second.json()["alt_text"] == {"en": "Inside"}

    shown = acme_api.get(f"{API}/products/{product.pk}/").json()
    assert [row["id"] for row in shown["images"]] == [image["id"], second.json()["id"]]
    assert shown["images"][0] == image
    assert shown["version"] == 3
    listed = acme_api.get(f"{API}/products/").json()["results"][0]
    assert listed["images"] == shown["images"]
    images = acme_api.get(f"{API}/images/?product={product.pk}").json()
    assert len(images["results"]) == 2 and images["results"][1]["alt_text"] == {"en": "Inside"}
    assert acme_api.get(f"{API}/images/{image['id']}/").json() == image


def test_change_alt_text_reorder_and_delete(
    acme_api, media_root, django_capture_on_commit_callbacks
):
    product = make_product()
    first, second, third = (add_image(product, en=name) for name in ("One", "Two", "Three"))

    changed = patch(acme_api, f"/images/{second.pk}/", {"alt_text": {"de": "Zwei"}})
    assert changed.status_code == 200, changed.content
    assert changed.json()["alt_text"] == {"de": "Zwei"}

    order = [str(third.pk), str(first.pk), str(second.pk)]
    response = post(acme_api, "/images/reorder/", {"product": str(product.pk), "image_ids": order})
    assert response.status_code == 200, response.content
    assert [(row["id"], row["position"]) for row in response.json()] == [
        (order[0], 0), (order[1], 1), (order[2], 2),
    ]  # fmt: skip
    shown = acme_api.get(f"{API}/products/{product.pk}/").json()
    assert [row["id"] for row in shown["images"]] == order

    stored = media_root / "acme" / first.file.name
    assert stored.is_file()
    with django_capture_on_commit_callbacks(execute=True):
        assert acme_api.delete(f"{API}/images/{first.pk}/").status_code == 204
    assert not stored.exists()
    assert_problem(acme_api.get(f"{API}/images/{first.pk}/"), 404)
    shown = acme_api.get(f"{API}/products/{product.pk}/").json()
    assert [(row["id"], row["position"]) for row in shown["images"]] == [
        (order[0], 0), (order[2], 1),
    ]  # fmt: skip
    types = list(
        OutboxEvent.objects.filter(aggregate_id=str(product.pk))
        .order_by("position")
        .values_list("event_type", flat=True)
    )
    assert types[-3:] == [
        "commerce.product.image_updated",
        "commerce.product.image_reordered",
        "commerce.product.image_deleted",
    ]


def test_upload_errors(acme_api, media_root, monkeypatch):
    product = make_product()
    body = assert_problem(
        acme_api.post(f"{API}/images/", {"product": str(product.pk)}), 400, "invalid"
    )
    assert body["errors"] == {"file": ["No file was submitted."]}
    not_an_image = SimpleUploadedFile("evil.png", b"<script>alert(1)</script>", "image/png")
    body = assert_problem(upload(acme_api, product, file=not_an_image), 400, "commerce_invalid")
    assert list(body["errors"]) == ["file"]
    body = assert_problem(upload(acme_api, product, **{"alt_text.fr": "Un point"}), 400)
    assert list(body["errors"]) == ["alt_text.fr"]
    body = assert_problem(upload(acme_api, product, alt_text="{oops"), 400)
    assert list(body["errors"]) == ["alt_text"]
    body = assert_problem(upload(acme_api, product, caption="x"), 400)
    assert body["errors"] == {"caption": ["Unknown field."]}
    missing = make_product("Gone")
    in_acme(services.product_delete, product_id=missing.pk)
    body = assert_problem(upload(acme_api, missing), 400)
    assert list(body["errors"]) == ["product"]
    body = assert_problem(upload(acme_api, product, product="not-a-uuid"), 400)
    assert list(body["errors"]) == ["product"]

    too_big = SimpleUploadedFile("big.png", b"\0" * (IMAGE_MAX_BYTES + 100_000), "image/png")
    assert_problem(upload(acme_api, product, file=too_big), 413, "payload_too_large")

    monkeypatch.setattr(services, "MAX_IMAGES_PER_PRODUCT", 1)
    assert upload(acme_api, product).status_code == 201
    body = assert_problem(upload(acme_api, product), 400, "commerce_invalid")
    assert list(body["errors"]) == ["file"]
    assert in_acme(selectors.product_images, product_id=product.pk).count() == 1
    assert len(list(media_root.glob("acme/products/*/*/*"))) == 1  # none left by refusals


def test_change_and_reorder_errors(acme_api):
    product = make_product()
    first, second = add_image(product, en="One"), add_image(product, en="Two")
    other = make_product("Other")
    stranger = add_image(other)

    body = assert_problem(patch(acme_api, f"/images/{first.pk}/", {"alt_text": "x"}), 400)
    assert list(body["errors"]) == ["alt_text"]
    body = assert_problem(patch(acme_api, f"/images/{first.pk}/", {}), 400)
    assert list(body["errors"]) == ["alt_text"]
    body = assert_problem(
        patch(acme_api, f"/images/{first.pk}/", {"alt_text": {"en": "x" * 301}}), 400
    )
    assert list(body["errors"]) == ["alt_text.en"]
    assert_problem(patch(acme_api, f"/images/{other.pk}/", {"alt_text": {}}), 404)
    assert_problem(acme_api.delete(f"{API}/images/not-an-id/"), 404)

    def reorder(image_ids, product_id=product.pk):
        return post(
            acme_api,
            "/images/reorder/",
            {"product": str(product_id), "image_ids": [str(pk) for pk in image_ids]},
        )

    for wrong in ([first.pk], [first.pk, first.pk], [first.pk, second.pk, stranger.pk]):
        body = assert_problem(reorder(wrong), 400, "commerce_invalid")
        assert list(body["errors"]) == ["image_ids"]
    body = assert_problem(reorder([]), 400, "invalid")
    assert list(body["errors"]) == ["image_ids"]
    in_acme(services.product_delete, product_id=other.pk)
    body = assert_problem(reorder([stranger.pk], product_id=other.pk), 400)
    assert list(body["errors"]) == ["product"]
    assert [image.pk for image in in_acme(selectors.product_images, product_id=product.pk)] == [
        first.pk,
        second.pk,
    ]


@pytest.mark.parametrize(
    ("groups", "read", "write"), [(["Merchant"], 200, 201), (["Editor"], 403, 403)]
)
def test_merchants_may_and_editors_may_not(acme_client, groups, read, write):
    product = make_product()
    image = add_image(product, en="One")
    login_as(acme_client, "acme", email="someone@acme.test", groups=groups)
    assert acme_client.get(f"{API}/images/").status_code == read
    assert upload(acme_client, product).status_code == write
    changed = patch(acme_client, f"/images/{image.pk}/", {"alt_text": {"en": "Two"}})
    assert changed.status_code == (200 if write == 201 else 403)
    order = [str(row.pk) for row in in_acme(selectors.product_images, product_id=product.pk)]
    reordered = post(
        acme_client, "/images/reorder/", {"product": str(product.pk), "image_ids": order[::-1]}
    )
    assert reordered.status_code == (200 if write == 201 else 403)
    deleted = acme_client.delete(f"{API}/images/{image.pk}/")
    assert deleted.status_code == (204 if write == 201 else 403)


def test_another_tenant_sees_and_touches_nothing(acme_api, globex_api):
    product = make_product()
    image = add_image(product, en="One")
    head = OutboxEvent.objects.count()
    assert globex_api.get(f"{API}/images/").json()["results"] == []
    assert_problem(globex_api.get(f"{API}/images/{image.pk}/"), 404)
    assert_problem(patch(globex_api, f"/images/{image.pk}/", {"alt_text": {"en": "x"}}), 404)
    assert_problem(globex_api.delete(f"{API}/images/{image.pk}/"), 404)
    body = assert_problem(upload(globex_api, product), 400)
    assert list(body["errors"]) == ["product"]
    body = assert_problem(
        post(
            globex_api,
            "/images/reorder/",
            {"product": str(product.pk), "image_ids": [str(image.pk)]},
        ),
        400,
    )
    assert list(body["errors"]) == ["product"]
    assert OutboxEvent.objects.count() == head
    with schema_context("acme"):
        (kept,) = selectors.product_images(product.pk)
        assert kept.alt_text == {"en": "One"}


# -- query counts -----------------------------------------------------------------------------

# session, user, products, translations, options, option values, variants, prices,
# variant option values, categories, collections, images
PRODUCT_LIST_QUERIES = 12
# session, user, images
IMAGE_LIST_QUERIES = 3
IMAGES_EACH = 4


@pytest.mark.parametrize("count", [3, 30])
def test_lists_with_images_cost_the_same_whatever_their_size(
    acme_api, django_assert_num_queries, count
):
    _catalog(count)
    with schema_context("acme"):
        for n, product in enumerate(selectors.products()):
            for k in range(IMAGES_EACH):
                services.product_image_add(
                    product_id=product.pk, file=png(), alt_text={"en": f"{n}.{k}", "de": "Bild"}
                )
    acme_api.get(f"{API}/products/")  # warm caches (tenant, flags)
    with django_assert_num_queries(PRODUCT_LIST_QUERIES):
        response = acme_api.get(f"{API}/products/?page_size=100")
    results = response.json()["results"]
    assert len(results) == count
    assert all(len(row["images"]) == IMAGES_EACH for row in results)
    assert all(row["images"][3]["alt_text"]["de"] == "Bild" for row in results)
    assert all(len(row["variants"]) == 6 for row in results)
    with django_assert_num_queries(IMAGE_LIST_QUERIES):
        response = acme_api.get(f"{API}/images/?page_size=100")
    body = response.json()
    assert len(body["results"]) == min(100, count * IMAGES_EACH)
