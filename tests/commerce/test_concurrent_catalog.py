"""Catalog writes racing each other on committed data: the outcome is always a consistent
catalog and, for the loser, a clear refusal (never a deadlock or an integrity error)."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections, transaction
from django_tenants.utils import schema_context

from apps.commerce import selectors, services
from apps.commerce.models import Category, Collection, Product, StoreSettings
from apps.commerce.services import ProductInput, VariantInput
from apps.core.errors import PlatformError
from tests.locks import lock_waiters

from .concurrency import race

ROUNDS = 4
WAIT_SECONDS = 10


@pytest.fixture
def cleanup(live_db):
    """Rows made here are committed; they go afterwards."""
    yield
    with schema_context("acme"):
        Collection.objects.all().delete()
        Product.objects.all().delete()
        Category.objects.update(parent=None)  # whatever shape a failed run left
        Category.objects.all().delete()
        StoreSettings.objects.all().delete()
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


def test_a_new_default_currency_waits_for_an_activation_in_progress(cleanup):
    """In a fixed order: an activation (checked against USD, the product priced in USD only)
    has not committed yet when EUR is made the default. The change must wait for it and then
    refuse, not check the product as the draft it still was and leave it active unpriced."""
    with schema_context("acme"):
        services.store_settings_update(default_currency="USD", enabled_currencies=["USD", "EUR"])
        product = services.product_create(data=ProductInput(title="Racer"))
        variant = services.variant_create(product_id=product.pk, data=VariantInput(sku="RACER"))
        services.price_set(variant_id=variant.pk, currency="USD", amount="5")
    activated, release = threading.Event(), threading.Event()
    outcomes: dict[str, str] = {}

    def activate() -> None:
        try:
            with schema_context("acme"), transaction.atomic():
                services.product_transition(product_id=product.pk, action="activate")
                activated.set()
                release.wait(WAIT_SECONDS)
            outcomes["activate"] = "ok"
        finally:
            connections.close_all()

    def change_default() -> None:
        try:
            with schema_context("acme"):
                services.store_settings_update(default_currency="EUR")
            outcomes["settings"] = "ok"
        except PlatformError as refused:
            outcomes["settings"] = type(refused).__name__
        finally:
            connections.close_all()

    activating = threading.Thread(target=activate)
    changing = threading.Thread(target=change_default)
    activating.start()
    assert activated.wait(WAIT_SECONDS)
    changing.start()
    deadline = time.monotonic() + WAIT_SECONDS
    while changing.is_alive() and not lock_waiters():  # queued behind the activation
        assert time.monotonic() < deadline
        time.sleep(0.01)
    release.set()
    for thread in (activating, changing):
        thread.join(timeout=30)
        assert not thread.is_alive()

    assert outcomes == {"activate": "ok", "settings": "CommerceInvalid"}
    with schema_context("acme"):
        assert Product.objects.get(pk=product.pk).status == "active"
        assert selectors.store_settings().default_currency == "USD"
    connection.set_schema_to_public()
