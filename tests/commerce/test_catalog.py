"""Catalog services: products, translations, categories, collections, options, variants and
prices; every validation, the aggregate version and the events each change publishes."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from apps.commerce import selectors, services
from apps.commerce.errors import (
    CatalogConflict,
    CategoryNotFound,
    CollectionNotFound,
    CommerceInvalid,
    OptionNotFound,
    PriceNotFound,
    ProductNotFound,
    VariantNotFound,
)
from apps.commerce.models import (
    Price,
    Product,
    ProductOption,
    ProductStatus,
    Variant,
    VariantOptionValue,
)
from apps.commerce.services import ProductInput, VariantInput

from .conftest import (
    event_types,
    events_of,
    make_product,
    make_variant,
    outbox_head,
    priced_product,
)


def _field_of(error: CommerceInvalid) -> set[str]:
    return set(error.value.errors)


# -- store settings -------------------------------------------------------------------------


def test_store_settings_change_publishes_with_a_new_version(acme_db):
    before = selectors.store_settings()
    head = outbox_head()
    settings_row = services.store_settings_update(
        default_currency="eur", enabled_currencies=["usd", "EUR", "eur"]
    )
    assert (settings_row.default_currency, settings_row.enabled_currencies) == (
        "EUR",
        ["USD", "EUR"],
    )
    assert settings_row.version == before.version + 1
    (event,) = [e for e in events_of(1, "commerce.store.updated") if e.position > head]
    assert event.payload == {
        "store_id": 1, "default_currency": "EUR", "enabled_currencies": ["USD", "EUR"],
        "prices_include_tax": True, "version": settings_row.version,
    }  # fmt: skip
    # The same values again: no write, no event.
    head = outbox_head()
    services.store_settings_update(default_currency="EUR", enabled_currencies=["USD", "EUR"])
    assert outbox_head() == head
    # Prices that exclude tax: only that changes.
    settings_row = services.store_settings_update(prices_include_tax=False)
    assert (settings_row.prices_include_tax, settings_row.default_currency) == (False, "EUR")
    (event,) = [e for e in events_of(1, "commerce.store.updated") if e.position > head]
    assert event.payload["prices_include_tax"] is False
    with pytest.raises(CommerceInvalid) as refused:
        services.store_settings_update(prices_include_tax="no")
    assert set(refused.value.errors) == {"prices_include_tax"}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"default_currency": "GBP"}, "default_currency"),  # not enabled
        ({"default_currency": "XYZ"}, "default_currency"),
        ({"enabled_currencies": []}, "enabled_currencies"),
        ({"enabled_currencies": ["EUR", "nope"]}, "enabled_currencies"),
        ({"enabled_currencies": ["EUR"]}, "default_currency"),  # USD stays the default
        ({"enabled_currencies": ["XAU", "USD"]}, "enabled_currencies"),
    ],
)
def test_store_settings_validation(acme_db, changes, field):
    with pytest.raises(CommerceInvalid) as error:
        services.store_settings_update(**changes)
    assert field in _field_of(error)


def test_a_new_default_currency_needs_a_price_on_every_active_product(acme_db):
    tee, tee_variant = priced_product("Tee")
    services.product_transition(product_id=tee.pk, action="activate")
    make_product("Draft without prices")  # drafts need no price
    archived, _variant = priced_product("Old cap")
    services.product_transition(product_id=archived.pk, action="activate")
    services.product_transition(product_id=archived.pk, action="archive")
    head = outbox_head()

    with pytest.raises(CommerceInvalid) as error:
        services.store_settings_update(default_currency="EUR")
    assert error.value.errors == {"default_currency": "1 active product has no price in EUR: Tee"}
    assert selectors.store_settings().default_currency == "USD"
    assert outbox_head() == head

    services.price_set(variant_id=tee_variant.pk, currency="EUR", amount="9.00")
    settings_row = services.store_settings_update(default_currency="EUR")
    assert settings_row.default_currency == "EUR"
    # Enabling more currencies (the default kept) checks nothing.
    services.store_settings_update(enabled_currencies=["EUR", "USD", "JPY", "BHD", "GBP"])


def test_a_refused_default_currency_names_a_few_of_the_products(acme_db):
    for number in range(7):
        product, _variant = priced_product(f"Product {number}")
        services.product_transition(product_id=product.pk, action="activate")
    with pytest.raises(CommerceInvalid) as error:
        services.store_settings_update(default_currency="JPY", enabled_currencies=["JPY", "USD"])
    assert error.value.errors["default_currency"] == (
        "7 active products have no price in JPY: "
        "Product 0, Product 1, Product 2, Product 3, Product 4 and 2 more"
    )


def test_a_store_that_never_chose_sells_in_usd(acme):
    from django_tenants.utils import schema_context

    with schema_context("acme"):
        defaults = selectors.store_settings()
    assert (defaults.default_currency, defaults.enabled_currencies) == ("USD", ["USD"])


# -- products -------------------------------------------------------------------------------


def test_product_create_sanitizes_the_description_and_makes_a_handle(acme_db):
    product = make_product(
        "Linen Shirt_XL",
        description="<script>alert(1)</script>\n\n**soft** [x](javascript:alert(1))",
        vendor=" Acme ",
    )
    assert product.handle == "linen-shirt-xl"
    assert product.vendor == "Acme"
    assert "<strong>soft</strong>" in product.description_html
    assert "<script" not in product.description_html
    assert 'href="javascript' not in product.description_html.lower()
    assert (product.status, product.version) == (ProductStatus.DRAFT, 1)
    (event,) = events_of(product.pk)
    assert (event.event_type, event.aggregate_type, event.aggregate_version) == (
        "commerce.product.created", "product", 1,
    )  # fmt: skip
    assert event.payload == {"product_id": str(product.pk), "version": 1, "handle": product.handle}


def test_html_descriptions_are_sanitized_too(acme_db):
    product = make_product(
        description='<p onclick="x()">Hi</p><img src=x onerror=alert(1)>',
        description_format="html",
    )
    assert product.description_html.startswith("<p>Hi</p>")
    assert "onclick" not in product.description_html and "onerror" not in product.description_html


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"title": "   "}, "title"),
        ({"title": "x" * 256}, "title"),
        ({"title": "!!!"}, "handle"),
        ({"title": "ok", "description_format": "rtf"}, "description_format"),
        ({"title": "ok", "seo_description": "x" * 321}, "seo_description"),
        ({"title": "ok", "seo_title": "x" * 256}, "seo_title"),
        ({"title": "ok", "vendor": "x" * 256}, "vendor"),
        ({"title": "ok", "product_type": "x" * 256}, "product_type"),
        ({"title": "ok", "category_ids": [999999]}, "category_ids"),
        ({"title": "ok", "category_ids": ["1"]}, "category_ids"),
    ],
)
def test_product_create_validation(acme_db, fields, field):
    head = outbox_head()
    with pytest.raises(CommerceInvalid) as error:
        services.product_create(data=ProductInput(**fields))
    assert field in _field_of(error)
    assert outbox_head() == head


def test_handles_are_unique_per_tenant(acme_db):
    make_product("Mug")
    with pytest.raises(CommerceInvalid) as error:
        make_product("Other", handle="mug")
    assert "handle" in _field_of(error)
    second = make_product("Mug two")
    with pytest.raises(CommerceInvalid):
        services.product_update(product_id=second.pk, fields={"handle": "MUG"})


def test_product_update_bumps_the_version_once_and_names_what_changed(acme_db):
    category = services.category_create(name="Shirts")
    product = make_product()
    product = services.product_update(
        product_id=product.pk,
        fields={"title": "Linen shirt", "vendor": "Acme", "category_ids": [category.pk],
                "description": "*new*"},
        translations={"de": {"title": "Leinenhemd", "description": "<b>weich</b>"}},
    )  # fmt: skip
    assert product.version == 2
    assert list(product.categories.all()) == [category]
    translation = product.translations.get(locale="de")
    assert translation.description_html == "<p><b>weich</b></p>\n"
    (event,) = events_of(product.pk, "commerce.product.updated")
    assert event.aggregate_version == 2
    assert event.payload["changed"] == [
        "vendor", "description", "categories", "translations.de",
    ]  # fmt: skip
    # Nothing new: no version, no event.
    same = services.product_update(
        product_id=product.pk,
        fields={"vendor": "Acme"},
        translations={"de": {"title": "Leinenhemd"}},
    )
    assert same.version == 2
    assert len(events_of(product.pk, "commerce.product.updated")) == 1


def test_translations_follow_the_tenant_locales(acme_db):
    product = make_product()
    with pytest.raises(CommerceInvalid) as error:
        services.product_update(product_id=product.pk, translations={"fr": {"title": "Chemise"}})
    assert _field_of(error) == {"locale"}
    with pytest.raises(CommerceInvalid):  # the default locale is the product's own fields
        services.product_update(product_id=product.pk, translations={"en": {"title": "Shirt"}})
    with pytest.raises(CommerceInvalid) as error:  # a new translation needs a title
        services.product_update(product_id=product.pk, translations={"de": {"seo_title": "x"}})
    assert _field_of(error) == {"translations.de.title"}
    with pytest.raises(CommerceInvalid) as error:
        services.product_update(product_id=product.pk, translations={"de": {"colour": "x"}})
    assert _field_of(error) == {"translations.de.colour"}
    services.product_update(product_id=product.pk, translations={"de": {"title": "Hemd"}})
    product = services.product_update(product_id=product.pk, delete_locales=["de"])
    assert not product.translations.exists() and product.version == 3
    with pytest.raises(CommerceInvalid):
        services.product_update(product_id=product.pk, delete_locales=["de"])


def test_product_text_falls_back_to_the_default_locale(acme_db):
    product = make_product("Shirt", description="plain")
    services.product_update(product_id=product.pk, translations={"de": {"title": "Hemd"}})
    loaded = selectors.product_get(product.pk)
    assert selectors.product_text(loaded, "de").title == "Hemd"
    assert selectors.product_text(loaded, "de").seo_title == "Hemd"
    english = selectors.product_text(loaded, "fr")
    assert (english.locale, english.title, english.description_html) == (
        "en",
        "Shirt",
        "<p>plain</p>\n",
    )


def test_product_update_refuses_unknown_fields_and_products(acme_db):
    product = make_product()
    with pytest.raises(CommerceInvalid) as error:
        services.product_update(product_id=product.pk, fields={"status": "active", "version": 9})
    assert _field_of(error) == {"status", "version"}
    with pytest.raises(ProductNotFound):
        services.product_update(product_id=uuid.uuid4(), fields={"title": "x"})
    with pytest.raises(ProductNotFound):
        services.product_update(product_id="not-a-uuid", fields={"title": "x"})


# -- categories -----------------------------------------------------------------------------


def test_categories_form_a_tree_without_cycles(acme_db):
    clothes = services.category_create(name="Clothes")
    shirts = services.category_create(name="Shirts", parent_id=clothes.pk)
    linen = services.category_create(name="Linen", parent_id=shirts.pk)
    for parent in (linen, shirts, clothes):
        with pytest.raises(CommerceInvalid) as error:
            services.category_update(category_id=clothes.pk, parent_id=parent.pk)
        assert _field_of(error) == {"parent"}
    assert selectors.category_descendant_ids(clothes.pk) == [clothes.pk, shirts.pk, linen.pk]
    moved = services.category_update(category_id=linen.pk, to_top_level=True, name="Linen things")
    assert moved.parent_id is None
    (event,) = events_of(linen.pk, "commerce.category.updated")
    assert event.payload["changed"] == ["name", "parent"]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 121}, "name"),
        ({"name": "???"}, "handle"),
        ({"name": "ok", "position": -1}, "position"),
        ({"name": "ok", "parent_id": 999999}, "parent"),
    ],
)
def test_category_validation(acme_db, kwargs, field):
    with pytest.raises(CommerceInvalid) as error:
        services.category_create(**kwargs)
    assert field in _field_of(error)


def test_category_handles_are_unique_and_deletes_refuse_children(acme_db):
    parent = services.category_create(name="Clothes")
    child = services.category_create(name="Shirts", parent_id=parent.pk)
    with pytest.raises(CommerceInvalid):
        services.category_create(name="Clothes")
    with pytest.raises(CommerceInvalid):
        services.category_update(category_id=child.pk, handle="clothes")
    with pytest.raises(CatalogConflict):
        services.category_delete(category_id=parent.pk)
    with pytest.raises(CategoryNotFound):
        services.category_delete(category_id=999999)


def test_deleting_a_category_updates_its_products(acme_db):
    category = services.category_create(name="Sale")
    product = make_product(category_ids=[category.pk])
    services.category_delete(category_id=category.pk)
    product.refresh_from_db()
    assert (product.version, list(product.categories.all())) == (2, [])
    assert event_types(product.pk) == ["commerce.product.created", "commerce.product.updated"]
    assert event_types(category.pk)[-1] == "commerce.category.deleted"


# -- collections ----------------------------------------------------------------------------


def test_collections_keep_the_order_they_are_given(acme_db):
    first, second, third = make_product("A"), make_product("B"), make_product("C")
    collection = services.collection_create(title="Summer", product_ids=[second.pk, first.pk])
    assert selectors.collection_product_ids(collection.pk) == [second.pk, first.pk]
    services.collection_set_products(
        collection_id=collection.pk, product_ids=[str(third.pk), second.pk]
    )
    assert list(selectors.collection_products(collection.pk)) == [third, second]
    (event,) = events_of(collection.pk, "commerce.collection.updated")
    assert event.payload["changed"] == ["products"]
    assert sorted(event.payload["product_ids"]) == sorted([str(first.pk), str(third.pk)])
    # A reorder is a change that moves no product in or out.
    services.collection_set_products(collection_id=collection.pk, product_ids=[second.pk, third.pk])
    last = events_of(collection.pk, "commerce.collection.updated")[-1]
    assert last.payload["product_ids"] == []
    # The same order again: nothing.
    head = outbox_head()
    services.collection_set_products(collection_id=collection.pk, product_ids=[second.pk, third.pk])
    assert outbox_head() == head


@pytest.mark.parametrize(
    ("product_ids", "field"),
    [(["nope"], "product_ids.0"), ([uuid.uuid4()], "product_ids")],
)
def test_collection_membership_validation(acme_db, product_ids, field):
    with pytest.raises(CommerceInvalid) as error:
        services.collection_create(title="Bad", product_ids=product_ids)
    assert field in _field_of(error)


def test_collection_refuses_a_product_twice_and_a_taken_handle(acme_db):
    product = make_product()
    with pytest.raises(CommerceInvalid) as error:
        services.collection_create(title="Twice", product_ids=[product.pk, product.pk])
    assert _field_of(error) == {"product_ids.1"}
    services.collection_create(title="Summer")
    with pytest.raises(CommerceInvalid):
        services.collection_create(title="Other", handle="summer")
    with pytest.raises(CommerceInvalid):
        services.collection_create(title="")
    with pytest.raises(CollectionNotFound):
        services.collection_update(collection_id=999999, title="x")


def test_collection_delete_names_its_products(acme_db):
    product = make_product()
    collection = services.collection_create(title="Gone", product_ids=[product.pk])
    services.collection_delete(collection_id=collection.pk)
    (event,) = events_of(collection.pk, "commerce.collection.deleted")
    assert event.payload["product_ids"] == [str(product.pk)]
    assert not product.collections.exists()


# -- options and variants -------------------------------------------------------------------


def _shirt_with_options(title: str = "Linen shirt"):
    product = make_product(title)
    services.option_create(product_id=product.pk, name="Size", values=["S", "M", "L"])
    services.option_create(product_id=product.pk, name="Colour", values=["Red", "Blue"])
    return product


def test_a_variant_takes_exactly_one_value_of_each_option(acme_db):
    product = _shirt_with_options()
    variant = make_variant(product, options={"Size": "M", "Colour": "Red"})
    loaded = selectors.variant_get(variant.pk)
    assert selectors.variant_options(loaded) == {"Size": "M", "Colour": "Red"}
    bad = [
        ({"Size": "M"}, {"options.Colour"}),
        ({"Size": "M", "Colour": "Red", "Material": "Silk"}, {"options.Material"}),
        ({"Size": "XXL", "Colour": "Red"}, {"options.Size"}),
        ({"Size": "", "Colour": "Red"}, {"options.Size"}),
    ]
    for options, fields in bad:
        with pytest.raises(CommerceInvalid) as error:
            make_variant(product, options=options)
        assert _field_of(error) == fields, options


def test_an_option_combination_exists_once_per_product(acme_db):
    product = _shirt_with_options()
    make_variant(product, "SHIRT-M-RED", options={"Size": "M", "Colour": "Red"})
    with pytest.raises(CommerceInvalid) as error:
        make_variant(product, options={"Colour": "Red", "Size": "M"})
    assert _field_of(error) == {"options"}
    blue = make_variant(product, options={"Size": "M", "Colour": "Blue"})
    with pytest.raises(CommerceInvalid):
        services.variant_update(variant_id=blue.pk, options={"Size": "M", "Colour": "Red"})
    # Another product may have the same values.
    other = _shirt_with_options("Cotton shirt")
    make_variant(other, options={"Size": "M", "Colour": "Red"})


def test_a_product_without_options_has_one_variant(acme_db):
    product = make_product()
    make_variant(product)
    with pytest.raises(CommerceInvalid):
        make_variant(product)


def test_skus_are_unique_within_a_tenant(acme_db):
    first, second = make_product("A"), make_product("B")
    make_variant(first, "MUG-1")
    with pytest.raises(CommerceInvalid) as error:
        make_variant(second, "MUG-1")
    assert _field_of(error) == {"sku"}
    other = make_variant(second, "MUG-2")
    with pytest.raises(CommerceInvalid):
        services.variant_update(variant_id=other.pk, sku="MUG-1")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"sku": ""}, "sku"),
        ({"sku": "HAS SPACE"}, "sku"),
        ({"sku": "x" * 65}, "sku"),
        ({"sku": "OK", "barcode": "1" * 65}, "barcode"),
        ({"sku": "OK", "weight_grams": -1}, "weight_grams"),
        ({"sku": "OK", "weight_grams": 1.5}, "weight_grams"),
        ({"sku": "OK", "weight_grams": "heavy"}, "weight_grams"),
        ({"sku": "OK", "position": -1}, "position"),
        ({"sku": "OK", "inventory_policy": "maybe"}, "inventory_policy"),
        ({"sku": "OK", "tracked": "yes"}, "tracked"),
        ({"sku": "OK", "low_stock_threshold": -5}, "low_stock_threshold"),
        ({"sku": "OK", "low_stock_threshold": "5"}, "low_stock_threshold"),
    ],
)
def test_variant_validation(acme_db, fields, field):
    product = make_product()
    with pytest.raises(CommerceInvalid) as error:
        services.variant_create(product_id=product.pk, data=VariantInput(**fields))
    assert field in _field_of(error)


def test_weight_is_kept_in_grams_to_the_milligram(acme_db):
    variant = make_variant(make_product(), weight_grams="250.0005")
    variant.refresh_from_db()
    assert variant.weight_grams == Decimal("250.001")


def test_variant_changes_bump_the_product(acme_db):
    product = _shirt_with_options()  # version 3: created, two options
    variant = make_variant(product, "V-1", options={"Size": "S", "Colour": "Red"})
    product.refresh_from_db()
    assert product.version == 4
    services.variant_update(
        variant_id=variant.pk, barcode="4006381333931", options={"Size": "L", "Colour": "Red"}
    )
    product.refresh_from_db()
    assert product.version == 5
    (created,) = events_of(product.pk, "commerce.variant.created")
    (updated,) = events_of(product.pk, "commerce.variant.updated")
    assert created.payload == {
        "product_id": str(product.pk), "version": 4, "variant_id": str(variant.pk), "sku": "V-1",
    }  # fmt: skip
    assert updated.payload["changed"] == ["barcode", "options"]
    assert updated.aggregate_version == 5
    with pytest.raises(CommerceInvalid):
        services.variant_update(variant_id=variant.pk, product_id=uuid.uuid4())
    with pytest.raises(VariantNotFound):
        services.variant_update(variant_id=uuid.uuid4(), barcode="1")


def test_options_are_capped_at_three_and_named_once(acme_db):
    product = make_product()
    for name in ("Size", "Colour", "Material"):
        services.option_create(product_id=product.pk, name=name, values=["A"])
    with pytest.raises(CommerceInvalid) as error:
        services.option_create(product_id=product.pk, name="Fit", values=["Slim"])
    assert _field_of(error) == {"options"}
    other = make_product("Other")
    services.option_create(product_id=other.pk, name="Size", values=["S"])
    with pytest.raises(CommerceInvalid):
        services.option_create(product_id=other.pk, name="size", values=["M"])


@pytest.mark.parametrize(
    ("name", "values", "field"),
    [
        ("", ["S"], "name"),
        ("Size", [], "values"),
        ("Size", "S,M", "values"),
        ("Size", ["S", " "], "values.1"),
        ("Size", ["S", "s"], "values.1"),
        ("Size", ["x" * 101], "values.0"),
    ],
)
def test_option_validation(acme_db, name, values, field):
    product = make_product()
    with pytest.raises(CommerceInvalid) as error:
        services.option_create(product_id=product.pk, name=name, values=values)
    assert field in _field_of(error)


def test_a_new_option_gives_existing_variants_its_first_value(acme_db):
    product = make_product()
    variant = make_variant(product)
    services.option_create(product_id=product.pk, name="Size", values=["M", "L"])
    assert selectors.variant_options(selectors.variant_get(variant.pk)) == {"Size": "M"}
    make_variant(product, options={"Size": "L"})


def test_option_values_in_use_stay(acme_db):
    product = make_product()
    option = services.option_create(product_id=product.pk, name="Size", values=["S", "M", "L"])
    make_variant(product, options={"Size": "M"})
    with pytest.raises(CatalogConflict):
        services.option_update(option_id=option.pk, values=["S", "L"])
    services.option_update(option_id=option.pk, name="Sizes", values=["L", "M", "XL"])
    option.refresh_from_db()
    assert option.name == "Sizes"
    assert [v.value for v in option.values.order_by("position")] == ["L", "M", "XL"]
    with pytest.raises(OptionNotFound):
        services.option_update(option_id=999999, name="x")


def test_deleting_an_option_refuses_to_merge_variants(acme_db):
    product = _shirt_with_options()
    make_variant(product, options={"Size": "M", "Colour": "Red"})
    make_variant(product, options={"Size": "M", "Colour": "Blue"})
    colour = product.options.get(name="Colour")
    size = product.options.get(name="Size")
    with pytest.raises(CatalogConflict):
        services.option_delete(option_id=colour.pk)
    assert ProductOption.objects.filter(pk=colour.pk).exists()
    # Removing Size leaves Red and Blue apart.
    services.option_delete(option_id=size.pk)
    colour.refresh_from_db()
    assert colour.position == 0
    assert VariantOptionValue.objects.filter(variant__product=product).count() == 2


def test_options_reorder(acme_db):
    product = _shirt_with_options()
    size, colour = product.options.order_by("position")
    services.options_reorder(product_id=product.pk, option_ids=[colour.pk, size.pk])
    assert list(product.options.order_by("position")) == [colour, size]
    with pytest.raises(CommerceInvalid):
        services.options_reorder(product_id=product.pk, option_ids=[colour.pk])
    with pytest.raises(CommerceInvalid):
        services.options_reorder(product_id=product.pk, option_ids=[colour.pk, colour.pk])


# -- prices ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("currency", "amount", "stored"),
    [
        ("USD", "19.995", Decimal("20.00")),
        ("JPY", "1999.5", Decimal("2000")),
        ("BHD", "4.0005", Decimal("4.001")),
        ("usd", 5, Decimal("5.00")),
        ("EUR", "0", Decimal("0.00")),
    ],
)
def test_prices_are_rounded_by_their_currency(acme_db, currency, amount, stored):
    variant = make_variant(make_product())
    price = services.price_set(variant_id=variant.pk, currency=currency, amount=amount)
    price.refresh_from_db()
    assert price.amount == stored
    (event,) = events_of(variant.product_id, "commerce.price.set")
    assert event.payload["amount"] == str(stored)
    assert event.payload["currency"] == currency.upper()
    assert event.payload["compare_at_amount"] is None


def test_the_compare_at_price_must_be_higher(acme_db):
    variant = make_variant(make_product())
    for compare_at in ("10.00", "9.99", "10.004"):  # 10.004 rounds to 10.00
        with pytest.raises(CommerceInvalid) as error:
            services.price_set(
                variant_id=variant.pk, currency="USD", amount="10", compare_at_amount=compare_at
            )
        assert _field_of(error) == {"compare_at_amount"}
    price = services.price_set(
        variant_id=variant.pk, currency="USD", amount="10", compare_at_amount="10.005"
    )
    assert price.compare_at_amount == Decimal("10.01")
    (event,) = events_of(variant.product_id, "commerce.price.set")
    assert (event.payload["amount"], event.payload["compare_at_amount"]) == ("10.00", "10.01")


@pytest.mark.parametrize(
    ("currency", "amount", "field"),
    [
        ("GBP", "1", "currency"),  # not enabled
        ("ABC", "1", "currency"),
        ("USD", "-0.01", "amount"),
        ("USD", 1.5, "amount"),
        ("USD", "ten", "amount"),
        ("USD", "1e15", "amount"),
    ],
)
def test_price_validation(acme_db, currency, amount, field):
    variant = make_variant(make_product())
    with pytest.raises(CommerceInvalid) as error:
        services.price_set(variant_id=variant.pk, currency=currency, amount=amount)
    assert _field_of(error) == {field}
    assert not Price.objects.filter(variant=variant).exists()


def test_one_price_per_currency_and_no_event_for_the_same_price(acme_db):
    variant = make_variant(make_product())
    services.price_set(variant_id=variant.pk, currency="EUR", amount="5")
    services.price_set(variant_id=variant.pk, currency="EUR", amount="6")
    services.price_set(variant_id=variant.pk, currency="EUR", amount="6.00")
    assert list(Price.objects.filter(variant=variant).values_list("amount", flat=True)) == [
        Decimal("6.00")
    ]
    assert len(events_of(variant.product_id, "commerce.price.set")) == 2
    services.price_delete(variant_id=variant.pk, currency="eur")
    (deleted,) = events_of(variant.product_id, "commerce.price.deleted")
    assert deleted.payload["currency"] == "EUR"
    with pytest.raises(PriceNotFound):
        services.price_delete(variant_id=variant.pk, currency="EUR")


def test_an_active_product_keeps_a_price_in_the_default_currency(acme_db):
    product, variant = priced_product()
    services.price_set(variant_id=variant.pk, currency="EUR", amount="9")
    services.product_transition(product_id=product.pk, action="activate")
    with pytest.raises(CatalogConflict):
        services.price_delete(variant_id=variant.pk, currency="USD")
    with pytest.raises(CatalogConflict):
        services.variant_delete(variant_id=variant.pk)
    services.price_delete(variant_id=variant.pk, currency="EUR")  # not the default: fine
    services.product_transition(product_id=product.pk, action="draft")
    services.variant_delete(variant_id=variant.pk)  # a draft may lose it
    assert not Variant.objects.filter(product=product).exists()


def test_variant_delete_publishes_and_bumps(acme_db):
    product = make_product()
    services.option_create(product_id=product.pk, name="Size", values=["S", "M"])
    small = make_variant(product, "S-1", options={"Size": "S"})
    make_variant(product, options={"Size": "M"})
    services.price_set(variant_id=small.pk, currency="USD", amount="1")
    services.variant_delete(variant_id=small.pk)
    product.refresh_from_db()
    (event,) = events_of(product.pk, "commerce.variant.deleted")
    assert event.payload == {
        "product_id": str(product.pk), "version": product.version, "variant_id": str(small.pk),
        "sku": "S-1",
    }  # fmt: skip
    assert not Price.objects.filter(variant_id=small.pk).exists()
    with pytest.raises(VariantNotFound):
        services.variant_delete(variant_id=small.pk)


def test_selectors_load_a_catalog_in_a_fixed_number_of_queries(acme_db, django_assert_num_queries):
    collection = services.collection_create(title="All")
    category = services.category_create(name="Everything")
    ids = []
    for number in range(6):
        product = make_product(f"Product {number}", category_ids=[category.pk])
        services.option_create(product_id=product.pk, name="Size", values=["S", "M", "L", "XL"])
        services.product_update(product_id=product.pk, translations={"de": {"title": f"P{number}"}})
        for size in ("S", "M", "L", "XL"):
            variant = make_variant(product, options={"Size": size})
            services.price_set(variant_id=variant.pk, currency="USD", amount="10")
            services.price_set(variant_id=variant.pk, currency="EUR", amount="9")
        ids.append(product.pk)
    services.collection_set_products(collection_id=collection.pk, product_ids=ids)
    # products, translations, options, values, variants, prices, choices, categories,
    # collections, images
    with django_assert_num_queries(10):
        listed = list(selectors.products().filter(pk__in=ids))
        for product in listed:
            assert selectors.price_range(product, "EUR") == (Decimal("9.00"), Decimal("9.00"))
            for variant in product.variants.all():
                assert list(selectors.variant_options(variant)) == ["Size"]
            assert [o.name for o in product.options.all()] == ["Size"]
            assert len(product.options.all()[0].values.all()) == 4
            assert selectors.product_text(product, "de").title.startswith("P")
            assert [c.handle for c in product.categories.all()] == ["everything"]
            assert [c.handle for c in product.collections.all()] == ["all"]
    assert len(listed) == 6


def test_product_delete_removes_the_aggregate(acme_db):
    product, variant = priced_product()
    services.product_delete(product_id=product.pk)
    assert not Product.objects.filter(pk=product.pk).exists()
    assert not Variant.objects.filter(pk=variant.pk).exists()
    deleted = events_of(product.pk)[-1]
    assert (deleted.event_type, deleted.aggregate_version) == (
        "commerce.product.deleted", product.version + 1,
    )  # fmt: skip
    with pytest.raises(ProductNotFound):
        services.product_delete(product_id=product.pk)


JUNK_IDS = ["not-an-id", True, [1], None, -3, 0]


@pytest.mark.parametrize("junk", JUNK_IDS, ids=repr)
def test_malformed_ids_are_refused_as_bad_input_or_missing(acme_db, junk):
    from apps.core.errors import PlatformError

    product = make_product()
    variant = make_variant(product)
    calls = [
        lambda: services.product_update(product_id=junk, fields={"title": "x"}),
        lambda: services.product_transition(product_id=junk, action="activate"),
        lambda: services.product_delete(product_id=junk),
        lambda: services.variant_update(variant_id=junk, barcode="1"),
        lambda: services.variant_delete(variant_id=junk),
        lambda: services.price_set(variant_id=junk, currency="USD", amount="1"),
        lambda: services.price_delete(variant_id=junk, currency="USD"),
        lambda: services.option_update(option_id=junk, name="x"),
        lambda: services.option_delete(option_id=junk),
        lambda: services.options_reorder(product_id=product.pk, option_ids=[junk]),
        lambda: services.collection_update(collection_id=junk, title="x"),
        lambda: services.collection_set_products(collection_id=junk, product_ids=[]),
        lambda: services.collection_delete(collection_id=junk),
        lambda: services.category_create(name="x", parent_id=junk),
        lambda: services.category_update(category_id=junk, name="x"),
        lambda: services.category_delete(category_id=junk),
        lambda: services.location_update(location_id=junk, name="x"),
        lambda: services.location_delete(location_id=junk),
        lambda: services.stock_adjust(
            variant_id=variant.pk, location_id=junk, delta=1, reason="received"
        ),
        lambda: services.stock_set(variant_id=junk, location_id=1, on_hand=1),
        lambda: services.reservation_release(reservation_id=junk),
        lambda: services.product_create(data=ProductInput(title="x", category_ids=junk)),
        lambda: services.collection_create(title="x", product_ids=[junk]),
    ]
    for index, call in enumerate(calls):
        if junk is None and index in (13, 21):  # None is "no parent" / no categories here
            continue
        with pytest.raises(PlatformError) as error:
            call()
        assert 400 <= error.value.status < 500, index
