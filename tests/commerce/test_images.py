"""Product images: stored in the tenant's storage, ordered, alt text per locale; every change
is a new version of the product and one validated event; files go only once a deletion commits."""

from __future__ import annotations

import io
import uuid
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from PIL import Image

from apps.commerce import selectors, services
from apps.commerce.errors import CommerceInvalid, ProductImageNotFound, ProductNotFound
from apps.commerce.models import ProductImage
from apps.events.errors import EventValidationError
from apps.events.publisher import publish

from .conftest import event_types, events_of, make_product

pytestmark = pytest.mark.usefixtures("media_root")


def png(name: str = "photo.png", size=(6, 4), colour="teal") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), "image/png")


def _stored(media_root: Path, image: ProductImage) -> Path:
    return media_root / "acme" / image.file.name


def test_an_image_is_stored_in_the_tenants_storage_and_announced(acme_db, media_root):
    product = make_product("Trail tent")
    image = services.product_image_add(
        product_id=product.pk,
        file=png("../../etc/passwd.png", size=(8, 5)),
        alt_text={"en": " A green tent ", "de": "Ein grünes Zelt"},
    )
    image.refresh_from_db()
    assert (image.content_type, image.width, image.height, image.position) == (
        "image/png", 8, 5, 0,
    )  # fmt: skip
    assert image.size == _stored(media_root, image).stat().st_size
    # Named after the product, inside the tenant's folder, whatever the upload was called.
    assert image.file.name.startswith("products/") and "trail-tent" in image.file.name
    assert _stored(media_root, image).is_file()
    assert image.alt_text == {"en": "A green tent", "de": "Ein grünes Zelt"}
    product.refresh_from_db()
    assert product.version == 2
    [event] = events_of(product.pk, "commerce.product.image_added")
    assert event.aggregate_version == 2
    assert event.payload["image_id"] == str(image.pk) and event.payload["position"] == 0
    assert event.payload["content_type"] == "image/png"

    second = services.product_image_add(product_id=product.pk, file=png(), alt_text=None)
    assert second.position == 1 and second.alt_text == {}
    assert [i.pk for i in selectors.product_images(product.pk)] == [image.pk, second.pk]


@pytest.mark.parametrize(
    ("upload", "alt_text", "field"),
    [
        (SimpleUploadedFile("x.png", b"GIF89a not really", "image/png"), {}, "file"),
        (SimpleUploadedFile("x.png", b"", "image/png"), {}, "file"),
        (png(), {"fr": "Une tente"}, "alt_text.fr"),
        (png(), {"en": "x" * 301}, "alt_text.en"),
        (png(), {"en": 42}, "alt_text.en"),
        (png(), ["A tent"], "alt_text"),
    ],
)
def test_bad_uploads_are_refused_with_the_field_and_store_nothing(
    acme_db, media_root, upload, alt_text, field
):
    product = make_product("Trail tent")
    with pytest.raises(CommerceInvalid) as caught:
        services.product_image_add(product_id=product.pk, file=upload, alt_text=alt_text)
    assert field in caught.value.errors
    assert not ProductImage.objects.exists()
    assert not (media_root / "acme" / "products").exists()
    assert event_types(product.pk) == ["commerce.product.created"]


def test_a_failed_write_takes_its_file_away(acme_db, media_root, monkeypatch):
    with pytest.raises(ProductNotFound):
        services.product_image_add(product_id=uuid.uuid4(), file=png())
    product = make_product("Trail tent")

    def outbox_refuses(event, **kwargs):
        raise EventValidationError(event.event_type, "payload", "refused")

    # Fault injection: the write fails after the file was stored.
    monkeypatch.setattr(services, "publish", outbox_refuses)
    with pytest.raises(EventValidationError):
        services.product_image_add(product_id=product.pk, file=png())
    assert not ProductImage.objects.exists()
    assert list((media_root / "acme" / "products").rglob("*")) == [
        path for path in (media_root / "acme" / "products").rglob("*") if path.is_dir()
    ]


def test_a_product_has_at_most_fifty_images(acme_db, monkeypatch):
    monkeypatch.setattr(services, "MAX_IMAGES_PER_PRODUCT", 2)
    product = make_product("Trail tent")
    for _ in range(2):
        services.product_image_add(product_id=product.pk, file=png())
    with pytest.raises(CommerceInvalid, match="at most 2 images"):
        services.product_image_add(product_id=product.pk, file=png())
    assert selectors.product_images(product.pk).count() == 2


def test_alt_text_is_replaced_per_locale_and_an_unchanged_text_publishes_nothing(acme_db):
    product = make_product("Trail tent")
    image = services.product_image_add(
        product_id=product.pk, file=png(), alt_text={"en": "A tent", "de": "Ein Zelt"}
    )
    services.product_image_update(image_id=image.pk, alt_text={"en": "A green tent"})
    image.refresh_from_db()
    assert image.alt_text == {"en": "A green tent"} and image.alt("de") == "A green tent"
    [event] = events_of(product.pk, "commerce.product.image_updated")
    assert event.payload["locales"] == ["de", "en"] and event.aggregate_version == 3

    services.product_image_update(image_id=image.pk, alt_text={"en": " A green tent "})
    assert len(events_of(product.pk, "commerce.product.image_updated")) == 1
    product.refresh_from_db()
    assert product.version == 3
    with pytest.raises(CommerceInvalid):
        services.product_image_update(image_id=image.pk, alt_text={"xx": "?"})
    for missing in (uuid.uuid4(), "not-a-uuid", None):
        with pytest.raises(ProductImageNotFound):
            services.product_image_update(image_id=missing, alt_text={})


def _three_images(product):
    return [
        services.product_image_add(product_id=product.pk, file=png(), alt_text={"en": str(n)})
        for n in range(3)
    ]


def test_reorder_takes_every_image_once(acme_db):
    product = make_product("Trail tent")
    first, second, third = _three_images(product)
    other = services.product_image_add(product_id=make_product("Stove").pk, file=png())
    services.product_images_reorder(
        product_id=product.pk, image_ids=[str(third.pk), first.pk, second.pk]
    )
    assert [i.pk for i in selectors.product_images(product.pk)] == [third.pk, first.pk, second.pk]
    assert selectors.main_images([product.pk])[product.pk].pk == third.pk
    [event] = events_of(product.pk, "commerce.product.image_reordered")
    assert event.payload["image_ids"] == [str(third.pk), str(first.pk), str(second.pk)]

    # The same order again: nothing changes, nothing is published.
    services.product_images_reorder(
        product_id=product.pk, image_ids=[third.pk, first.pk, second.pk]
    )
    assert len(events_of(product.pk, "commerce.product.image_reordered")) == 1
    for bad in (
        [third.pk, first.pk],
        [third.pk, first.pk, second.pk, second.pk],
        [third.pk, first.pk, other.pk],
        [third.pk, first.pk, "garbage"],
        str(first.pk),
        [],
    ):
        with pytest.raises(CommerceInvalid, match="each of the product's images once"):
            services.product_images_reorder(product_id=product.pk, image_ids=bad)
    assert [i.pk for i in selectors.product_images(product.pk)] == [third.pk, first.pk, second.pk]


def test_delete_closes_the_gap_and_removes_the_file_only_after_commit(
    acme_db, media_root, django_capture_on_commit_callbacks
):
    product = make_product("Trail tent")
    first, second, third = _three_images(product)
    path = _stored(media_root, second)

    # A deletion that rolls back keeps the file.
    with pytest.raises(RuntimeError), transaction.atomic():
        services.product_image_delete(image_id=second.pk)
        raise RuntimeError("rolled back")
    assert path.is_file() and ProductImage.objects.filter(pk=second.pk).exists()

    with django_capture_on_commit_callbacks() as callbacks:
        services.product_image_delete(image_id=second.pk)
        assert path.is_file()  # not before the commit
    for callback in callbacks:  # the commit: the outbox's wake-up, then the file
        callback()
    assert not path.exists()
    assert [(i.pk, i.position) for i in selectors.product_images(product.pk)] == [
        (first.pk, 0), (third.pk, 1),
    ]  # fmt: skip
    [event] = events_of(product.pk, "commerce.product.image_deleted")
    assert event.payload["image_id"] == str(second.pk)
    product.refresh_from_db()
    assert event.aggregate_version == product.version == 5
    with pytest.raises(ProductImageNotFound):
        services.product_image_delete(image_id=second.pk)


def test_deleting_a_product_removes_its_image_files_after_commit(
    acme_db, media_root, django_capture_on_commit_callbacks
):
    product = make_product("Trail tent")
    paths = [_stored(media_root, image) for image in _three_images(product)]
    with django_capture_on_commit_callbacks(execute=True):
        services.product_delete(product_id=product.pk)
    assert not ProductImage.objects.exists()
    assert not any(path.exists() for path in paths)


def test_main_images_cost_one_query_for_many_products(acme_db, django_assert_num_queries):
    products = [make_product(f"Tent {n}") for n in range(12)]
    expected = {}
    for number, product in enumerate(products[:10]):
        images = [services.product_image_add(product_id=product.pk, file=png()) for _ in range(2)]
        if number % 2:
            services.product_images_reorder(
                product_id=product.pk, image_ids=[images[1].pk, images[0].pk]
            )
            images.reverse()
        expected[product.pk] = images[0].pk
    with django_assert_num_queries(1):
        found = selectors.main_images(product.pk for product in products)
    assert {product_id: image.pk for product_id, image in found.items()} == expected
    assert selectors.product_images("nonsense").count() == 0
    assert selectors.product_image_get("nonsense") is None


def test_image_events_are_validated(acme_db):
    from apps.commerce import events

    product = make_product("Trail tent")
    same = uuid.uuid4()
    with pytest.raises(EventValidationError), transaction.atomic():
        publish(
            events.ProductImageReordered(product_id=product.pk, version=2, image_ids=[same, same])
        )
    with pytest.raises(EventValidationError), transaction.atomic():
        publish(
            events.ProductImageUpdated(
                product_id=product.pk, version=2, image_id=uuid.uuid4(), locales=[]
            )
        )
    with pytest.raises(EventValidationError), transaction.atomic():
        publish(
            events.ProductImageAdded(
                product_id=product.pk, version=2, image_id=uuid.UUID(int=0), position=0,
                content_type="image/png", size=1,
            )
        )  # fmt: skip
