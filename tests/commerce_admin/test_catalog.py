"""Collections, categories, locations and the store's currencies, written through services."""

from __future__ import annotations

from django_tenants.utils import schema_context

from apps.commerce import selectors, services
from apps.commerce.models import Category, Collection, Location, StoreSettings

from .conftest import ADMIN, errors_of, events, form_data, make_location, make_product, page


def test_a_collection_is_created_with_its_products_in_order(merchant_client):
    first, second = make_product("First"), make_product("Second")
    add = merchant_client.get(f"{ADMIN}collection/add/")
    data = form_data(add, title="Summer", members=[str(second.pk), str(first.pk)])

    response = merchant_client.post(f"{ADMIN}collection/add/", data)

    assert response.status_code == 302, errors_of(response)
    with schema_context("acme"):
        collection = Collection.objects.get(handle="summer")
        assert set(selectors.collection_product_ids(collection.pk)) == {first.pk, second.pk}
    assert len(events("commerce.collection.created", collection.pk)) == 1


def test_a_collection_keeps_its_order_when_a_product_joins(merchant_client):
    first, second, third = make_product("A"), make_product("B"), make_product("C")
    with schema_context("acme"):
        collection = services.collection_create(title="Summer", product_ids=[second.pk, first.pk])
    url = f"{ADMIN}collection/{collection.pk}/change/"
    data = form_data(
        merchant_client.get(url), members=[str(first.pk), str(second.pk), str(third.pk)]
    )

    response = merchant_client.post(url, data)

    assert response.status_code == 302, errors_of(response)
    with schema_context("acme"):
        ids = selectors.collection_product_ids(collection.pk)
    assert ids == [second.pk, first.pk, third.pk]


def test_a_duplicate_collection_handle_is_refused_on_its_field(merchant_client):
    with schema_context("acme"):
        services.collection_create(title="Summer")
    data = form_data(merchant_client.get(f"{ADMIN}collection/add/"), title="Other", handle="summer")
    response = merchant_client.post(f"{ADMIN}collection/add/", data)
    assert "handle" in errors_of(response)
    with schema_context("acme"):
        assert Collection.objects.count() == 1


def test_categories_form_a_tree_and_refuse_a_cycle(merchant_client):
    with schema_context("acme"):
        parent = services.category_create(name="Clothes")
        child = services.category_create(name="Shirts", parent_id=parent.pk)
    url = f"{ADMIN}category/{parent.pk}/change/"
    data = form_data(merchant_client.get(url), parent=str(child.pk))

    response = merchant_client.post(url, data)

    assert "own ancestor" in str(errors_of(response)["parent"])
    with schema_context("acme"):
        assert Category.objects.get(pk=parent.pk).parent_id is None
    assert not events("commerce.category.updated", parent.pk)


def test_a_category_with_subcategories_is_not_deleted(merchant_client):
    with schema_context("acme"):
        parent = services.category_create(name="Clothes")
        services.category_create(name="Shirts", parent_id=parent.pk)
    response = merchant_client.post(f"{ADMIN}category/{parent.pk}/delete/", {"post": "yes"})
    # Django's own refusal: the page names the protected subcategories.
    assert "Shirts" in page(response)
    with schema_context("acme"):
        assert Category.objects.filter(pk=parent.pk).exists()


def test_a_location_is_created_and_renamed(merchant_client):
    data = form_data(
        merchant_client.get(f"{ADMIN}location/add/"), name="Main", code="main", active="on"
    )
    assert merchant_client.post(f"{ADMIN}location/add/", data).status_code == 302
    with schema_context("acme"):
        location = Location.objects.get(code="main")
    url = f"{ADMIN}location/{location.pk}/change/"
    response = merchant_client.post(url, form_data(merchant_client.get(url), name="Back room"))
    assert response.status_code == 302, errors_of(response)
    with schema_context("acme"):
        assert Location.objects.get(pk=location.pk).name == "Back room"
    assert [e.event_type for e in events("commerce.location.updated", location.pk)] == [
        "commerce.location.updated"
    ]


def test_a_location_with_stock_history_is_not_deleted(merchant_client):
    location = make_location()
    with schema_context("acme"):
        product = services.product_create(data=services.ProductInput(title="Shirt"))
        variant = services.variant_create(
            product_id=product.pk, data=services.VariantInput(sku="S-1")
        )
        services.stock_adjust(
            variant_id=variant.pk, location_id=location.pk, delta=1, reason="received"
        )
    response = merchant_client.post(f"{ADMIN}location/{location.pk}/delete/", {"post": "yes"})
    # Django's own refusal: the page names the protected stock history.
    assert "Cannot delete location" in page(response)
    with schema_context("acme"):
        assert Location.objects.filter(pk=location.pk).exists()


def test_the_store_s_currencies_are_changed_and_checked(merchant_client):
    url = f"{ADMIN}storesettings/1/change/"
    content = page(merchant_client.get(url))
    assert "USD" in content

    response = merchant_client.post(
        url, form_data(merchant_client.get(url), currency_codes="USD, EUR")
    )
    assert response.status_code == 302, errors_of(response)
    with schema_context("acme"):
        assert StoreSettings.objects.get().enabled_currencies == ["USD", "EUR"]
    assert len(events("commerce.store.updated")) == 1

    response = merchant_client.post(
        url, form_data(merchant_client.get(url), default_currency="GBP")
    )
    assert "enabled" in str(errors_of(response)["default_currency"])
    response = merchant_client.post(
        url, form_data(merchant_client.get(url), currency_codes="USD, XX1")
    )
    assert "currency_codes" in errors_of(response)
    with schema_context("acme"):
        assert StoreSettings.objects.get().default_currency == "USD"
        assert StoreSettings.objects.get().enabled_currencies == ["USD", "EUR"]
