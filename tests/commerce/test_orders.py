"""Orders: placing one, its stream and projection, the transitions' guards, stock returned
on cancel, the append-only stream, reading the past."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import translation

from apps.commerce import orders, selectors
from apps.commerce.errors import (
    CommerceInvalid,
    OrderAlreadyPlaced,
    OrderNotFound,
    OrderVersionConflict,
)
from apps.commerce.models import Order, OrderEvent, OrderLine, StockLevel
from apps.commerce.order_state import fold
from apps.core.errors import InvalidTransition

from . import conftest as support
from .order_factories import line_draft, order_draft, place

pytestmark = pytest.mark.usefixtures("acme_db")


@pytest.fixture
def stocked():
    """A variant with 10 units at a location."""
    _product, variant = support.priced_product()
    location = support.make_location()
    support.services.stock_adjust(
        variant_id=variant.pk, location_id=location.pk, delta=10, reason="received"
    )
    return variant, location


def _on_hand(variant, location) -> int:
    return StockLevel.objects.get(variant=variant, location=location).on_hand


# -- placing ---------------------------------------------------------------------------


def test_an_order_is_placed_as_its_first_event_its_rows_and_the_outbox(stocked):
    variant, location = stocked
    head = support.outbox_head()
    order = place(variant, location, lines=2)
    order.refresh_from_db()
    assert (order.status, order.payment_status, order.version) == ("pending", "unpaid", 1)
    assert (order.subtotal, order.tax, order.total) == (
        Decimal("40.00"), Decimal("7.18"), Decimal("45.00"),
    )  # fmt: skip
    assert [line.sku for line in order.lines.all()] == [variant.sku, variant.sku]
    assert order.lines.first().allocations == [[location.pk, 2]]
    [event] = OrderEvent.objects.filter(order_id=order.pk)
    assert (event.type, event.version) == ("commerce.order.placed", 1)
    assert event.payload["number"] == order.number
    [published] = support.events_of(order.pk)
    assert published.position > head
    assert (published.event_type, published.aggregate_type, published.aggregate_version) == (
        "commerce.order.placed", "order", 1,
    )  # fmt: skip
    assert published.payload == event.payload


def test_numbers_follow_each_other_per_tenant(stocked):
    variant, location = stocked
    first = place(variant, location)
    second = place(variant, location)
    assert second.number == first.number + 1
    assert first.number >= 1001


def test_a_checkout_is_placed_once(stocked):
    variant, location = stocked
    draft = order_draft([line_draft(variant, location=location)])
    with transaction.atomic():
        first = orders.order_create(draft)
    with pytest.raises(OrderAlreadyPlaced) as refused, transaction.atomic():
        orders.order_create(draft)
    assert refused.value.extra["order_id"] == str(first.pk)
    assert Order.objects.filter(checkout_reference=draft.checkout_reference).count() == 1
    assert OrderEvent.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"total": Decimal("44.99")}, "total"),
        ({"subtotal": Decimal("41.00")}, "subtotal"),
        ({"tax": Decimal("1.00")}, "tax"),
        ({"discount": Decimal("1.00")}, "discount"),
        ({"currency": "ZZZ"}, "currency"),
        ({"email": "not an email"}, "email"),
        ({"locale": "xx"}, "locale"),
        ({"checkout_reference": " "}, "checkout_reference"),
        ({"shipping_address": {"planet": "Mars"}}, "shipping_address"),
        ({"lines": ()}, "lines"),
        ({"shipping_price": Decimal("5.001")}, "shipping_price"),
    ],
)
def test_a_draft_that_does_not_add_up_is_refused_naming_the_field(stocked, change, field):
    variant, location = stocked
    draft = replace(order_draft([line_draft(variant, location=location)] * 2), **change)
    with pytest.raises(CommerceInvalid) as refused, transaction.atomic():
        orders.order_create(draft)
    assert field in refused.value.errors
    assert not Order.objects.exists() and not OrderEvent.objects.exists()


def test_a_line_that_does_not_add_up_is_named_by_its_position(stocked):
    variant, location = stocked
    good = line_draft(variant, location=location)
    bad = replace(good, total=good.total + 1)
    draft = order_draft([good, bad])
    with pytest.raises(CommerceInvalid) as refused, transaction.atomic():
        orders.order_create(draft)
    assert list(refused.value.errors) == ["lines.1.total"]


def test_net_prices_add_the_tax_to_the_line(stocked):
    variant, location = stocked
    line = replace(line_draft(variant, location=location), tax=Decimal("3.80"))
    line = replace(line, total=Decimal("23.80"))
    draft = order_draft([line], prices_include_tax=False)
    with transaction.atomic():
        order = orders.order_create(draft)
    assert order.total == Decimal("28.80")


# -- transitions -------------------------------------------------------------------------


def test_the_whole_life_of_an_order(stocked, clock):
    variant, location = stocked
    order = place(variant, location)
    order = orders.order_confirm(order_id=order.pk, expected_version=1)
    order = orders.order_mark_paid(order_id=order.pk, reference="pay-1", amount=order.total)
    order = orders.order_ship(order_id=order.pk, carrier="DHL", tracking_number="00340434")
    order = orders.order_deliver(order_id=order.pk)
    order = orders.order_refund(order_id=order.pk, amount=Decimal("5.00"), reason="late")
    assert (order.status, order.payment_status, order.version) == (
        "delivered", "partially_refunded", 6,
    )  # fmt: skip
    order = orders.order_refund(order_id=order.pk, amount=Decimal("20.00"))
    assert (order.status, order.payment_status, order.refunded_amount) == (
        "refunded", "refunded", Decimal("25.00"),
    )  # fmt: skip
    assert support.event_types(order.pk) == [
        "commerce.order.placed", "commerce.order.confirmed", "commerce.order.paid",
        "commerce.order.shipped", "commerce.order.delivered", "commerce.order.refunded",
        "commerce.order.refunded",
    ]  # fmt: skip
    history = selectors.order_history(order.pk)
    assert [entry.version for entry in history] == [1, 2, 3, 4, 5, 6, 7]
    assert [entry.occurred_at for entry in history] == sorted(
        {entry.occurred_at for entry in history}
    )
    assert fold(selectors.order_stream(order.pk)).row_values() == _row(order.pk)


def _row(order_id) -> dict:
    return Order.objects.filter(pk=order_id).values().get()


def test_a_card_payment_is_marked_in_the_transaction_that_places_the_order(stocked):
    variant, location = stocked
    draft = order_draft([line_draft(variant, location=location)], payment_provider="test_card")
    with transaction.atomic():
        order = orders.order_create(draft)
        order = orders.order_mark_paid(order_id=order.pk, reference="ch_1", amount=draft.total)
    order.refresh_from_db()
    assert (order.status, order.payment_status, order.paid_amount) == (
        "paid", "paid", draft.total,
    )  # fmt: skip
    assert support.event_types(order.pk) == ["commerce.order.placed", "commerce.order.paid"]


def test_payment_needs_a_reference_and_the_total(stocked):
    variant, location = stocked
    order = place(variant, location)
    with pytest.raises(CommerceInvalid) as refused:
        orders.order_mark_paid(order_id=order.pk, reference=" ", amount=order.total)
    assert "reference" in refused.value.errors
    with pytest.raises(CommerceInvalid) as refused:
        orders.order_mark_paid(order_id=order.pk, reference="x", amount=order.total - 1)
    assert "is not the order's total of 25.00 USD" in refused.value.errors["amount"]
    order.refresh_from_db()
    assert (order.status, order.version) == ("pending", 1)


def test_shipping_needs_a_carrier_and_a_tracking_number(stocked):
    variant, location = stocked
    order = place(variant, location)
    orders.order_mark_paid(order_id=order.pk, reference="x", amount=order.total)
    with pytest.raises(CommerceInvalid) as refused:
        orders.order_ship(order_id=order.pk, carrier="DHL", tracking_number="")
    assert list(refused.value.errors) == ["tracking_number"]
    with translation.override("de"), pytest.raises(CommerceInvalid) as refused:
        orders.order_ship(order_id=order.pk, carrier="", tracking_number="1")
    assert refused.value.errors["carrier"] == (
        "eine Bestellung wird nur mit Versanddienst und Sendungsnummer versandt"
    )
    assert Order.objects.get(pk=order.pk).status == "paid"


def test_the_table_refuses_what_it_does_not_have(stocked):
    variant, location = stocked
    order = place(variant, location)
    with pytest.raises(InvalidTransition) as refused:
        orders.order_ship(order_id=order.pk, carrier="DHL", tracking_number="1")
    assert str(refused.value) == "An order that is pending cannot be shipped."
    with pytest.raises(InvalidTransition):
        orders.order_refund(order_id=order.pk, amount=Decimal(1))
    with pytest.raises(InvalidTransition):
        orders.order_transition(order_id=order.pk, action="teleport")
    with pytest.raises(CommerceInvalid):
        orders.order_transition(order_id=order.pk, action="confirm", amount=Decimal(1))
    with pytest.raises(OrderNotFound):
        orders.order_confirm(order_id="not-a-uuid")
    assert OrderEvent.objects.filter(order_id=order.pk).count() == 1


def test_a_stale_version_is_a_conflict(stocked):
    variant, location = stocked
    order = place(variant, location)
    orders.order_confirm(order_id=order.pk, expected_version=1)
    with pytest.raises(OrderVersionConflict):
        orders.order_cancel(order_id=order.pk, expected_version=1)
    assert Order.objects.get(pk=order.pk).status == "confirmed"


def test_refunds_never_exceed_what_was_paid(stocked):
    variant, location = stocked
    order = place(variant, location)
    orders.order_mark_paid(order_id=order.pk, reference="x", amount=order.total)
    orders.order_refund(order_id=order.pk, amount=Decimal("20.00"))
    for amount in (Decimal("5.01"), Decimal(0), Decimal("-1")):
        with pytest.raises(CommerceInvalid) as refused:
            orders.order_refund(order_id=order.pk, amount=amount)
        assert "at most 5.00 USD" in refused.value.errors["amount"]
    order.refresh_from_db()
    assert (order.refunded_amount, order.payment_status) == (Decimal("20.00"), "partially_refunded")


def test_cancelling_returns_the_allocated_stock(stocked):
    variant, location = stocked
    order = place(variant, location, lines=2)
    support.services.stock_adjust(
        variant_id=variant.pk, location_id=location.pk, delta=-4, reason="sold"
    )  # what the checkout's sale did
    assert _on_hand(variant, location) == 6
    orders.order_cancel(order_id=order.pk, reason="customer asked")
    assert _on_hand(variant, location) == 10
    returned = support.events_of(variant.pk, "commerce.inventory.adjusted")[-2:]
    assert [(row.payload["delta"], row.payload["reason"]) for row in returned] == [
        (2, "returned"), (2, "returned"),
    ]  # fmt: skip
    assert Order.objects.get(pk=order.pk).cancel_reason == "customer asked"


def test_cancelling_an_order_of_a_deleted_variant_returns_nothing_and_works(stocked):
    variant, location = stocked
    order = place(variant, location)
    support.services.product_delete(product_id=variant.product_id)
    order = orders.order_cancel(order_id=order.pk)
    assert order.status == "cancelled"
    assert OrderLine.objects.get(order=order).variant_id is None


# -- the stream ----------------------------------------------------------------------------


def test_the_stream_refuses_update_and_delete(stocked):
    variant, location = stocked
    order = place(variant, location)
    for statement in (
        "UPDATE commerce_orderevent SET type = 'x'",
        "DELETE FROM commerce_orderevent",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        OrderEvent.objects.filter(order_id=order.pk).delete()
    assert OrderEvent.objects.filter(order_id=order.pk, type="commerce.order.placed").count() == 1


def test_as_of_gives_the_order_at_each_time_and_404_before(stocked, clock):
    variant, location = stocked
    order = place(variant, location)
    orders.order_confirm(order_id=order.pk)
    orders.order_cancel(order_id=order.pk)
    placed, _confirmed, cancelled = selectors.order_history(order.pk)
    assert selectors.order_as_of(order.pk, placed.occurred_at).status == "pending"
    assert selectors.order_as_of(order.pk, cancelled.occurred_at - clock.step).status == "confirmed"
    assert selectors.order_as_of(order.pk, cancelled.occurred_at).status == "cancelled"
    with pytest.raises(OrderNotFound):
        selectors.order_as_of(order.pk, placed.occurred_at - clock.step)


def test_rebuild_writes_the_rows_again_from_the_stream(stocked):
    variant, location = stocked
    order = place(variant, location, lines=3)
    orders.order_confirm(order_id=order.pk)
    expected = _row(order.pk)
    lines = list(OrderLine.objects.filter(order=order).values("sku", "quantity", "total"))
    Order.objects.filter(pk=order.pk).delete()  # the lines go with it; the stream stays
    orders.order_rebuild(order_id=order.pk)
    assert _row(order.pk) == expected
    assert list(OrderLine.objects.filter(order=order).values("sku", "quantity", "total")) == lines


# -- cost ------------------------------------------------------------------------------------


@pytest.mark.parametrize("line_count", [1, 20])
def test_placing_costs_the_same_queries_for_1_and_20_lines(
    stocked, django_assert_num_queries, line_count
):
    variant, location = stocked
    draft = order_draft([line_draft(variant, location=location) for _ in range(line_count)])
    # SAVEPOINT, nextval, INSERT event, SAVEPOINT + INSERT order + RELEASE, INSERT lines,
    # INSERT outbox, RELEASE
    with transaction.atomic(), django_assert_num_queries(9):
        order = orders.order_create(draft)
    assert order.lines.count() == line_count
