"""Commerce's event schemas refuse what the services must never publish."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from apps.commerce import events
from apps.events.errors import EventValidationError
from apps.events.schema import known_event_types, load

PRODUCT = uuid.uuid4()
VARIANT = uuid.uuid4()


def _price(**changes):
    data = {
        "product_id": PRODUCT, "version": 3, "variant_id": VARIANT, "currency": "usd",
        "amount": Decimal("10.00"), "compare_at_amount": Decimal("12.50"),
    }  # fmt: skip
    return events.PriceSet(**{**data, **changes})


def test_amounts_travel_as_strings_and_load_back_as_decimals():
    event = _price()
    payload = event.payload()
    assert (payload["amount"], payload["compare_at_amount"], payload["currency"]) == (
        "10.00", "12.50", "USD",
    )  # fmt: skip
    loaded = load("commerce.price.set", 1, payload)
    assert loaded.amount == Decimal("10.00") and isinstance(loaded.amount, Decimal)


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: _price(currency="XYZ"), "currency"),
        (lambda: _price(amount=Decimal("-1")), "amount"),
        (lambda: _price(compare_at_amount=Decimal("10.00")), "compare_at_amount"),
        (lambda: _price(product_id=uuid.UUID(int=0)), "product_id"),
        (lambda: _price(version=0), "version"),
        (
            lambda: events.StoreSettingsUpdated(
                store_id=1, default_currency="EUR", enabled_currencies=["USD"], version=2
            ),
            "default_currency",
        ),
        (
            lambda: events.StoreSettingsUpdated(
                store_id=1, default_currency="USD", enabled_currencies=[], version=2
            ),
            "enabled_currencies",
        ),
        (
            lambda: events.InventoryAdjusted(
                variant_id=VARIANT, product_id=PRODUCT, location_id=1, delta=0,
                reason="correction", on_hand=1, reserved=0,
            ),
            "delta",
        ),
        (
            lambda: events.InventoryAdjusted(
                variant_id=VARIANT, product_id=PRODUCT, location_id=1, delta=1,
                reason="received", on_hand=1, reserved=-1,
            ),
            "reserved",
        ),
        (
            lambda: events.InventoryLow(
                variant_id=VARIANT, product_id=PRODUCT, sku="X", available=5, threshold=5
            ),
            "available",
        ),
        (
            lambda: events.InventoryReserved(
                variant_id=VARIANT, product_id=PRODUCT, location_id=1,
                reservation_id=uuid.uuid4(), quantity=0, reference="r", reserved=0,
            ),
            "quantity",
        ),
        (
            lambda: events.ProductActivated(
                product_id=PRODUCT, version=2, from_status="active", to_status="active"
            ),
            "to_status",
        ),
        (lambda: events.ProductUpdated(product_id=PRODUCT, version=2, changed=[]), "changed"),
        (lambda: events.ProductCreated(product_id=PRODUCT, version=1, handle="Not A Slug"), "handle"),
    ],
)  # fmt: skip
def test_invalid_events_are_refused(make, field):
    with pytest.raises(EventValidationError) as error:
        make()
    assert error.value.field == field


def test_every_commerce_event_type_is_registered():
    commerce = {name for name in known_event_types() if name.startswith("commerce.")}
    assert commerce >= {
        "commerce.product.created", "commerce.product.updated", "commerce.product.deleted",
        "commerce.product.activated", "commerce.product.archived", "commerce.product.drafted",
        "commerce.variant.created", "commerce.variant.updated", "commerce.variant.deleted",
        "commerce.price.set", "commerce.price.deleted", "commerce.inventory.adjusted",
        "commerce.inventory.reserved", "commerce.inventory.released", "commerce.inventory.low",
        "commerce.inventory.sold",
        "commerce.collection.created", "commerce.collection.updated",
        "commerce.collection.deleted", "commerce.category.created",
        "commerce.category.updated", "commerce.category.deleted", "commerce.location.created",
        "commerce.location.updated", "commerce.location.deleted", "commerce.store.updated",
    }  # fmt: skip
