"""The order status machine and the fold, explored by hypothesis against the real services.

The test keeps its own model of each order, written from the brief rather than from
``orders.ORDER_TRANSITIONS``:

    pending --confirm--> confirmed --mark_paid--> paid --ship--> fulfilled --deliver--> delivered
    pending --mark_paid--> paid (a card approved at placement)
    pending|confirmed --cancel--> cancelled
    paid|fulfilled|delivered --refund--> refunded when all that was paid is given back;
        a smaller refund keeps the status (payment partially refunded)
    a refund is more than zero and at most paid minus refunded

After every step: the row is what the model says, refunded <= paid, the stream's versions
are 1..n with one event per successful step, and folding the stream gives the row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)

from apps.commerce import orders, selectors
from apps.commerce.errors import CommerceInvalid
from apps.commerce.models import Order, OrderEvent
from apps.commerce.order_state import fold
from apps.core.errors import InvalidTransition

from .order_factories import line_draft, order_draft

pytestmark = pytest.mark.usefixtures("acme_db")

TOTAL = Decimal("25.00")  # one line of 2 x 10.00 and 5.00 shipping
MOVES: dict[str, dict[str, str]] = {
    "confirm": {"pending": "confirmed"},
    "mark_paid": {"pending": "paid", "confirmed": "paid"},
    "ship": {"paid": "fulfilled"},
    "deliver": {"fulfilled": "delivered"},
    "cancel": {"pending": "cancelled", "confirmed": "cancelled"},
}
EVENT_OF = {
    "confirm": "commerce.order.confirmed",
    "mark_paid": "commerce.order.paid",
    "ship": "commerce.order.shipped",
    "deliver": "commerce.order.delivered",
    "cancel": "commerce.order.cancelled",
}
REFUNDABLE = {"paid", "fulfilled", "delivered"}
ACTION_DATA = {
    "confirm": {},
    "mark_paid": {"reference": "pay-1", "amount": TOTAL},
    "ship": {"carrier": "DHL", "tracking_number": "JJD000390007"},
    "deliver": {},
    "cancel": {"reason": "asked"},
}
refund_amounts = st.decimals(min_value=Decimal("0.01"), max_value=TOTAL + 1, places=2)


def _place():
    with transaction.atomic():
        return orders.order_create(order_draft([line_draft()]))


@dataclass
class Expected:
    status: str = "pending"
    paid: Decimal = Decimal(0)
    refunded: Decimal = Decimal(0)
    version: int = 1
    types: list[str] = field(default_factory=lambda: ["commerce.order.placed"])


class OrderMachine(RuleBasedStateMachine):
    orders = Bundle("orders")

    def __init__(self) -> None:
        super().__init__()
        self._savepoint = transaction.savepoint()
        self.expected: dict = {}

    def teardown(self) -> None:
        transaction.savepoint_rollback(self._savepoint)

    @rule(target=orders)
    def place(self):
        order = _place()
        self.expected[order.pk] = Expected()
        return order.pk

    def _step(self, order_id, action: str, event: str, target: str | None, **data) -> None:
        model = self.expected[order_id]
        if target is None:
            with pytest.raises(InvalidTransition):
                orders.order_transition(order_id=order_id, action=action, **data)
            return
        order = orders.order_transition(
            order_id=order_id, action=action, expected_version=model.version, **data
        )
        model.status, model.version = target, model.version + 1
        model.types.append(event)
        assert (order.status, order.version) == (target, model.version)

    @rule(order_id=orders, action=st.sampled_from(sorted(MOVES)))
    def move(self, order_id, action):
        model = self.expected[order_id]
        target = MOVES[action].get(model.status)
        self._step(order_id, action, EVENT_OF[action], target, **ACTION_DATA[action])
        if action == "mark_paid" and target:
            model.paid = TOTAL

    @rule(order_id=orders, amount=refund_amounts)
    def refund(self, order_id, amount):
        model = self.expected[order_id]
        if model.status not in REFUNDABLE:
            self._step(order_id, "refund", "", None, amount=amount)
            return
        if amount > model.paid - model.refunded:
            with pytest.raises(CommerceInvalid) as refused:
                orders.order_refund(order_id=order_id, amount=amount)
            assert "amount" in refused.value.errors
            return
        model.refunded += amount
        target = "refunded" if model.refunded == model.paid else model.status
        self._step(order_id, "refund", "commerce.order.refunded", target, amount=amount)

    @invariant()
    def rows_follow_the_model_and_the_stream(self):
        for order_id, model in self.expected.items():
            order = Order.objects.get(pk=order_id)
            assert (order.status, order.paid_amount, order.refunded_amount, order.version) == (
                model.status, model.paid, model.refunded, model.version,
            )  # fmt: skip
            assert order.refunded_amount <= order.paid_amount
            payment = (
                "unpaid" if not model.paid
                else "paid" if not model.refunded
                else "refunded" if model.refunded == model.paid
                else "partially_refunded"
            )  # fmt: skip
            assert order.payment_status == payment
            stream = selectors.order_stream(order_id)
            assert [event.version for event in stream] == list(range(1, model.version + 1))
            assert [event.type for event in stream] == model.types
            assert fold(stream).row_values() == Order.objects.filter(pk=order_id).values().get()


def test_the_order_machine(clock):
    run_state_machine_as_test(
        OrderMachine,
        settings=settings(
            max_examples=25, stateful_step_count=15, deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )  # fmt: skip


# -- the fold over generated histories ------------------------------------------------------

step = st.one_of(
    st.sampled_from(sorted(MOVES)).map(lambda action: (action, ACTION_DATA[action])),
    refund_amounts.map(lambda amount: ("refund", {"amount": amount})),
)


@settings(
    max_examples=30, deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)  # fmt: skip
@given(history=st.lists(step, max_size=8))
def test_folding_the_stream_gives_the_row_and_as_of_gives_each_past_state(clock, history):
    order = _place()
    states = [selectors.order_state(order.pk)]
    for action, data in history:
        try:
            orders.order_transition(order_id=order.pk, action=action, **data)
        except (InvalidTransition, CommerceInvalid):
            continue
        states.append(selectors.order_state(order.pk))
    stream = selectors.order_stream(order.pk)
    assert len(stream) == len(states)
    assert fold(stream).row_values() == Order.objects.filter(pk=order.pk).values().get()
    assert OrderEvent.objects.filter(order_id=order.pk).count() == len(states)
    for event, state in zip(stream, states, strict=True):
        assert selectors.order_as_of(order.pk, event.occurred_at) == state
        assert state.version == event.version
