"""Product images on the product's change form: thumbnails in order, alt text per enabled
locale, position, delete, upload; all of it in the form's one ``product_save``."""

from __future__ import annotations

import io
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context
from PIL import Image

from apps.commerce import services
from apps.commerce.models import Product, ProductImage, Variant

from .conftest import (
    PRODUCTS,
    add_inline,
    errors_of,
    events,
    form_data,
    login,
    make_product,
    make_variant,
    page,
    product_url,
)
from .test_products import VARIANT

pytestmark = pytest.mark.usefixtures("media_root")


def png(colour: str = "teal", size=(12, 8), name: str = "photo.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), "image/png")


def noisy_png(side: int = 64) -> SimpleUploadedFile:
    """A PNG that does not compress: a few KB for a few thousand pixels."""
    image = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return SimpleUploadedFile("noise.png", buffer.getvalue(), "image/png")


def add_image(product, **alt_text) -> ProductImage:
    with schema_context("acme"):
        return services.product_image_add(product_id=product.pk, file=png(), alt_text=alt_text)


def stored_files(media_root) -> list:
    return [path for path in media_root.rglob("*") if path.is_file()]


def upload_data(client, product, upload, **overrides):
    """The change form's data with ``upload`` in the empty image form."""
    data = form_data(client.get(product_url(product)), **overrides)
    index = int(data["images-TOTAL_FORMS"]) - 1  # the extra form, empty
    data[f"images-{index}-upload"] = upload
    return data, index


def test_a_merchant_uploads_an_image_with_its_alt_texts(merchant_client, acme_de, media_root):
    product = make_product("Trail tent")
    data, index = upload_data(
        merchant_client,
        product,
        png(),
        **{"images-0-alt_en": "A green tent", "images-0-alt_de": "Ein grünes Zelt"},
    )
    assert index == 0

    response = merchant_client.post(product_url(product), data)

    assert response.status_code == 302, errors_of(response)
    with schema_context("acme"):
        image = ProductImage.objects.get(product=product)
    assert image.alt_text == {"en": "A green tent", "de": "Ein grünes Zelt"}
    assert (image.width, image.height) == (12, 8)
    assert len(stored_files(media_root)) == 1
    assert [e.payload["image_id"] for e in events("commerce.product.image_added")] == [
        str(image.pk)
    ]
    content = page(merchant_client.get(product_url(product)))
    assert 'enctype="multipart/form-data"' in content
    assert f'src="{image.file.url}" alt="A green tent"' in content
    assert 'value="Ein grünes Zelt"' in content


def test_images_are_listed_in_order_and_reordered_relabelled_and_deleted(merchant_client):
    product = make_product("Trail tent")
    first, second, third = (add_image(product, en=name) for name in ("One", "Two", "Three"))
    response = merchant_client.get(product_url(product))
    formset = next(
        i.formset for i in response.context["inline_admin_formsets"] if i.formset.prefix == "images"
    )
    assert [form.instance.pk for form in formset.forms[:3]] == [first.pk, second.pk, third.pk]
    assert [form["place"].value() for form in formset.forms[:3]] == [1, 2, 3]

    data = form_data(
        response,
        **{
            "images-0-DELETE": "on",
            "images-1-place": "3",
            "images-2-place": "1",
            "images-2-alt_en": "Three, from above",
        },
    )
    response = merchant_client.post(product_url(product), data)

    assert response.status_code == 302, errors_of(response)
    with schema_context("acme"):
        images = list(ProductImage.objects.filter(product=product).order_by("position"))
    assert [(image.pk, image.position) for image in images] == [(third.pk, 0), (second.pk, 1)]
    assert images[0].alt_text == {"en": "Three, from above"}
    assert len(events("commerce.product.image_deleted")) == 1
    assert len(events("commerce.product.image_updated")) == 1
    [reordered] = events("commerce.product.image_reordered")
    assert reordered.payload["image_ids"] == [str(third.pk), str(second.pk)]


def test_an_image_moved_to_a_taken_position_goes_before_the_one_there(merchant_client):
    product = make_product("Trail tent")
    first, second, third = (add_image(product, en=name) for name in ("One", "Two", "Three"))
    data = form_data(merchant_client.get(product_url(product)), **{"images-2-place": "1"})

    response = merchant_client.post(product_url(product), data)

    assert response.status_code == 302, errors_of(response)
    with schema_context("acme"):
        order = list(product.images.order_by("position").values_list("pk", flat=True))
    assert order == [third.pk, first.pk, second.pk]
    assert not events("commerce.product.image_updated")


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("tent.png", b"GIF89a not really", "image/png"), "not an image"),
        (SimpleUploadedFile("tent.png", b"", "image/png"), None),  # an empty file: no upload
        (noisy_png(), "at most"),
    ],
)
def test_a_bad_upload_is_refused_on_its_field(
    merchant_client, media_root, monkeypatch, upload, message
):
    monkeypatch.setattr("apps.core.images.IMAGE_MAX_BYTES", 4096)
    product = make_product("Trail tent")
    data, index = upload_data(merchant_client, product, upload, title="Renamed")

    response = merchant_client.post(product_url(product), data)

    if message is None:  # Django's file field: an empty upload is refused as such
        assert f"images-{index}-upload" in errors_of(response)
    else:
        errors = errors_of(response)
        assert message in str(errors[f"images-{index}-upload"])
        assert "see the errors below" in str(errors["__all__"])
    with schema_context("acme"):
        assert Product.objects.get(pk=product.pk).title == "Trail tent"
        assert not ProductImage.objects.exists()
    assert stored_files(media_root) == []
    assert not events("commerce.product.updated", product.pk)


def test_an_image_uploaded_with_a_refused_variant_leaves_no_file(merchant_client, media_root, shop):
    make_variant(make_product("Other"), "TAKEN")
    product = make_product("Trail tent")
    data, _ = upload_data(merchant_client, product, png())
    add_inline(data, "variants", **{**VARIANT, "sku": "TAKEN"})

    response = merchant_client.post(product_url(product), data)

    assert "variants-0-sku" in errors_of(response)
    with schema_context("acme"):
        assert not ProductImage.objects.exists()
    assert stored_files(media_root) == []
    assert not events("commerce.product.image_added")


def test_a_new_product_is_added_with_its_image(merchant_client, media_root):
    data = form_data(merchant_client.get(f"{PRODUCTS}add/"), title="Trail tent")
    data["images-0-upload"] = png()
    data["images-0-alt_en"] = "A tent"

    response = merchant_client.post(f"{PRODUCTS}add/", data)

    assert response.status_code == 302, errors_of(response)
    with schema_context("acme"):
        product = Product.objects.get(handle="trail-tent")
        image = ProductImage.objects.get(product=product)
    assert image.alt_text == {"en": "A tent"} and image.file.name.startswith("products/")
    assert [e.event_type for e in events("commerce.product.created")] == [
        "commerce.product.created"
    ]


def test_an_editor_cannot_upload_an_image(acme_client, media_root):
    product = make_product("Trail tent")
    login(acme_client, email="merchant@acme.test", groups=["Merchant"])
    data, _ = upload_data(acme_client, product, png())
    login(acme_client, email="editor@acme.test", groups=["Editor"])

    assert acme_client.post(product_url(product), data).status_code == 403
    with schema_context("acme"):
        assert not ProductImage.objects.exists()
    assert stored_files(media_root) == []


def test_the_image_list_costs_the_same_queries_for_two_and_twelve_images(merchant_client):
    two, twelve = make_product("Two"), make_product("Twelve")
    for product, count in ((two, 2), (twelve, 12)):
        for _ in range(count):
            add_image(product, en="Tent")
    _queries(merchant_client, two)  # (caches warmed)
    assert _queries(merchant_client, twelve) == _queries(merchant_client, two)


def _queries(client, product) -> int:
    with CaptureQueriesContext(connection) as captured:
        page(client.get(product_url(product)))
    return len(captured.captured_queries)


def test_variants_stay_when_only_images_change(merchant_client, shop):
    product = make_product("Trail tent")
    make_variant(product, "ONE", price="5")
    data, _ = upload_data(merchant_client, product, png())
    response = merchant_client.post(product_url(product), data)
    assert response.status_code == 302, errors_of(response)
    with schema_context("acme"):
        assert list(Variant.objects.values_list("sku", flat=True)) == ["ONE"]
    assert not events("commerce.variant.updated")
    assert len(events("commerce.price.set")) == 1  # make_variant's
    assert len(events("commerce.product.image_added")) == 1
