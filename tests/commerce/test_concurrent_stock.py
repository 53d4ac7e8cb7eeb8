"""Stock under real concurrency: threads with their own database connections, released
together behind a barrier, on committed data.

Without the row locks (and the availability check under them) two checkouts could both
take the last unit; without the primary-key lock order, two checkouts reserving the same
variants in opposite orders could deadlock.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.commerce import services
from apps.commerce.models import Location, Product, Reservation, StockLevel, Variant
from apps.commerce.services import ProductInput, ReservationLine, VariantInput
from apps.events.models import OutboxEvent

from .concurrency import race

ROUNDS = 4  # a fresh race each round: a lost update shows in any of them


@pytest.fixture
def committed(live_db):
    """Products and a location made here are committed; they go afterwards."""
    with schema_context("acme"):
        location = services.location_create(code="race", name="Race warehouse")
    made: list[Product] = []
    yield location, made
    with schema_context("acme"):
        Reservation.objects.filter(location=location).delete()
        Product.objects.filter(pk__in=[product.pk for product in made]).delete()
        Location.objects.filter(pk=location.pk).delete()
    connection.set_schema_to_public()


def _variant_with_stock(made, name: str, on_hand: int, location, **fields) -> Variant:
    with schema_context("acme"):
        product = services.product_create(data=ProductInput(title=name))
        made.append(product)
        variant = services.variant_create(
            product_id=product.pk, data=VariantInput(sku=name.upper(), **fields)
        )
        services.stock_adjust(
            variant_id=variant.pk, location_id=location.pk, delta=on_hand, reason="received"
        )
    return variant


def _level(variant, location) -> StockLevel:
    with schema_context("acme"):
        return StockLevel.objects.get(variant=variant, location=location)


def _events(variant, event_type: str) -> list[OutboxEvent]:
    return list(OutboxEvent.objects.filter(aggregate_id=str(variant.pk), event_type=event_type))


def test_two_reservations_for_the_last_unit_one_wins(committed):
    location, made = committed
    for round_ in range(ROUNDS):
        variant = _variant_with_stock(made, f"last-unit-{round_}", 1, location)

        def reserve(reference: str, variant=variant) -> list[Reservation]:
            return services.stock_reserve(
                lines=[ReservationLine(variant.pk, location.pk, 1)], reference=reference
            )

        outcomes = race([lambda: reserve("first"), lambda: reserve("second")])
        assert sorted(outcome[0] for outcome in outcomes) == ["ok", "refused"], outcomes
        assert ("refused", "OutOfStock") in outcomes
        level = _level(variant, location)
        assert (level.on_hand, level.reserved) == (1, 1)
        with schema_context("acme"):
            assert Reservation.objects.filter(variant=variant).count() == 1
        assert len(_events(variant, "commerce.inventory.reserved")) == 1


def test_two_sales_of_the_last_unit_one_wins(committed):
    location, made = committed
    for round_ in range(ROUNDS):
        variant = _variant_with_stock(made, f"last-sale-{round_}", 1, location)

        def sell(variant=variant):
            return services.stock_adjust(
                variant_id=variant.pk, location_id=location.pk, delta=-1, reason="sold"
            ).on_hand

        outcomes = race([sell, sell])
        assert sorted(outcomes) == [("ok", 0), ("refused", "OutOfStock")], outcomes
        assert _level(variant, location).on_hand == 0
        assert len(_events(variant, "commerce.inventory.adjusted")) == 2  # received, one sale


def test_concurrent_sales_cross_the_low_threshold_once(committed):
    location, made = committed
    for round_ in range(ROUNDS):
        variant = _variant_with_stock(made, f"low-{round_}", 6, location, low_stock_threshold=5)

        def sell(variant=variant):
            return services.stock_adjust(
                variant_id=variant.pk, location_id=location.pk, delta=-1, reason="sold"
            ).on_hand

        outcomes = race([sell, sell])
        assert sorted(outcomes) == [("ok", 4), ("ok", 5)], outcomes
        (low,) = _events(variant, "commerce.inventory.low")
        assert low.payload["available"] == 4


def test_reservations_in_opposite_orders_do_not_deadlock(committed):
    location, made = committed
    for round_ in range(ROUNDS):
        first = _variant_with_stock(made, f"pair-a-{round_}", 10, location)
        second = _variant_with_stock(made, f"pair-b-{round_}", 10, location)

        def reserve(variants: list[Variant], reference: str) -> int:
            lines = [ReservationLine(variant.pk, location.pk, 1) for variant in variants]
            return len(services.stock_reserve(lines=lines, reference=reference))

        outcomes = race(
            [
                lambda pair=(first, second): reserve(list(pair), "ab"),
                lambda pair=(second, first): reserve(list(pair), "ba"),
            ]
        )
        assert outcomes == [("ok", 2), ("ok", 2)], outcomes
        assert _level(first, location).reserved == _level(second, location).reserved == 2


def test_a_sale_and_the_expiry_of_its_reservation_race_one_wins(committed):
    """The expiry sweep sees the reservation as due (its clock is an hour ahead), the sale sees
    it as valid: whichever takes the locks first wins, the other finds nothing left."""
    location, made = committed
    for round_ in range(ROUNDS):
        variant = _variant_with_stock(made, f"sale-or-expiry-{round_}", 1, location)
        reference = f"checkout-{round_}"
        with schema_context("acme"):
            services.stock_reserve(
                lines=[ReservationLine(variant.pk, location.pk, 1)], reference=reference
            )
        later = timezone.now() + timedelta(hours=1)

        def sell(reference=reference):
            return [row.delta for row in services.reservations_convert(reference=reference)]

        def expire(later=later):
            return services.reservations_expire(now=later)

        outcomes = race([sell, expire])
        sold = len(_events(variant, "commerce.inventory.sold"))
        released = len(_events(variant, "commerce.inventory.released"))
        if outcomes[0] == ("ok", [-1]):
            assert outcomes[1] == ("ok", 0), outcomes
            assert (_level(variant, location).on_hand, sold, released) == (0, 1, 0)
        else:
            assert outcomes == [("refused", "ReservationNotFound"), ("ok", 1)], outcomes
            assert (_level(variant, location).on_hand, sold, released) == (1, 0, 1)
        assert _level(variant, location).reserved == 0
        with schema_context("acme"):
            assert not Reservation.objects.filter(variant=variant).exists()


def test_two_conversions_of_one_checkout_sell_once(committed):
    location, made = committed
    for round_ in range(ROUNDS):
        variant = _variant_with_stock(made, f"double-sale-{round_}", 3, location)
        reference = f"double-{round_}"
        with schema_context("acme"):
            services.stock_reserve(
                lines=[ReservationLine(variant.pk, location.pk, 2)], reference=reference
            )

        def sell(reference=reference):
            return [row.on_hand_after for row in services.reservations_convert(reference=reference)]

        outcomes = race([sell, sell])
        assert sorted(outcomes) == [("ok", [1]), ("refused", "ReservationNotFound")], outcomes
        level = _level(variant, location)
        assert (level.on_hand, level.reserved) == (1, 0)
        assert len(_events(variant, "commerce.inventory.sold")) == 1
