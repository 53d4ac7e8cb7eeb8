"""Serializers of the commerce API (``apps.api.commerce``): small inputs, small outputs.

Inputs check the shape of a request; commerce's services check the rules (and answer
``CommerceInvalid`` with field names). Money is a decimal string plus an ISO 4217 code, in
and out: a JSON number is refused, because a float cannot hold 0.1.
"""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.commerce import selectors
from apps.commerce.money import round_amount
from apps.commerce.services import MAX_IMAGES_PER_PRODUCT
from apps.core.images import IMAGE_MAX_BYTES

from .media import AltTextField
from .serializers import MAX_ID, MAX_POSITION, StrictInput

MAX_QUANTITY = 1_000_000_000
AMOUNT_PATTERN = r"^-?[0-9]{1,14}(\.[0-9]{1,12})?$"
CURRENCY_PATTERN = r"^[A-Za-z]{3}$"


def model_choices(queryset, field: str) -> list[tuple[str, str]]:
    """The choices of a commerce model's field, read from the selectors' queryset (the API
    never imports commerce's models)."""
    return list(queryset.model._meta.get_field(field).choices)


PRODUCT_STATUSES = model_choices(selectors.products(), "status")
DESCRIPTION_FORMATS = model_choices(selectors.products(), "description_format")
INVENTORY_POLICIES = model_choices(selectors.variants(), "inventory_policy")
ADJUSTMENT_REASONS = model_choices(selectors.adjustments(), "reason")


@extend_schema_field(
    {"type": "string", "pattern": AMOUNT_PATTERN, "example": "19.90", "format": "decimal"}
)
class AmountField(serializers.Field):
    """A decimal amount as a string ("19.90"); numbers are refused."""

    default_error_messages = {
        "not_a_string": _('Give the amount as a decimal string ("19.90"), not a number.'),
        "invalid": _("Not a decimal amount."),
    }

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("not_a_string")
        if not re.match(AMOUNT_PATTERN, data.strip()):
            self.fail("invalid")
        return data.strip()

    def to_representation(self, value: Any) -> str:
        return str(value)


class CurrencyField(serializers.RegexField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(CURRENCY_PATTERN, max_length=3, min_length=3, **kwargs)


# -- output ----------------------------------------------------------------------------------


class PriceOut(serializers.Serializer):
    currency = serializers.CharField()
    amount = AmountField()
    compare_at_amount = AmountField(allow_null=True)

    def to_representation(self, price) -> dict[str, Any]:
        # Stored with four places; shown with the currency's own ("19.90", "1000", "1.250").
        def shown(amount):
            return None if amount is None else str(round_amount(amount, price.currency))

        return {
            "currency": price.currency,
            "amount": shown(price.amount),
            "compare_at_amount": shown(price.compare_at_amount),
        }


class OptionOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    position = serializers.IntegerField()
    values = serializers.SerializerMethodField()

    def get_values(self, option) -> list[str]:
        return [value.value for value in option.values.all()]


class VariantOut(serializers.Serializer):
    id = serializers.UUIDField()
    product = serializers.UUIDField(source="product_id")
    sku = serializers.CharField()
    barcode = serializers.CharField()
    weight_grams = serializers.DecimalField(
        max_digits=12, decimal_places=3, allow_null=True, coerce_to_string=True
    )
    position = serializers.IntegerField()
    inventory_policy = serializers.ChoiceField(choices=INVENTORY_POLICIES)
    tracked = serializers.BooleanField()
    low_stock_threshold = serializers.IntegerField()
    options = serializers.SerializerMethodField(help_text="Option name -> value.")
    prices = PriceOut(many=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_options(self, variant) -> dict[str, str]:
        return selectors.variant_options(variant)


class ProductImageOut(serializers.Serializer):
    id = serializers.UUIDField()
    product = serializers.UUIDField(source="product_id")
    url = serializers.SerializerMethodField()
    content_type = serializers.CharField()
    size = serializers.IntegerField(help_text="Bytes.")
    width = serializers.IntegerField(allow_null=True)
    height = serializers.IntegerField(allow_null=True)
    alt_text = serializers.DictField(child=serializers.CharField(), help_text="Locale -> text.")
    position = serializers.IntegerField(help_text="0 is the product's main image.")

    def get_url(self, image) -> str:
        request = self.context.get("request")
        url = image.file.url
        return request.build_absolute_uri(url) if request else url


class ProductTranslationOut(serializers.Serializer):
    title = serializers.CharField()
    description = serializers.CharField()
    description_format = serializers.ChoiceField(choices=DESCRIPTION_FORMATS)
    seo_title = serializers.CharField()
    seo_description = serializers.CharField()


class ProductOut(serializers.Serializer):
    id = serializers.UUIDField()
    handle = serializers.CharField()
    title = serializers.CharField(help_text="In the store's default locale.")
    description = serializers.CharField()
    description_format = serializers.ChoiceField(choices=DESCRIPTION_FORMATS)
    description_html = serializers.CharField(help_text="The description, rendered and sanitized.")
    vendor = serializers.CharField()
    product_type = serializers.CharField()
    status = serializers.ChoiceField(choices=PRODUCT_STATUSES)
    seo_title = serializers.CharField()
    seo_description = serializers.CharField()
    version = serializers.IntegerField()
    categories = serializers.SerializerMethodField()
    collections = serializers.SerializerMethodField()
    translations = serializers.SerializerMethodField(
        help_text="Locale (other than the default one) -> the product's text in it."
    )
    options = OptionOut(many=True)
    variants = VariantOut(many=True)
    images = ProductImageOut(many=True, help_text="In their order; the first is the main image.")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_categories(self, product) -> list[int]:
        return [category.pk for category in product.categories.all()]

    def get_collections(self, product) -> list[int]:
        return [collection.pk for collection in product.collections.all()]

    @extend_schema_field(serializers.DictField(child=ProductTranslationOut()))
    def get_translations(self, product) -> dict[str, Any]:
        return {row.locale: ProductTranslationOut(row).data for row in product.translations.all()}


class CollectionOut(serializers.Serializer):
    id = serializers.IntegerField()
    handle = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
    products = serializers.SerializerMethodField(
        help_text="Product ids, in the collection's order."
    )

    def get_products(self, collection) -> list[str]:
        return [str(member.product_id) for member in collection.members.all()]


class CommerceCategoryOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    handle = serializers.CharField()
    parent = serializers.IntegerField(source="parent_id", allow_null=True)
    position = serializers.IntegerField()
    description = serializers.CharField()


class LocationOut(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    active = serializers.BooleanField()


class StockLevelOut(serializers.Serializer):
    variant = serializers.UUIDField(source="variant_id")
    sku = serializers.CharField(source="variant.sku")
    location = serializers.IntegerField(source="location_id")
    location_code = serializers.CharField(source="location.code")
    on_hand = serializers.IntegerField()
    reserved = serializers.IntegerField()
    available = serializers.SerializerMethodField()

    def get_available(self, level) -> int:
        return level.on_hand - level.reserved


# -- input -----------------------------------------------------------------------------------


class ProductTranslationIn(StrictInput):
    title = serializers.CharField(max_length=255, required=False)
    description = serializers.CharField(
        max_length=100_000, required=False, allow_blank=True, trim_whitespace=False
    )
    description_format = serializers.ChoiceField(choices=DESCRIPTION_FORMATS, required=False)
    seo_title = serializers.CharField(max_length=255, required=False, allow_blank=True)
    seo_description = serializers.CharField(max_length=320, required=False, allow_blank=True)


class ProductFieldsIn(StrictInput):
    title = serializers.CharField(max_length=255)
    handle = serializers.CharField(
        max_length=255,
        required=False,
        allow_blank=True,
        help_text="Made from the title when empty.",
    )
    description = serializers.CharField(
        max_length=100_000, required=False, allow_blank=True, trim_whitespace=False
    )
    description_format = serializers.ChoiceField(choices=DESCRIPTION_FORMATS, required=False)
    vendor = serializers.CharField(max_length=255, required=False, allow_blank=True)
    product_type = serializers.CharField(max_length=255, required=False, allow_blank=True)
    seo_title = serializers.CharField(max_length=255, required=False, allow_blank=True)
    seo_description = serializers.CharField(max_length=320, required=False, allow_blank=True)
    categories = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        max_length=100,
        help_text="Category ids; replaces the product's categories.",
    )
    translations = serializers.DictField(
        child=ProductTranslationIn(),
        required=False,
        help_text="Locale (enabled, not the default one) -> fields of the product in it.",
    )


class ProductCreateIn(ProductFieldsIn):
    """A new product (a draft)."""


class ProductUpdateIn(ProductFieldsIn):
    """Fields of a product to change; translations per locale, the fields to replace."""

    title = serializers.CharField(max_length=255, required=False)
    delete_locales = serializers.ListField(
        child=serializers.CharField(max_length=16), required=False, max_length=20
    )


class OptionCreateIn(StrictInput):
    product = serializers.UUIDField()
    name = serializers.CharField(max_length=100)
    values = serializers.ListField(
        child=serializers.CharField(max_length=100), min_length=1, max_length=100
    )


class OptionUpdateIn(StrictInput):
    name = serializers.CharField(max_length=100, required=False)
    values = serializers.ListField(
        child=serializers.CharField(max_length=100),
        min_length=1,
        max_length=100,
        required=False,
        help_text="All the values, in order; a value in use by a variant cannot be removed.",
    )


class VariantFieldsIn(StrictInput):
    sku = serializers.CharField(max_length=64)
    options = serializers.DictField(
        child=serializers.CharField(max_length=100),
        required=False,
        help_text="Option name -> value, one for each of the product's options.",
    )
    barcode = serializers.CharField(max_length=64, required=False, allow_blank=True)
    weight_grams = serializers.DecimalField(
        max_digits=12, decimal_places=3, min_value=0, required=False, allow_null=True
    )
    position = serializers.IntegerField(min_value=0, max_value=MAX_POSITION, required=False)
    inventory_policy = serializers.ChoiceField(choices=INVENTORY_POLICIES, required=False)
    tracked = serializers.BooleanField(required=False)
    low_stock_threshold = serializers.IntegerField(
        min_value=0, max_value=MAX_QUANTITY, required=False
    )

    def validate_weight_grams(self, value: Any) -> Any:
        if isinstance(self.initial_data, dict) and isinstance(
            self.initial_data.get("weight_grams"), float
        ):
            raise serializers.ValidationError(_("Give the weight as a decimal string."))
        return value


class VariantCreateIn(VariantFieldsIn):
    """A new variant of a product."""

    product = serializers.UUIDField()


class VariantUpdateIn(VariantFieldsIn):
    """Fields of a variant to change (``options``: the full choice)."""

    sku = serializers.CharField(max_length=64, required=False)


class PriceIn(StrictInput):
    """The variant's price in the currency of the URL."""

    amount = AmountField()
    compare_at_amount = AmountField(required=False, allow_null=True)


class CollectionCreateIn(StrictInput):
    title = serializers.CharField(max_length=255)
    handle = serializers.CharField(max_length=255, required=False, allow_blank=True)
    description = serializers.CharField(max_length=10_000, required=False, allow_blank=True)
    products = serializers.ListField(
        child=serializers.UUIDField(),
        required=False,
        max_length=1000,
        help_text="Product ids, in order.",
    )


class CollectionUpdateIn(CollectionCreateIn):
    title = serializers.CharField(max_length=255, required=False)
    products = serializers.ListField(
        child=serializers.UUIDField(),
        required=False,
        max_length=1000,
        help_text="Product ids, in order; replaces the collection's products.",
    )


class CommerceCategoryCreateIn(StrictInput):
    name = serializers.CharField(max_length=120)
    handle = serializers.CharField(max_length=120, required=False, allow_blank=True)
    parent = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_ID
    )
    position = serializers.IntegerField(min_value=0, max_value=MAX_POSITION, required=False)
    description = serializers.CharField(max_length=10_000, required=False, allow_blank=True)


class CommerceCategoryUpdateIn(CommerceCategoryCreateIn):
    name = serializers.CharField(max_length=120, required=False)
    parent = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=MAX_ID,
        help_text="Move under this category; null moves it to the top level.",
    )


class LocationCreateIn(StrictInput):
    code = serializers.SlugField(max_length=64)
    name = serializers.CharField(max_length=120)
    active = serializers.BooleanField(required=False, default=True)


class LocationUpdateIn(StrictInput):
    code = serializers.SlugField(max_length=64, required=False)
    name = serializers.CharField(max_length=120, required=False)
    active = serializers.BooleanField(required=False)


class StockTargetIn(StrictInput):
    variant = serializers.UUIDField()
    location = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True)


class StockAdjustIn(StockTargetIn):
    """Add (or, negative, take away) units at a location, with the reason."""

    delta = serializers.IntegerField(min_value=-MAX_QUANTITY, max_value=MAX_QUANTITY)
    reason = serializers.ChoiceField(choices=ADJUSTMENT_REASONS)


class StockSetIn(StockTargetIn):
    """Correct the on-hand stock at a location."""

    on_hand = serializers.IntegerField(min_value=-MAX_QUANTITY, max_value=MAX_QUANTITY)


class ProductImageUploadIn(StrictInput):
    """An image of a product (added after its others) and its alt text per locale."""

    product = serializers.UUIDField()
    file = serializers.FileField(
        help_text=f"JPEG, PNG, GIF or WebP; {IMAGE_MAX_BYTES // (1024 * 1024)} MB at most."
    )
    alt_text = AltTextField(required=False)


class ProductImageUpdateIn(StrictInput):
    """New alt text of a product image."""

    alt_text = AltTextField(help_text="Replaces the alt text of every locale.")


class ProductImagesReorderIn(StrictInput):
    """A product's images in their new order."""

    product = serializers.UUIDField()
    image_ids = serializers.ListField(
        child=serializers.UUIDField(),
        min_length=1,
        max_length=MAX_IMAGES_PER_PRODUCT,
        help_text="Every image of the product, each once, in the new order.",
    )
