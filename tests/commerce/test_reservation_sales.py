"""A checkout's reservations become a sale: units leave on hand and reserved together, one
``sold`` adjustment and one ``commerce.inventory.sold`` event per reservation; an expired
reservation is released and refused; nothing is sold twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.commerce import services
from apps.commerce.errors import (
    CommerceInvalid,
    OutOfStock,
    ReservationExpired,
    ReservationNotFound,
)
from apps.commerce.models import Reservation, StockAdjustment, StockLevel
from apps.commerce.services import ReservationLine
from apps.events.models import OutboxEvent
from tests.factories import StaffFactory

from .conftest import events_of, make_location, make_product, make_variant, outbox_head


@pytest.fixture
def stock(acme_db):
    """Two tracked variants that stop selling when out of stock, with 5 units at main and 2
    units of the first at north."""
    main, north = make_location("main", "Main"), make_location("north", "North")
    tee = make_variant(make_product("Tee"), "TEE-1")
    cap = make_variant(make_product("Cap"), "CAP-1")
    for variant, location, units in ((tee, main, 5), (cap, main, 5), (tee, north, 2)):
        services.stock_adjust(
            variant_id=variant.pk, location_id=location.pk, delta=units, reason="received"
        )
    return tee, cap, main, north


def _level(variant, location) -> tuple[int, int]:
    level = StockLevel.objects.get(variant=variant, location=location)
    return level.on_hand, level.reserved


def _reserve(reference: str, *lines: tuple, **kwargs) -> list[Reservation]:
    return services.stock_reserve(
        lines=[
            ReservationLine(variant.pk, location.pk, quantity)
            for variant, location, quantity in lines
        ],
        reference=reference,
        **kwargs,
    )


def _expire(*reservations: Reservation) -> None:
    Reservation.objects.filter(pk__in=[r.pk for r in reservations]).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )


def test_every_reservation_of_the_reference_becomes_a_sale(stock):
    tee, cap, main, north = stock
    merchant = StaffFactory()
    held = _reserve("order-7", (tee, main, 2), (cap, main, 1), (tee, north, 2))
    _reserve("someone-else", (tee, main, 1))
    head = outbox_head()

    sold = services.reservations_convert(reference=" order-7 ", actor=merchant)

    assert [(row.variant_id, row.location_id, row.delta) for row in sold] == [
        (r.variant_id, r.location_id, -r.quantity) for r in sorted(held, key=lambda r: r.pk)
    ]
    assert (_level(tee, main), _level(cap, main), _level(tee, north)) == ((3, 1), (4, 0), (0, 0))
    rows = StockAdjustment.objects.filter(reason="sold").order_by("pk")
    assert [(r.delta, r.on_hand_after, r.actor, r.note) for r in rows] == [
        (row.delta, row.on_hand_after, merchant, "order-7") for row in sold
    ]
    assert list(Reservation.objects.values_list("reference", flat=True)) == ["someone-else"]
    events = list(OutboxEvent.objects.filter(position__gt=head).order_by("position"))
    assert [event.event_type for event in events] == ["commerce.inventory.sold"] * 3
    assert all(event.actor["id"] == str(merchant.pk) for event in events)
    by_reservation = {event.payload["reservation_id"]: event for event in events}
    line = next(r for r in held if r.variant_id == tee.pk and r.location_id == main.pk)
    event = by_reservation[str(line.pk)]
    assert event.aggregate_type == "inventory" and event.aggregate_id == str(tee.pk)
    assert event.payload == {
        "variant_id": str(tee.pk), "product_id": str(tee.product_id), "location_id": main.pk,
        "reservation_id": str(line.pk), "quantity": 2, "reference": "order-7",
        "on_hand": 3, "reserved": 1,
    }  # fmt: skip

    # A second conversion finds nothing to sell.
    head = outbox_head()
    with pytest.raises(ReservationNotFound):
        services.reservations_convert(reference="order-7")
    assert _level(tee, main) == (3, 1) and outbox_head() == head


def test_two_reservations_of_one_level_sell_in_turn(stock):
    tee, _cap, main, _north = stock
    _reserve("cart", (tee, main, 1))
    _reserve("cart", (tee, main, 3))
    services.reservations_convert(reference="cart")
    assert _level(tee, main) == (1, 0)
    payloads = [event.payload for event in events_of(tee.pk, "commerce.inventory.sold")]
    assert sorted(p["quantity"] for p in payloads) == [1, 3]
    # Each event shows the level after its own sale: available (1) never changes.
    assert [p["on_hand"] - p["reserved"] for p in payloads] == [1, 1]
    assert (payloads[-1]["on_hand"], payloads[-1]["reserved"]) == (1, 0)


def test_an_expired_reservation_is_released_and_nothing_is_sold(stock):
    tee, cap, main, _north = stock
    fresh, stale = _reserve("order-8", (tee, main, 2)) + _reserve("order-8", (cap, main, 3))
    _expire(stale)
    head = outbox_head()

    with pytest.raises(ReservationExpired) as refused:
        services.reservations_convert(reference="order-8")

    assert refused.value.status == 409 and refused.value.extra == {"reference": "order-8"}
    assert _level(cap, main) == (5, 0)  # released, not sold
    assert _level(tee, main) == (5, 2)  # still held, not sold
    assert list(Reservation.objects.all()) == [fresh]
    assert not StockAdjustment.objects.filter(reason="sold").exists()
    (released,) = OutboxEvent.objects.filter(position__gt=head)
    assert released.event_type == "commerce.inventory.released"
    assert (released.payload["reservation_id"], released.payload["expired"]) == (
        str(stale.pk), True,
    )  # fmt: skip


def test_unknown_and_blank_references(stock):
    with pytest.raises(ReservationNotFound):
        services.reservations_convert(reference="never-reserved")
    with pytest.raises(CommerceInvalid) as error:
        services.reservations_convert(reference="  ")
    assert set(error.value.errors) == {"reference"}
    with pytest.raises(CommerceInvalid):
        services.reservations_convert(reference="x" * 101)


def test_stock_taken_away_meanwhile_is_not_sold_below_zero(stock):
    tee, cap, main, _north = stock
    _reserve("order-9", (cap, main, 1), (tee, main, 4))
    services.stock_adjust(variant_id=tee.pk, location_id=main.pk, delta=-3, reason="damaged")
    head = outbox_head()
    with pytest.raises(OutOfStock):
        services.reservations_convert(reference="order-9")
    assert (_level(tee, main), _level(cap, main)) == ((2, 4), (5, 1))
    assert Reservation.objects.filter(reference="order-9").count() == 2
    assert outbox_head() == head

    services.variant_update(variant_id=tee.pk, inventory_policy="continue")
    services.reservations_convert(reference="order-9")
    assert (_level(tee, main), _level(cap, main)) == ((-2, 0), (4, 0))
