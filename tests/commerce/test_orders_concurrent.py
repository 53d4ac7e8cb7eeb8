"""Two writers of one order at once, on separate connections behind a barrier: one wins,
the other is told the order changed (409), and the stream has one event more, not two."""

from __future__ import annotations

import threading

import pytest
from django.db import transaction
from django_tenants.utils import schema_context

from apps.commerce import events, orders, selectors
from apps.commerce.models import Order

from .concurrency import race
from .order_factories import line_draft, order_draft
from .order_support import committed_orders  # noqa: F401

pytestmark = pytest.mark.usefixtures("committed_orders")

ROUNDS = 3


def _placed() -> Order:
    with schema_context("acme"), transaction.atomic():
        return orders.order_create(order_draft([line_draft()]))


def _stream(order: Order) -> list[tuple[int, str]]:
    with schema_context("acme"):
        return [(event.version, event.type) for event in selectors.order_stream(order.pk)]


def test_two_transitions_from_the_same_version_one_wins():
    for _round in range(ROUNDS):
        order = _placed()
        outcomes = race([
            lambda order=order: orders.order_confirm(order_id=order.pk, expected_version=1),
            lambda order=order: orders.order_cancel(order_id=order.pk, expected_version=1),
        ])  # fmt: skip
        assert sorted(outcome[0] for outcome in outcomes) == ["ok", "refused"], outcomes
        assert ("refused", "OrderVersionConflict") in outcomes
        winner = next(outcome[1] for outcome in outcomes if outcome[0] == "ok")
        stream = _stream(order)
        assert [version for version, _type in stream] == [1, 2]
        with schema_context("acme"):
            row = Order.objects.get(pk=order.pk)
        assert (row.status, row.version) == (winner.status, 2)


def test_the_unique_version_stops_a_writer_that_skipped_the_lock():
    """Appending without the row lock (as a buggy writer would): both fold version 1, both
    append version 2; the stream's unique key lets one through and refuses the other."""
    for _round in range(ROUNDS):
        order = _placed()
        both_read = threading.Barrier(2)

        def append(order=order, both_read=both_read):
            with transaction.atomic():
                state = selectors.order_state(order.pk)
                both_read.wait(timeout=10)  # neither appends before both have folded version 1
                event = events.OrderConfirmed(
                    order_id=order.pk, version=state.version + 1, number=state.number,
                    from_status=state.status, to_status="confirmed",
                )  # fmt: skip
                return orders._append(state, event, actor=None)

        outcomes = race([append, append])
        assert sorted(outcome[0] for outcome in outcomes) == ["ok", "refused"], outcomes
        assert ("refused", "OrderVersionConflict") in outcomes
        assert _stream(order) == [(1, "commerce.order.placed"), (2, "commerce.order.confirmed")]
