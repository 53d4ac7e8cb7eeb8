"""The services and selectors added for the REST API: a collection's fields and products in one
transaction, and reads whose query count does not grow with the rows."""

from __future__ import annotations

import pytest

from apps.commerce import selectors, services
from apps.commerce.errors import CommerceInvalid
from apps.events.models import OutboxEvent

from .conftest import make_product

pytestmark = pytest.mark.django_db


def test_collection_change_is_one_transaction(acme_db):
    first, second = make_product("First"), make_product("Second")
    collection = services.collection_create(title="Summer", product_ids=[first.pk])
    services.collection_create(title="Taken")
    head = OutboxEvent.objects.count()

    with pytest.raises(CommerceInvalid) as refused:
        services.collection_change(
            collection_id=collection.pk, handle="taken", product_ids=[second.pk]
        )
    assert "handle" in refused.value.errors
    assert selectors.collection_product_ids(collection.pk) == [first.pk]
    assert OutboxEvent.objects.count() == head

    changed = services.collection_change(
        collection_id=collection.pk, title="Hot", product_ids=[second.pk, first.pk]
    )
    assert changed.title == "Hot"
    assert selectors.collection_product_ids(collection.pk) == [second.pk, first.pk]
    assert OutboxEvent.objects.count() == head + 2  # the fields, then the products

    services.collection_change(collection_id=collection.pk, title="Hot")
    assert selectors.collection_product_ids(collection.pk) == [second.pk, first.pk]
    assert OutboxEvent.objects.count() == head + 2  # nothing changed, nothing published


@pytest.mark.parametrize("count", [2, 20])
def test_api_reads_cost_fixed_queries(acme_db, django_assert_num_queries, count):
    products = [make_product(f"Product {n}") for n in range(count)]
    for product in products:
        services.option_create(product_id=product.pk, name="Size", values=["S", "M", "L"])
    for n in range(count):
        services.collection_create(
            title=f"Collection {n}", product_ids=[product.pk for product in products[: n + 1]]
        )
    with django_assert_num_queries(2):
        options = [
            (option.name, [value.value for value in option.values.all()])
            for option in selectors.product_options_all()
        ]
    assert options == [("Size", ["S", "M", "L"])] * count
    with django_assert_num_queries(2):
        members = {
            collection.title: [member.product_id for member in collection.members.all()]
            for collection in selectors.collections_with_members()
        }
    assert members[f"Collection {count - 1}"] == [product.pk for product in products]
    assert members["Collection 0"] == [products[0].pk]
