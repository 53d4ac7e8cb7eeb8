"""The product status machine, explored by hypothesis against the real services in acme.

The test keeps its own model of each product, written from the documented machine rather
than from ``services.PRODUCT_TRANSITIONS``:

    draft --activate--> active --archive--> archived
    active --draft--> draft;  archived --draft--> draft
    activate needs a variant priced in the default currency (USD; a EUR price is not enough)
    an active product keeps a USD price (removing its last one is refused)
    an active product is not deleted; a deleted product is gone for every action

After every step the database must agree with the model: status, version and the product's
events in the outbox, in order. A refused step raises and leaves all of that as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from apps.commerce import services
from apps.commerce.errors import CatalogConflict, PriceNotFound, ProductNotFound
from apps.commerce.models import Price, Product
from apps.commerce.services import ProductInput, VariantInput
from apps.core.errors import InvalidTransition
from apps.events.models import OutboxEvent

from .conftest import outbox_head

PRODUCT_COUNT = 3
DRAFT, ACTIVE, ARCHIVED = "draft", "active", "archived"

# action -> {status it may start from: status it ends in}
EXPECTED_MOVES: dict[str, dict[str, str]] = {
    "activate": {DRAFT: ACTIVE},
    "archive": {ACTIVE: ARCHIVED},
    "draft": {ACTIVE: DRAFT, ARCHIVED: DRAFT},
}
EXPECTED_EVENT = {
    "activate": "commerce.product.activated",
    "archive": "commerce.product.archived",
    "draft": "commerce.product.drafted",
}
PRODUCT_EVENTS = ("commerce.product.", "commerce.variant.", "commerce.price.")


@dataclass
class Expected:
    variant_id: object
    status: str = DRAFT
    version: int = 2  # created, then its variant
    prices: set[str] = field(default_factory=set)
    deleted: bool = False
    events: list[tuple[str, int, str | None, str | None]] = field(default_factory=list)


def _event_rows(product_id) -> list[tuple[str, int, str | None, str | None]]:
    rows = OutboxEvent.objects.filter(aggregate_id=str(product_id)).order_by("position")
    return [
        (row.event_type, row.aggregate_version, row.payload.get("from_status"),
         row.payload.get("to_status"))
        for row in rows
        if row.event_type.startswith(PRODUCT_EVENTS)
    ]  # fmt: skip


class ProductStatusMachine(RuleBasedStateMachine):
    """A few acme products driven through the services; each example runs in a savepoint."""

    def __init__(self) -> None:
        super().__init__()
        self._savepoint = transaction.savepoint()
        self.ids = []
        self.expected: dict = {}
        for number in range(PRODUCT_COUNT):
            product = services.product_create(data=ProductInput(title=f"Machine product {number}"))
            variant = services.variant_create(
                product_id=product.pk, data=VariantInput(sku=f"MACHINE-{number}")
            )
            self.ids.append(product.pk)
            self.expected[product.pk] = Expected(
                variant_id=variant.pk, events=_event_rows(product.pk)
            )

    def teardown(self) -> None:
        transaction.savepoint_rollback(self._savepoint)

    def _bumped(self, model: Expected, event_type: str, old=None, new=None) -> None:
        model.version += 1
        model.events.append((event_type, model.version, old, new))

    # -- rules ------------------------------------------------------------------------------

    @rule(index=st.integers(0, PRODUCT_COUNT - 1), action=st.sampled_from(sorted(EXPECTED_MOVES)))
    def transition(self, index: int, action: str) -> None:
        product_id = self.ids[index]
        model = self.expected[product_id]
        head = outbox_head()
        if model.deleted:
            with pytest.raises(ProductNotFound):
                services.product_transition(product_id=product_id, action=action)
            return
        target = EXPECTED_MOVES[action].get(model.status)
        if target == ACTIVE and "USD" not in model.prices:
            target = None
        if target is None:
            with pytest.raises(InvalidTransition) as refused:
                services.product_transition(product_id=product_id, action=action)
            assert refused.value.extra["current"] == model.status
            assert outbox_head() == head, "a refused transition published an event"
            return
        product = services.product_transition(product_id=product_id, action=action)
        previous, model.status = model.status, target
        self._bumped(model, EXPECTED_EVENT[action], previous, target)
        assert (product.status, product.version) == (model.status, model.version)

    @rule(index=st.integers(0, PRODUCT_COUNT - 1), currency=st.sampled_from(["USD", "EUR"]),
          cents=st.integers(0, 5000))  # fmt: skip
    def set_price(self, index: int, currency: str, cents: int) -> None:
        product_id = self.ids[index]
        model = self.expected[product_id]
        if model.deleted:
            return
        amount = f"{cents // 100}.{cents % 100:02d}"
        stored = Price.objects.filter(variant_id=model.variant_id, currency=currency).first()
        services.price_set(variant_id=model.variant_id, currency=currency, amount=amount)
        model.prices.add(currency)
        if stored is None or stored.amount != Decimal(amount):
            self._bumped(model, "commerce.price.set")

    @rule(index=st.integers(0, PRODUCT_COUNT - 1), currency=st.sampled_from(["USD", "EUR"]))
    def remove_price(self, index: int, currency: str) -> None:
        product_id = self.ids[index]
        model = self.expected[product_id]
        if model.deleted:
            return
        head = outbox_head()
        if currency not in model.prices:
            with pytest.raises(PriceNotFound):
                services.price_delete(variant_id=model.variant_id, currency=currency)
        elif currency == "USD" and model.status == ACTIVE:
            with pytest.raises(CatalogConflict):
                services.price_delete(variant_id=model.variant_id, currency=currency)
        else:
            services.price_delete(variant_id=model.variant_id, currency=currency)
            model.prices.discard(currency)
            self._bumped(model, "commerce.price.deleted")
            return
        assert outbox_head() == head

    @rule(index=st.integers(0, PRODUCT_COUNT - 1))
    def delete(self, index: int) -> None:
        product_id = self.ids[index]
        model = self.expected[product_id]
        head = outbox_head()
        if model.deleted:
            with pytest.raises(ProductNotFound):
                services.product_delete(product_id=product_id)
        elif model.status == ACTIVE:
            with pytest.raises(InvalidTransition) as refused:
                services.product_delete(product_id=product_id)
            assert refused.value.extra["current"] == ACTIVE
        else:
            services.product_delete(product_id=product_id)
            model.deleted = True
            self._bumped(model, "commerce.product.deleted")
            return
        assert outbox_head() == head

    # -- invariants -------------------------------------------------------------------------

    @invariant()
    def products_match_the_model(self) -> None:
        rows = {
            row["id"]: row
            for row in Product.objects.filter(pk__in=self.ids).values("id", "status", "version")
        }
        for product_id in self.ids:
            model = self.expected[product_id]
            if model.deleted:
                assert product_id not in rows
                continue
            row = rows[product_id]
            assert (row["status"], row["version"]) == (model.status, model.version), product_id
            prices = set(
                Price.objects.filter(variant_id=model.variant_id).values_list("currency", flat=True)
            )
            assert prices == model.prices

    @invariant()
    def outbox_matches_the_model(self) -> None:
        for product_id in self.ids:
            assert _event_rows(product_id) == self.expected[product_id].events, product_id


def test_the_product_status_machine_matches_its_model(acme_db):
    run_state_machine_as_test(
        ProductStatusMachine,
        settings=settings(max_examples=30, stateful_step_count=20, deadline=None),
    )
