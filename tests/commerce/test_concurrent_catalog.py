"""Catalog writes racing each other on committed data: the outcome is always a consistent
catalog and, for the loser, a clear refusal (never a deadlock or an integrity error)."""

from __future__ import annotations

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from apps.commerce import services
from apps.commerce.models import Category, Collection, Product
from apps.commerce.services import ProductInput

from .concurrency import race

ROUNDS = 4


@pytest.fixture
def cleanup(live_db):
    """Rows made here are committed; they go afterwards."""
    yield
    with schema_context("acme"):
        Collection.objects.all().delete()
        Product.objects.all().delete()
        Category.objects.update(parent=None)  # whatever shape a failed run left
        Category.objects.all().delete()
    connection.set_schema_to_public()


def test_two_moves_never_make_a_cycle(cleanup):
    for round_ in range(ROUNDS):
        with schema_context("acme"):
            first = services.category_create(name=f"First {round_}")
            second = services.category_create(name=f"Second {round_}")
        outcomes = race(
            [
                lambda a=first, b=second: (
                    services.category_update(category_id=a.pk, parent_id=b.pk).pk
                ),
                lambda a=first, b=second: (
                    services.category_update(category_id=b.pk, parent_id=a.pk).pk
                ),
            ]
        )
        assert sorted(outcome[0] for outcome in outcomes) == ["ok", "refused"], outcomes
        assert ("refused", "CommerceInvalid") in outcomes  # the second move would close a cycle
        with schema_context("acme"):
            parents = dict(
                Category.objects.filter(pk__in=[first.pk, second.pk]).values_list("pk", "parent_id")
            )
        assert list(parents.values()).count(None) == 1, parents


def test_a_product_joining_a_category_being_deleted(cleanup):
    for round_ in range(ROUNDS):
        with schema_context("acme"):
            category = services.category_create(name=f"Doomed {round_}")
            product = services.product_create(data=ProductInput(title=f"Joiner {round_}"))
        outcomes = race(
            [
                lambda c=category: services.category_delete(category_id=c.pk),
                lambda c=category, p=product: (
                    services.product_update(
                        product_id=p.pk, fields={"category_ids": [c.pk]}
                    ).version
                ),
            ]
        )
        assert outcomes[0] == ("ok", None), outcomes
        # Joined first (then left with the deletion: version 3) or refused afterwards.
        assert outcomes[1] in (("ok", 2), ("refused", "CommerceInvalid")), outcomes
        with schema_context("acme"):
            stored = Product.objects.get(pk=product.pk)
            assert not stored.categories.exists()
            assert stored.version == (3 if outcomes[1][0] == "ok" else 1)


def test_a_product_listed_while_it_is_deleted(cleanup):
    for round_ in range(ROUNDS):
        with schema_context("acme"):
            product = services.product_create(data=ProductInput(title=f"Listed {round_}"))
            collection = services.collection_create(title=f"Shelf {round_}")
        outcomes = race(
            [
                lambda p=product: services.product_delete(product_id=p.pk),
                lambda c=collection, p=product: (
                    services.collection_set_products(collection_id=c.pk, product_ids=[p.pk]).pk
                ),
            ]
        )
        assert outcomes[0] == ("ok", None), outcomes
        assert outcomes[1] in (("ok", collection.pk), ("refused", "CommerceInvalid")), outcomes
        with schema_context("acme"):
            assert not Collection.objects.get(pk=collection.pk).products.exists()
