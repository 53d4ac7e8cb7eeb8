"""Inventory services: adjustments (never negative unless the variant may oversell),
corrections, reservations, releases, expiry, the low-stock event and locations."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.commerce import selectors, services
from apps.commerce.errors import (
    CatalogConflict,
    CommerceInvalid,
    LocationNotFound,
    OutOfStock,
    ReservationNotFound,
    VariantNotFound,
)
from apps.commerce.models import Reservation, StockAdjustment, StockLevel
from apps.commerce.services import ReservationLine
from tests.factories import StaffFactory

from .conftest import events_of, make_location, make_product, make_variant, outbox_head


@pytest.fixture
def stock(acme_db):
    """A tracked variant that stops selling when out of stock, and two warehouses."""
    variant = make_variant(make_product(), "TEE-1")
    return variant, make_location("main", "Main"), make_location("north", "North")


def _level(variant, location) -> StockLevel:
    return StockLevel.objects.get(variant=variant, location=location)


def _inventory_events(variant, event_type=None):
    return events_of(variant.pk, event_type)


def test_an_adjustment_writes_the_level_the_ledger_and_an_event(stock):
    variant, main, _north = stock
    merchant = StaffFactory()
    level = services.stock_adjust(
        variant_id=variant.pk, location_id=main.pk, delta=10, reason="received",
        note="Pallet 7", actor=merchant,
    )  # fmt: skip
    assert (level.on_hand, level.reserved) == (10, 0)
    (row,) = StockAdjustment.objects.filter(variant=variant)
    assert (row.delta, row.reason, row.on_hand_after, row.actor, row.note) == (
        10, "received", 10, merchant, "Pallet 7",
    )  # fmt: skip
    (event,) = _inventory_events(variant, "commerce.inventory.adjusted")
    assert event.aggregate_type == "inventory"
    assert event.actor["id"] == str(merchant.pk)
    assert event.payload == {
        "variant_id": str(variant.pk), "product_id": str(variant.product_id),
        "location_id": main.pk, "delta": 10, "reason": "received", "on_hand": 10, "reserved": 0,
    }  # fmt: skip


def test_stock_never_goes_negative_for_a_variant_that_may_not_oversell(stock):
    variant, main, _north = stock
    services.stock_adjust(variant_id=variant.pk, location_id=main.pk, delta=2, reason="received")
    head = outbox_head()
    with pytest.raises(OutOfStock):
        services.stock_adjust(variant_id=variant.pk, location_id=main.pk, delta=-3, reason="sold")
    with pytest.raises(OutOfStock):
        services.stock_set(variant_id=variant.pk, location_id=main.pk, on_hand=-1)
    assert _level(variant, main).on_hand == 2
    assert StockAdjustment.objects.filter(variant=variant).count() == 1
    assert outbox_head() == head
    services.stock_adjust(variant_id=variant.pk, location_id=main.pk, delta=-2, reason="damaged")
    assert _level(variant, main).on_hand == 0


@pytest.mark.parametrize(
    "policy", [{"inventory_policy": "continue"}, {"tracked": False}], ids=["continue", "untracked"]
)
def test_stock_may_go_negative_when_the_variant_may_oversell(stock, policy):
    variant, main, _north = stock
    services.variant_update(variant_id=variant.pk, **policy)
    level = services.stock_adjust(
        variant_id=variant.pk, location_id=main.pk, delta=-3, reason="sold"
    )
    assert level.on_hand == -3
    assert StockAdjustment.objects.get(variant=variant).on_hand_after == -3


@pytest.mark.parametrize(
    ("delta", "reason", "field"),
    [
        (0, "correction", "delta"),
        (1.5, "received", "delta"),
        (True, "received", "delta"),
        ("3", "received", "delta"),
        (10**10, "received", "delta"),
        (5, "stolen", "reason"),
        (-5, "received", "delta"),
        (-5, "returned", "delta"),
        (5, "sold", "delta"),
        (5, "damaged", "delta"),
    ],
)
def test_adjustment_validation(stock, delta, reason, field):
    variant, main, _north = stock
    with pytest.raises(CommerceInvalid) as error:
        services.stock_adjust(
            variant_id=variant.pk, location_id=main.pk, delta=delta, reason=reason
        )
    assert field in error.value.errors


def test_adjustments_need_a_real_variant_and_location(stock):
    variant, main, _north = stock
    with pytest.raises(VariantNotFound):
        services.stock_adjust(
            variant_id=uuid.uuid4(), location_id=main.pk, delta=1, reason="received"
        )
    with pytest.raises(VariantNotFound):
        services.stock_adjust(variant_id="nope", location_id=main.pk, delta=1, reason="received")
    with pytest.raises(LocationNotFound):
        services.stock_adjust(variant_id=variant.pk, location_id=999999, delta=1, reason="received")
    with pytest.raises(LocationNotFound):
        services.stock_adjust(variant_id=variant.pk, location_id="1", delta=1, reason="received")
    with pytest.raises(CommerceInvalid):
        services.stock_adjust(
            variant_id=variant.pk, location_id=main.pk, delta=1, reason="received", note="x" * 501
        )


def test_stock_set_corrects_to_an_absolute_value(stock):
    variant, main, _north = stock
    services.stock_set(variant_id=variant.pk, location_id=main.pk, on_hand=7, note="count")
    services.stock_set(variant_id=variant.pk, location_id=main.pk, on_hand=4)
    head = outbox_head()
    services.stock_set(variant_id=variant.pk, location_id=main.pk, on_hand=4)  # already
    assert outbox_head() == head
    rows = list(StockAdjustment.objects.filter(variant=variant).order_by("id"))
    assert [(r.delta, r.reason, r.on_hand_after) for r in rows] == [
        (7, "correction", 7), (-3, "correction", 4),
    ]  # fmt: skip
    assert [r.on_hand for r in selectors.stock_levels(variant_id=variant.pk)] == [4]


def test_reservations_hold_available_stock(stock):
    variant, main, north = stock
    services.stock_adjust(variant_id=variant.pk, location_id=main.pk, delta=5, reason="received")
    (held,) = services.stock_reserve(
        lines=[ReservationLine(variant.pk, main.pk, 3)], reference="checkout-1"
    )
    assert (_level(variant, main).on_hand, _level(variant, main).reserved) == (5, 3)
    assert selectors.available_by_variant([variant.pk]) == {variant.pk: 2}
    with pytest.raises(OutOfStock) as refused:
        services.stock_reserve(lines=[ReservationLine(variant.pk, main.pk, 3)], reference="c-2")
    assert refused.value.extra == {"sku": "TEE-1", "available": 2}
    # Nothing at the other location.
    with pytest.raises(OutOfStock):
        services.stock_reserve(lines=[ReservationLine(variant.pk, north.pk, 1)], reference="c-2")
    (event,) = _inventory_events(variant, "commerce.inventory.reserved")
    assert event.payload == {
        "variant_id": str(variant.pk), "product_id": str(variant.product_id),
        "location_id": main.pk, "reservation_id": str(held.pk), "quantity": 3,
        "reference": "checkout-1", "reserved": 3,
    }  # fmt: skip
    services.reservation_release(reservation_id=held.pk)
    assert _level(variant, main).reserved == 0
    (released,) = _inventory_events(variant, "commerce.inventory.released")
    assert (released.payload["quantity"], released.payload["expired"]) == (3, False)
    with pytest.raises(ReservationNotFound):
        services.reservation_release(reservation_id=held.pk)


def test_a_reservation_is_all_lines_or_none(acme_db):
    main = make_location()
    first = make_variant(make_product("A"))
    second = make_variant(make_product("B"))
    services.stock_adjust(variant_id=first.pk, location_id=main.pk, delta=5, reason="received")
    services.stock_adjust(variant_id=second.pk, location_id=main.pk, delta=1, reason="received")
    head = outbox_head()
    with pytest.raises(OutOfStock):
        services.stock_reserve(
            lines=[ReservationLine(first.pk, main.pk, 2), ReservationLine(second.pk, main.pk, 2)],
            reference="cart",
        )
    assert not Reservation.objects.exists()
    assert _level(first, main).reserved == 0
    assert outbox_head() == head
    made = services.stock_reserve(
        lines=[ReservationLine(first.pk, main.pk, 2), ReservationLine(second.pk, main.pk, 1)],
        reference="cart",
    )
    assert [r.quantity for r in made] == [2, 1]
    assert list(selectors.reservations(reference="cart")) == sorted(
        made, key=lambda r: r.expires_at
    )


def test_variants_that_may_oversell_reserve_past_zero(stock):
    variant, main, _north = stock
    services.variant_update(variant_id=variant.pk, inventory_policy="continue")
    services.stock_reserve(lines=[ReservationLine(variant.pk, main.pk, 4)], reference="pre-order")
    assert _level(variant, main).available == -4


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"reference": ""}, "reference"),
        ({"reference": "x" * 101}, "reference"),
        ({"lines": []}, "lines"),
        ({"quantity": 0}, "lines.0.quantity"),
        ({"quantity": -1}, "lines.0.quantity"),
        ({"expires_at": "past"}, "expires_at"),
    ],
)
def test_reservation_validation(stock, kwargs, field):
    variant, main, _north = stock
    args = {
        "lines": [ReservationLine(variant.pk, main.pk, kwargs.pop("quantity", 1))],
        "reference": "r",
    }
    if kwargs.pop("expires_at", None):
        args["expires_at"] = timezone.now() - timedelta(seconds=1)
    args.update(kwargs)
    with pytest.raises(CommerceInvalid) as error:
        services.stock_reserve(**args)
    assert field in error.value.errors


def test_an_inactive_location_takes_no_reservation(stock):
    variant, main, _north = stock
    services.stock_adjust(variant_id=variant.pk, location_id=main.pk, delta=5, reason="received")
    services.location_update(location_id=main.pk, active=False)
    with pytest.raises(CommerceInvalid) as error:
        services.stock_reserve(lines=[ReservationLine(variant.pk, main.pk, 1)], reference="r")
    assert set(error.value.errors) == {"location"}


def test_expired_reservations_are_released(stock):
    variant, main, _north = stock
    services.stock_adjust(variant_id=variant.pk, location_id=main.pk, delta=3, reason="received")
    soon = timezone.now() + timedelta(minutes=1)
    (short,) = services.stock_reserve(
        lines=[ReservationLine(variant.pk, main.pk, 2)], reference="a", expires_at=soon
    )
    (long,) = services.stock_reserve(
        lines=[ReservationLine(variant.pk, main.pk, 1)], reference="b", ttl=timedelta(hours=1)
    )
    assert services.reservations_expire() == 0
    assert services.reservations_expire(now=soon + timedelta(seconds=1)) == 1
    assert list(Reservation.objects.all()) == [long]
    assert _level(variant, main).reserved == 1
    (event,) = _inventory_events(variant, "commerce.inventory.released")
    assert (event.payload["reservation_id"], event.payload["expired"]) == (str(short.pk), True)


def test_a_reservation_past_its_time_does_not_hold_stock_back(stock):
    variant, main, _north = stock
    services.stock_adjust(variant_id=variant.pk, location_id=main.pk, delta=1, reason="received")
    (stale,) = services.stock_reserve(
        lines=[ReservationLine(variant.pk, main.pk, 1)], reference="a"
    )
    Reservation.objects.filter(pk=stale.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    (fresh,) = services.stock_reserve(
        lines=[ReservationLine(variant.pk, main.pk, 1)], reference="b"
    )
    assert list(Reservation.objects.all()) == [fresh]
    assert _level(variant, main).reserved == 1


def test_the_low_stock_event_fires_once_on_the_crossing(stock):
    variant, main, north = stock
    services.variant_update(variant_id=variant.pk, low_stock_threshold=5)

    def adjust(delta, location=main, reason=None):
        services.stock_adjust(
            variant_id=variant.pk, location_id=location.pk, delta=delta,
            reason=reason or ("received" if delta > 0 else "sold"),
        )  # fmt: skip

    def lows():
        return [
            e.payload["available"] for e in _inventory_events(variant, "commerce.inventory.low")
        ]

    adjust(4)  # 0 -> 4: below from the start, no crossing
    assert lows() == []
    adjust(4, north)  # 4 -> 8 (both locations count)
    adjust(-3)  # 8 -> 5: not below yet
    assert lows() == []
    adjust(-1, north)  # 5 -> 4: crossed
    assert lows() == [4]
    adjust(-2, north)  # 4 -> 2: still below, no new event
    assert lows() == [4]
    services.stock_reserve(lines=[ReservationLine(variant.pk, north.pk, 1)], reference="r")
    assert lows() == [4]  # 2 -> 1
    adjust(6)  # 1 -> 7: back above
    (held,) = services.stock_reserve(
        lines=[ReservationLine(variant.pk, main.pk, 3)], reference="r2"
    )  # 7 -> 4: a reservation crosses too
    assert lows() == [4, 4]
    services.reservation_release(reservation_id=held.pk)  # back to 7
    services.stock_set(variant_id=variant.pk, location_id=main.pk, on_hand=1)  # 7 -> 1
    assert lows() == [4, 4, 1]
    (event,) = _inventory_events(variant, "commerce.inventory.low")[-1:]
    assert event.payload == {
        "variant_id": str(variant.pk), "product_id": str(variant.product_id), "sku": "TEE-1",
        "available": 1, "threshold": 5,
    }  # fmt: skip


def test_no_low_stock_event_without_a_threshold_or_tracking(stock):
    variant, main, _north = stock
    services.stock_adjust(variant_id=variant.pk, location_id=main.pk, delta=3, reason="received")
    services.stock_adjust(variant_id=variant.pk, location_id=main.pk, delta=-3, reason="sold")
    services.variant_update(variant_id=variant.pk, tracked=False, low_stock_threshold=2)
    services.stock_adjust(variant_id=variant.pk, location_id=main.pk, delta=3, reason="received")
    services.stock_adjust(variant_id=variant.pk, location_id=main.pk, delta=-3, reason="sold")
    assert _inventory_events(variant, "commerce.inventory.low") == []


# -- locations ------------------------------------------------------------------------------


def test_locations_codes_and_validation(acme_db):
    main = make_location("Main WH", "Main")
    assert main.code == "main-wh"
    (created,) = events_of(main.pk, "commerce.location.created")
    assert created.payload == {"location_id": main.pk, "code": "main-wh", "active": True}
    with pytest.raises(CommerceInvalid):
        make_location("main-wh", "Again")
    for kwargs, field in (
        ({"code": "", "name": "x"}, "code"),
        ({"code": "ok", "name": ""}, "name"),
        ({"code": "ok", "name": "x" * 121}, "name"),
        ({"code": "ok", "name": "x", "active": "yes"}, "active"),
    ):
        with pytest.raises(CommerceInvalid) as error:
            services.location_create(**kwargs)
        assert field in error.value.errors
    updated = services.location_update(location_id=main.pk, active=False, name="Old main")
    assert (updated.active, updated.name) == (False, "Old main")
    (event,) = events_of(main.pk, "commerce.location.updated")
    assert (event.payload["changed"], event.payload["active"]) == (["name", "active"], False)


def test_a_location_with_stock_history_is_not_deleted(stock):
    variant, main, north = stock
    services.stock_adjust(variant_id=variant.pk, location_id=main.pk, delta=1, reason="received")
    with pytest.raises(CatalogConflict):
        services.location_delete(location_id=main.pk)
    services.location_delete(location_id=north.pk)
    assert [loc.code for loc in selectors.locations()] == ["main"]
    with pytest.raises(LocationNotFound):
        services.location_delete(location_id=north.pk)


def test_products_with_reserved_stock_are_not_deleted(stock):
    variant, main, _north = stock
    services.stock_adjust(variant_id=variant.pk, location_id=main.pk, delta=1, reason="received")
    (held,) = services.stock_reserve(lines=[ReservationLine(variant.pk, main.pk, 1)], reference="r")
    with pytest.raises(CatalogConflict):
        services.product_delete(product_id=variant.product_id)
    with pytest.raises(CatalogConflict):
        services.variant_delete(variant_id=variant.pk)
    services.reservation_release(reservation_id=held.pk)
    services.variant_delete(variant_id=variant.pk)
    assert not StockAdjustment.objects.filter(variant_id=variant.pk).exists()


def test_the_periodic_task_expires_reservations_of_every_tenant(stock):
    from apps.commerce.tasks import expire_reservations

    variant, main, _north = stock
    services.stock_adjust(variant_id=variant.pk, location_id=main.pk, delta=2, reason="received")
    (held,) = services.stock_reserve(lines=[ReservationLine(variant.pk, main.pk, 2)], reference="a")
    assert expire_reservations() == 0
    assert expire_reservations(now=held.expires_at + timedelta(seconds=1)) == 1
    assert _level(variant, main).reserved == 0
    assert expire_reservations(now=held.expires_at + timedelta(seconds=2)) == 0


@pytest.mark.parametrize("cart_size", [1, 12])
def test_a_reservation_costs_one_outbox_row_per_line_and_nothing_else_per_line(
    acme_db, django_assert_num_queries, cart_size
):
    main = make_location()
    variants = [make_variant(make_product(f"Item {n}"), f"ITEM-{n}") for n in range(cart_size)]
    for variant in variants:
        services.stock_adjust(
            variant_id=variant.pk, location_id=main.pk, delta=5, reason="received"
        )
    lines = [ReservationLine(variant.pk, main.pk, 2) for variant in variants]
    # savepoint, lock variants, share locations, ensure levels, lock levels, stale reservations,
    # update levels, insert reservations, mark the due expiry, release savepoint: 10, then one
    # outbox row per line.
    with django_assert_num_queries(10 + cart_size):
        made = services.stock_reserve(lines=lines, reference="big-cart")
    assert len(made) == cart_size
    assert selectors.available_by_variant([v.pk for v in variants]) == {v.pk: 3 for v in variants}
    assert Reservation.objects.filter(reference="big-cart").count() == cart_size


def test_available_stock_of_many_variants_is_one_query(acme_db, django_assert_num_queries):
    main, north = make_location(), make_location("north", "North")
    variants = [make_variant(make_product(f"Thing {n}"), f"THING-{n}") for n in range(8)]
    for number, variant in enumerate(variants):
        for location in (main, north):
            services.stock_adjust(
                variant_id=variant.pk, location_id=location.pk, delta=number + 1, reason="received"
            )
    with django_assert_num_queries(1):
        available = selectors.available_by_variant([v.pk for v in variants])
    assert available == {v.pk: 2 * (n + 1) for n, v in enumerate(variants)}
