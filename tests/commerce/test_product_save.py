"""``product_save``: the whole product (fields, translations, options, variants, prices,
images) in one transaction; each part publishes its own service's event with the next version;
a refusal names the part it is about, and nothing of the save is left behind."""

from __future__ import annotations

import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.commerce import services
from apps.commerce.errors import (
    CatalogConflict,
    CommerceInvalid,
    OptionNotFound,
    ProductImageNotFound,
    VariantNotFound,
)
from apps.commerce.models import Price, Product, ProductImage, ProductTranslation, Variant
from apps.commerce.services import ImageChange, OptionChange, PriceChange, VariantChange

from .conftest import event_types, events_of, make_product, make_variant, outbox_head
from .test_images import png

pytestmark = pytest.mark.usefixtures("media_root")


def _versions(product_id) -> list[int]:
    return [row.aggregate_version for row in events_of(product_id)]


def _files(media_root: Path) -> list[Path]:
    return [path for path in media_root.rglob("*") if path.is_file()]


def test_a_new_product_with_every_part_is_one_save_with_each_service_s_event(acme_db):
    product = services.product_save(
        product_id=None,
        fields={"title": "Trail tent", "vendor": "Acme"},
        translations={"de": {"title": "Zelt"}},
        options=[OptionChange(name="Size", values=["S", "M"])],
        variants=[
            VariantChange(
                fields={"sku": "TENT"},
                prices=[PriceChange("USD", "99.50"), PriceChange("EUR", "90", "95")],
            ),
        ],
        images=[ImageChange(file=png(), alt_text={"en": "A tent", "de": "Ein Zelt"})],
    )

    assert event_types(product.pk) == [
        "commerce.product.created",
        "commerce.variant.created",
        "commerce.price.set",
        "commerce.price.set",
        "commerce.product.updated",  # the option, after the variants
        "commerce.product.image_added",
    ]
    assert _versions(product.pk) == [1, 2, 3, 4, 5, 6]
    product.refresh_from_db()
    assert (product.title, product.vendor, product.version) == ("Trail tent", "Acme", 6)
    assert ProductTranslation.objects.get(product=product).title == "Zelt"
    prices = Price.objects.filter(variant__sku="TENT").order_by("currency")
    assert [(p.currency, p.amount, p.compare_at_amount) for p in prices] == [
        ("EUR", Decimal("90.00"), Decimal("95.00")),
        ("USD", Decimal("99.50"), None),
    ]
    # The new option gave the variant its first value.
    assert Variant.objects.get(sku="TENT").choices.get().value.value == "S"
    assert ProductImage.objects.get(product=product).alt_text["de"] == "Ein Zelt"


def test_mixed_creates_changes_and_deletes_in_one_save(acme_db):
    product = make_product("Trail tent")
    size = services.option_create(product_id=product.pk, name="Size", values=["S", "M"])
    colour = services.option_create(product_id=product.pk, name="Colour", values=["Red"])
    kept = make_variant(product, "KEEP", options={"Size": "S", "Colour": "Red"})
    gone = make_variant(product, "GONE", options={"Size": "M", "Colour": "Red"})
    services.price_set(variant_id=kept.pk, currency="USD", amount="10")
    services.price_set(variant_id=kept.pk, currency="EUR", amount="9")
    old = services.product_image_add(product_id=product.pk, file=png())
    second = services.product_image_add(product_id=product.pk, file=png(), alt_text={"en": "B"})
    head = outbox_head()

    product = services.product_save(
        product_id=product.pk,
        fields={"title": "Trail tent II"},
        delete_locales=[],
        options=[
            OptionChange(option_id=size.pk, name="Size", values=["S", "M", "L"]),
            OptionChange(option_id=colour.pk, delete=True),
            OptionChange(name="Fabric", values=["Nylon"]),
        ],
        variants=[
            VariantChange(variant_id=gone.pk, delete=True),
            VariantChange(
                variant_id=kept.pk,
                fields={"sku": "KEPT"},
                prices=[PriceChange("USD", "12"), PriceChange("EUR", None)],
            ),
            # The options as they are stored: GONE's combination is free again.
            VariantChange(
                fields={"sku": "NEW-M", "options": {"Size": "M", "Colour": "Red"}},
                prices=[PriceChange("USD", "14")],
            ),
        ],
        images=[
            ImageChange(image_id=old.pk, delete=True),
            ImageChange(image_id=second.pk, alt_text={"en": "Side view"}),
            ImageChange(file=png(colour="red")),
        ],
    )

    new_types = [row.event_type for row in events_of(product.pk) if row.position > head]
    assert new_types == [
        "commerce.product.updated",  # title
        "commerce.variant.deleted",
        "commerce.variant.updated",
        "commerce.price.set",
        "commerce.price.deleted",
        "commerce.variant.created",
        "commerce.price.set",
        "commerce.product.updated",  # Colour deleted
        "commerce.product.updated",  # Size's values
        "commerce.product.updated",  # Fabric added
        "commerce.product.image_deleted",
        "commerce.product.image_updated",
        "commerce.product.image_added",
    ]
    versions = _versions(product.pk)
    assert versions == sorted(set(versions)) and product.version == versions[-1]
    product.refresh_from_db()
    assert product.title == "Trail tent II" and product.version == versions[-1]
    assert [o.name for o in product.options.order_by("position")] == ["Size", "Fabric"]
    choices = {
        variant.sku: sorted(choice.value.value for choice in variant.choices.all())
        for variant in Variant.objects.filter(product=product)
    }
    assert choices == {"KEPT": ["Nylon", "S"], "NEW-M": ["M", "Nylon"]}
    assert {p.currency: p.amount for p in Price.objects.filter(variant__sku="KEPT")} == {
        "USD": Decimal("12.00")
    }
    images = list(product.images.order_by("position"))
    assert [image.pk for image in images[:1]] == [second.pk]
    assert [image.position for image in images] == [0, 1]
    assert images[0].alt_text == {"en": "Side view"}


def test_nothing_changed_publishes_nothing(acme_db):
    product = make_product("Trail tent")
    variant = make_variant(product, "ONE")
    services.price_set(variant_id=variant.pk, currency="USD", amount="10")
    head = outbox_head()
    services.product_save(
        product_id=product.pk,
        fields={"title": "Trail tent"},
        variants=[
            VariantChange(
                variant_id=variant.pk,
                fields={"sku": "ONE"},
                prices=[PriceChange("USD", "10.00"), PriceChange("EUR", None)],
            )
        ],
    )
    assert outbox_head() == head


def test_images_are_reordered_after_deletes_and_before_new_ones(acme_db):
    product = make_product("Trail tent")
    first, second, third = (
        services.product_image_add(product_id=product.pk, file=png()) for _ in range(3)
    )
    services.product_save(
        product_id=product.pk,
        images=[ImageChange(image_id=first.pk, delete=True), ImageChange(file=png())],
        image_order=[third.pk, second.pk],
    )
    order = list(product.images.order_by("position").values_list("pk", flat=True))
    assert order[:2] == [third.pk, second.pk] and len(order) == 3
    assert event_types(product.pk)[-3:] == [
        "commerce.product.image_deleted",
        "commerce.product.image_reordered",
        "commerce.product.image_added",
    ]


def _refused(product, error_type=CommerceInvalid, **parts):
    with pytest.raises(error_type) as caught:
        services.product_save(product_id=product.pk, **parts)
    return caught.value


def test_a_refusal_names_its_part_and_field(acme_db):
    product = make_product("Trail tent")
    services.option_create(product_id=product.pk, name="Size", values=["S", "M"])
    variant = make_variant(product, "ONE", options={"Size": "S"})
    make_variant(make_product("Other"), "TAKEN")

    error = _refused(
        product,
        variants=[
            VariantChange(variant_id=variant.pk, fields={"barcode": "123"}),
            VariantChange(fields={"sku": "TAKEN", "options": {"Size": "M"}}),
        ],
    )
    assert error.part == "variants.1" and list(error.errors) == ["variants.1.sku"]

    error = _refused(
        product,
        variants=[
            VariantChange(variant_id=variant.pk, prices=[PriceChange("EUR", "5", "4")]),
        ],
    )
    assert error.part == "variants.0.prices.EUR"
    assert list(error.errors) == ["variants.0.prices.EUR.compare_at_amount"]

    error = _refused(
        product,
        variants=[VariantChange(variant_id=variant.pk, prices=[PriceChange("EUR", "", "3")])],
    )
    assert error.errors == {"variants.0.prices.EUR.amount": "required"}

    error = _refused(product, options=[OptionChange(name="", values=["S"])])
    assert error.part == "options.0" and "options.0.name" in error.errors
    error = _refused(product, images=[ImageChange(file=SimpleUploadedFile("x.png", b"no"))])
    assert error.part == "images.0" and "images.0.file" in error.errors
    error = _refused(product, fields={"title": ""})
    assert getattr(error, "part", None) is None and list(error.errors) == ["title"]


@pytest.mark.parametrize(
    ("parts", "error_type", "part"),
    [
        ({"variants": [VariantChange(variant_id=uuid.uuid4(), delete=True)]}, VariantNotFound,
         "variants.0"),
        ({"variants": [VariantChange(variant_id="junk")]}, VariantNotFound, "variants.0"),
        ({"options": [OptionChange(option_id=10**9, name="Size")]}, OptionNotFound, "options.0"),
        ({"images": [ImageChange(image_id=uuid.uuid4(), delete=True)]}, ProductImageNotFound,
         "images.0"),
        ({"image_order": [uuid.uuid4()]}, CommerceInvalid, "image_order"),
    ],
)  # fmt: skip
def test_unknown_items_are_refused_with_their_part(acme_db, parts, error_type, part):
    product = make_product("Trail tent")
    assert _refused(product, error_type, **parts).part == part


def test_another_product_s_variant_is_not_found(acme_db):
    other = make_variant(make_product("Other"), "OTHER")
    product = make_product("Trail tent")
    error = _refused(
        product, VariantNotFound, variants=[VariantChange(variant_id=other.pk, delete=True)]
    )
    assert error.part == "variants.0"
    assert Variant.objects.filter(pk=other.pk).exists()


def test_a_conflict_names_its_part_too(acme_db):
    product = make_product("Trail tent")
    variant = make_variant(product, "ONLY")
    services.price_set(variant_id=variant.pk, currency="USD", amount="5")
    services.product_transition(product_id=product.pk, action="activate")
    error = _refused(
        product,
        CatalogConflict,
        variants=[VariantChange(variant_id=variant.pk, prices=[PriceChange("USD", None)])],
    )
    assert error.part == "variants.0.prices.USD" and "USD" in error.detail


def test_a_later_refusal_leaves_nothing_of_the_save(acme_db, media_root):
    product = make_product("Trail tent", vendor="Acme")
    variant = make_variant(product, "ONE")
    head, version = outbox_head(), Product.objects.get(pk=product.pk).version

    error = _refused(
        product,
        fields={"title": "Renamed", "vendor": "Other"},
        translations={"de": {"title": "Zelt"}},
        options=[OptionChange(name="Size", values=["S"])],
        variants=[
            VariantChange(variant_id=variant.pk, fields={"sku": "ONE-S"}),
            VariantChange(fields={"sku": "bad sku"}),
        ],
    )

    assert list(error.errors) == ["variants.1.sku"]
    product.refresh_from_db()
    assert (product.title, product.vendor, product.version) == ("Trail tent", "Acme", version)
    assert not product.options.exists() and not product.translations.exists()
    assert list(Variant.objects.values_list("sku", flat=True)) == ["ONE"]
    assert outbox_head() == head


def test_a_refused_image_takes_the_files_stored_before_it_away(acme_db, media_root):
    product = make_product("Trail tent")
    head = outbox_head()
    error = _refused(
        product,
        images=[
            ImageChange(file=png()),
            ImageChange(file=png(), alt_text={"fr": "Une tente"}),
        ],
    )
    assert list(error.errors) == ["images.1.alt_text.fr"]
    assert not ProductImage.objects.exists()
    assert _files(media_root) == []
    assert outbox_head() == head


def test_a_new_product_refused_late_is_not_created(acme_db):
    head = outbox_head()
    with pytest.raises(CommerceInvalid) as caught:
        services.product_save(
            product_id=None,
            fields={"title": "Trail tent"},
            variants=[VariantChange(fields={"sku": "A"}, prices=[PriceChange("XYZ", "1")])],
        )
    assert caught.value.part == "variants.0.prices.XYZ"
    assert not Product.objects.exists() and outbox_head() == head


def test_unknown_fields_are_refused(acme_db):
    with pytest.raises(CommerceInvalid) as caught:
        services.product_save(product_id=None, fields={"title": "T", "status": "active"})
    assert list(caught.value.errors) == ["status"]
    product = make_product("Trail tent")
    error = _refused(product, variants=[VariantChange(fields={"sku": "A", "price": "1"})])
    assert list(error.errors) == ["variants.0.price"]
