"""Stock adjustments: the form writes ``stock_adjust`` with a reason; the history is read-only."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from apps.commerce import services
from apps.commerce.models import StockAdjustment, StockLevel

from .conftest import ADMIN, errors_of, events, make_location, make_product, make_variant, page

ADJUST = f"{ADMIN}stockadjustment/add/"
HISTORY = f"{ADMIN}stockadjustment/"


def adjustment(variant, location, **values):
    return {
        "variant": variant.pk,
        "location": location.pk,
        "delta": "5",
        "reason": "received",
        "note": "",
        "_save": "Save",
        **values,
    }


def on_hand(variant, location) -> int | None:
    with schema_context("acme"):
        level = StockLevel.objects.filter(variant=variant, location=location).first()
    return None if level is None else level.on_hand


def test_a_merchant_adjusts_stock_with_a_reason(merchant_client, merchant):
    variant = make_variant(make_product(), "LIN-1")
    location = make_location()

    response = merchant_client.post(
        ADJUST, adjustment(variant, location, note="Delivery 42"), follow=True
    )

    assert response.status_code == 200
    assert on_hand(variant, location) == 5
    with schema_context("acme"):
        row = StockAdjustment.objects.get()
    assert (row.delta, row.reason, row.note, row.on_hand_after) == (5, "received", "Delivery 42", 5)
    assert row.actor_id == merchant.pk
    (event,) = events("commerce.inventory.adjusted", variant.pk)
    assert event.payload["delta"] == 5 and event.payload["reason"] == "received"
    assert "LIN-1" in str(list(response.context["messages"])[-1])


def test_going_negative_is_refused_for_a_tracked_deny_variant(merchant_client):
    variant = make_variant(make_product(), "LIN-1")
    location = make_location()
    with schema_context("acme"):
        services.stock_adjust(
            variant_id=variant.pk, location_id=location.pk, delta=2, reason="received"
        )

    response = merchant_client.post(
        ADJUST, adjustment(variant, location, delta="-3", reason="damaged")
    )

    assert response.status_code == 200
    assert "cannot go below zero" in str(errors_of(response)["delta"])
    assert on_hand(variant, location) == 2
    with schema_context("acme"):
        assert StockAdjustment.objects.count() == 1
    assert len(events("commerce.inventory.adjusted", variant.pk)) == 1


def test_an_untracked_variant_may_go_negative(merchant_client):
    product = make_product()
    variant = make_variant(product, "LIN-1")
    with schema_context("acme"):
        services.variant_update(variant_id=variant.pk, tracked=False)
    location = make_location()

    response = merchant_client.post(
        ADJUST, adjustment(variant, location, delta="-2", reason="sold")
    )

    assert response.status_code == 302, errors_of(response)
    assert on_hand(variant, location) == -2


def test_a_reason_that_contradicts_the_change_is_refused_on_the_change(merchant_client):
    variant = make_variant(make_product(), "LIN-1")
    location = make_location()

    response = merchant_client.post(ADJUST, adjustment(variant, location, delta="-1"))

    assert "stock that is received or returned adds units" in str(errors_of(response)["delta"])
    assert on_hand(variant, location) is None


def test_the_form_is_prefilled_from_the_variant_link(merchant_client):
    product = make_product()
    variant = make_variant(product, "LIN-1")
    location = make_location()
    content = page(merchant_client.get(f"{ADMIN}product/{product.pk}/change/"))
    assert f"{ADJUST}?variant={variant.pk}" in content

    form = merchant_client.get(ADJUST, {"variant": variant.pk}).context["adminform"].form
    assert str(form["variant"].value()) == str(variant.pk)
    assert form["location"].value() == location.pk
    assert "LIN-1 · Linen shirt" in str(form["variant"])


def test_the_history_is_read_only_and_labelled_by_sku(merchant_client):
    variant = make_variant(make_product(), "LIN-1")
    location = make_location()
    merchant_client.post(ADJUST, adjustment(variant, location))
    with schema_context("acme"):
        row = StockAdjustment.objects.get()

    content = page(merchant_client.get(HISTORY))
    assert "LIN-1" in content and "Main warehouse" in content
    detail = page(merchant_client.get(f"{HISTORY}{row.pk}/change/"))
    assert 'name="_save"' not in detail
    response = merchant_client.post(f"{HISTORY}{row.pk}/change/", {"delta": "100"})
    assert response.status_code == 403
    assert merchant_client.post(f"{HISTORY}{row.pk}/delete/", {"post": "yes"}).status_code == 403
    with schema_context("acme"):
        assert StockAdjustment.objects.get().delta == 5


@pytest.mark.parametrize("count", [3, 30])
def test_the_history_costs_the_same_queries_for_3_and_30_adjustments(
    merchant_client, merchant, django_assert_num_queries, count
):
    location = make_location()
    with schema_context("acme"):
        product = services.product_create(data=services.ProductInput(title="Shirt"))
        variant = services.variant_create(
            product_id=product.pk, data=services.VariantInput(sku="S-0")
        )
        for _ in range(count):
            services.stock_adjust(
                variant_id=variant.pk,
                location_id=location.pk,
                delta=1,
                reason="received",
                actor=merchant,
            )
    merchant_client.get(HISTORY)  # warm the per-process caches (tenant, flags, modules)
    # session, user, the user's and the groups' permissions, the locations filter, the count
    # and the rows (variants, locations, actors and their profiles joined).
    with django_assert_num_queries(7):
        content = page(merchant_client.get(HISTORY))
    assert content.count("S-0") == count
