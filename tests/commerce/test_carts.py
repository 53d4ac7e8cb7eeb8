"""Carts: adding (checked against sale status, price and stock), setting quantities,
removing, merging (capped, never refused), the login merge, the cart's one-query read with
its flags, and the pruning of stale visitors' carts."""

from __future__ import annotations

import itertools
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from apps.commerce import carts, selectors, services
from apps.commerce.errors import (
    CartLineNotFound,
    CartNotFound,
    CommerceInvalid,
    NotPriced,
    OutOfStock,
    ProductUnavailable,
    VariantNotFound,
)
from apps.commerce.models import Cart, CartLine
from apps.commerce.selectors import LineAvailability
from apps.events.models import OutboxEvent
from tests.commerce.conftest import make_location, make_variant, priced_product

pytestmark = pytest.mark.django_db
_titles = (f"Item {number}" for number in itertools.count(1))


def _on_sale(stock: int | None = 5, *, amount: str = "10.00", location=None, **variant_fields):
    """An active product's variant priced in USD with ``stock`` units at ``location``."""
    product, variant = priced_product(next(_titles), amount=amount)
    if variant_fields:
        services.variant_update(variant_id=variant.pk, **variant_fields)
    services.product_transition(product_id=product.pk, action="activate")
    if stock:
        services.stock_adjust(
            variant_id=variant.pk,
            location_id=(location or _main()).pk,
            delta=stock,
            reason="received",
        )
    variant.refresh_from_db()
    return variant


def _main():
    return selectors.location_by_code("main") or make_location()


def _cart(currency: str = "USD", **kwargs) -> Cart:
    return carts.cart_for(
        token=None, customer_id=None, currency=currency, locale="en", create=True, **kwargs
    )


def _lines(cart: Cart) -> dict[str, int]:
    return dict(
        CartLine.objects.filter(cart=cart).values_list("variant__sku", "quantity").order_by("id")
    )


def _customer(name: str = "shopper@example.test"):
    return get_user_model().objects.create_user(username=name, email=name, password="x-12345678")


# -- finding a cart --------------------------------------------------------------------------


def test_cart_for_finds_the_visitors_cart_by_token_and_the_customers_by_id(acme_db):
    assert (
        carts.cart_for(
            token=uuid.uuid4(), customer_id=None, currency="USD", locale="en", create=False
        )
        is None
    )
    visitor = _cart()
    found = carts.cart_for(
        token=visitor.token, customer_id=None, currency="EUR", locale="de", create=True
    )
    assert found.pk == visitor.pk and found.currency == "USD"
    customer = _customer()
    owned = carts.cart_for(
        token=visitor.token, customer_id=customer.pk, currency="EUR", locale="de", create=True
    )
    assert owned.pk != visitor.pk and owned.customer_id == customer.pk and owned.currency == "EUR"
    # A visitor's token never finds a customer's cart.
    assert (
        carts.cart_for(
            token=owned.token, customer_id=None, currency="USD", locale="en", create=False
        )
        is None
    )


def test_a_cart_is_made_only_in_an_enabled_currency(acme_db):
    with pytest.raises(CommerceInvalid) as caught:
        _cart("GBP")
    assert "currency" in caught.value.errors


# -- adding -----------------------------------------------------------------------------------


def test_adding_twice_adds_up_and_bumps_the_version_without_events(acme_db):
    variant = _on_sale(stock=5)
    cart = _cart()
    before = OutboxEvent.objects.count()
    carts.cart_add(cart_id=cart.pk, variant_id=variant.pk, quantity=2)
    line = carts.cart_add(cart_id=cart.pk, variant_id=variant.pk, quantity=3)
    assert line.quantity == 5
    cart.refresh_from_db()
    assert cart.version == 3
    assert OutboxEvent.objects.count() == before


def test_adding_more_than_is_available_is_refused_with_what_is_left(acme_db):
    variant = _on_sale(stock=4)
    cart = _cart()
    carts.cart_add(cart_id=cart.pk, variant_id=variant.pk, quantity=3)
    with pytest.raises(OutOfStock) as caught:
        carts.cart_add(cart_id=cart.pk, variant_id=variant.pk, quantity=2)
    assert caught.value.status == 409
    assert caught.value.detail == "Only 4 left."
    assert caught.value.extra["available"] == 4
    assert _lines(cart) == {variant.sku: 3}


def test_reserved_units_and_inactive_locations_do_not_count_as_available(acme_db):
    variant = _on_sale(stock=3)
    closed = make_location(code="closed", name="Closed", active=True)
    services.stock_adjust(variant_id=variant.pk, location_id=closed.pk, delta=10, reason="received")
    services.location_update(location_id=closed.pk, active=False)
    services.stock_reserve(
        lines=[services.ReservationLine(variant_id=variant.pk, location_id=_main().pk, quantity=2)],
        reference="checkout-1",
    )
    cart = _cart()
    with pytest.raises(OutOfStock, match="Only 1 left"):
        carts.cart_add(cart_id=cart.pk, variant_id=variant.pk, quantity=2)


def test_an_out_of_stock_variant_cannot_be_added(acme_db):
    variant = _on_sale(stock=None)
    with pytest.raises(OutOfStock, match="out of stock"):
        carts.cart_add(cart_id=_cart().pk, variant_id=variant.pk, quantity=1)


def test_a_variant_that_may_oversell_is_limited_only_by_the_line_maximum(acme_db):
    variant = _on_sale(stock=None, inventory_policy="continue")
    cart = _cart()
    carts.cart_add(cart_id=cart.pk, variant_id=variant.pk, quantity=carts.MAX_LINE_QUANTITY)
    with pytest.raises(CommerceInvalid) as caught:
        carts.cart_add(cart_id=cart.pk, variant_id=variant.pk, quantity=1)
    assert "quantity" in caught.value.errors
    assert _lines(cart) == {variant.sku: carts.MAX_LINE_QUANTITY}


@pytest.mark.parametrize("quantity", [0, -1, 10**9, "2", 1.5, None, True])
def test_a_bad_quantity_is_invalid(acme_db, quantity):
    variant = _on_sale()
    with pytest.raises(CommerceInvalid) as caught:
        carts.cart_add(cart_id=_cart().pk, variant_id=variant.pk, quantity=quantity)
    assert "quantity" in caught.value.errors


def test_only_a_priced_variant_of_an_active_product_can_be_added(acme_db):
    cart = _cart()
    _draft, unpublished = priced_product("Draft lamp")
    with pytest.raises(ProductUnavailable):
        carts.cart_add(cart_id=cart.pk, variant_id=unpublished.pk, quantity=1)
    with pytest.raises(VariantNotFound):
        carts.cart_add(cart_id=cart.pk, variant_id=uuid.uuid4(), quantity=1)
    with pytest.raises(VariantNotFound):
        carts.cart_add(cart_id=cart.pk, variant_id="not-a-uuid", quantity=1)
    with pytest.raises(CartNotFound):
        carts.cart_add(cart_id=uuid.uuid4(), variant_id=_on_sale().pk, quantity=1)
    euro_cart = _cart("EUR")
    with pytest.raises(NotPriced, match="EUR"):
        carts.cart_add(cart_id=euro_cart.pk, variant_id=_on_sale().pk, quantity=1)
    assert not CartLine.objects.exists()


# -- quantities and removal -------------------------------------------------------------------


def test_set_quantity_checks_stock_and_zero_removes(acme_db):
    variant = _on_sale(stock=4)
    cart = _cart()
    line = carts.cart_add(cart_id=cart.pk, variant_id=variant.pk, quantity=1)
    assert carts.cart_set_quantity(cart_id=cart.pk, line_id=line.pk, quantity=4).quantity == 4
    with pytest.raises(OutOfStock, match="Only 4 left"):
        carts.cart_set_quantity(cart_id=cart.pk, variant_id=variant.pk, quantity=5)
    assert carts.cart_set_quantity(cart_id=cart.pk, variant_id=variant.pk, quantity=0) is None
    assert _lines(cart) == {}
    with pytest.raises(CartLineNotFound):
        carts.cart_set_quantity(cart_id=cart.pk, line_id=line.pk, quantity=1)
    with pytest.raises(CartLineNotFound):
        carts.cart_set_quantity(cart_id=cart.pk, line_id="abc", quantity=1)


def test_another_carts_line_cannot_be_changed(acme_db):
    variant = _on_sale(stock=4)
    mine, theirs = _cart(), _cart()
    line = carts.cart_add(cart_id=theirs.pk, variant_id=variant.pk, quantity=1)
    with pytest.raises(CartLineNotFound):
        carts.cart_set_quantity(cart_id=mine.pk, line_id=line.pk, quantity=2)
    assert _lines(theirs) == {variant.sku: 1}


def test_remove_takes_the_line_away_once(acme_db):
    variant = _on_sale()
    cart = _cart()
    carts.cart_add(cart_id=cart.pk, variant_id=variant.pk, quantity=1)
    assert carts.cart_remove(cart_id=cart.pk, variant_id=variant.pk) is True
    assert carts.cart_remove(cart_id=cart.pk, variant_id=variant.pk) is False
    cart.refresh_from_db()
    assert cart.version == 3 and _lines(cart) == {}


def test_set_currency_switches_to_an_enabled_currency_only(acme_db):
    cart = _cart()
    assert carts.cart_set_currency(cart_id=cart.pk, currency="eur").currency == "EUR"
    with pytest.raises(CommerceInvalid):
        carts.cart_set_currency(cart_id=cart.pk, currency="GBP")
    cart.refresh_from_db()
    assert (cart.currency, cart.version) == ("EUR", 2)


# -- merging ----------------------------------------------------------------------------------


def test_merge_adds_quantities_caps_by_stock_and_deletes_the_source(acme_db):
    scarce, plenty, other = _on_sale(stock=3), _on_sale(stock=50), _on_sale(stock=2)
    source, target = _cart(), _cart()
    carts.cart_add(cart_id=source.pk, variant_id=scarce.pk, quantity=2)
    carts.cart_add(cart_id=target.pk, variant_id=scarce.pk, quantity=2)
    carts.cart_add(cart_id=source.pk, variant_id=plenty.pk, quantity=5)
    carts.cart_add(cart_id=target.pk, variant_id=plenty.pk, quantity=1)
    carts.cart_add(cart_id=source.pk, variant_id=other.pk, quantity=2)
    # Stock sold elsewhere meanwhile: the source now holds more than is left.
    services.stock_adjust(variant_id=other.pk, location_id=_main().pk, delta=-1, reason="sold")
    merged = carts.cart_merge(source_cart_id=source.pk, target_cart_id=target.pk)
    assert merged.cart.pk == target.pk
    assert set(merged.capped) == {scarce.sku, other.sku}
    assert _lines(target) == {scarce.sku: 3, plenty.sku: 6, other.sku: 1}
    assert not Cart.objects.filter(pk=source.pk).exists()


def test_merge_never_lowers_what_the_target_held(acme_db):
    variant = _on_sale(stock=3)
    source, target = _cart(), _cart()
    carts.cart_add(cart_id=target.pk, variant_id=variant.pk, quantity=3)
    carts.cart_add(cart_id=source.pk, variant_id=variant.pk, quantity=1)
    services.stock_adjust(variant_id=variant.pk, location_id=_main().pk, delta=-2, reason="sold")
    merged = carts.cart_merge(source_cart_id=source.pk, target_cart_id=target.pk)
    assert merged.capped == (variant.sku,)
    assert _lines(target) == {variant.sku: 3}


def test_merge_drops_a_line_with_nothing_left(acme_db):
    variant = _on_sale(stock=1)
    source, target = _cart(), _cart()
    carts.cart_add(cart_id=source.pk, variant_id=variant.pk, quantity=1)
    services.stock_adjust(variant_id=variant.pk, location_id=_main().pk, delta=-1, reason="sold")
    merged = carts.cart_merge(source_cart_id=source.pk, target_cart_id=target.pk)
    assert merged.capped == (variant.sku,) and _lines(target) == {}


def test_login_merge_hands_the_visitors_cart_to_a_customer_without_one(acme_db):
    variant = _on_sale()
    visitor = _cart()
    carts.cart_add(cart_id=visitor.pk, variant_id=variant.pk, quantity=2)
    customer = _customer()
    cart = carts.cart_merge_for_login(
        token=visitor.token, customer_id=customer.pk, currency="USD", locale="en"
    )
    assert cart.pk == visitor.pk and cart.customer_id == customer.pk
    assert _lines(cart) == {variant.sku: 2}


def test_login_merge_merges_into_the_customers_open_cart(acme_db):
    variant = _on_sale(stock=4)
    customer = _customer()
    owned = carts.cart_for(
        token=None, customer_id=customer.pk, currency="USD", locale="en", create=True
    )
    carts.cart_add(cart_id=owned.pk, variant_id=variant.pk, quantity=3)
    visitor = _cart()
    carts.cart_add(cart_id=visitor.pk, variant_id=variant.pk, quantity=3)
    cart = carts.cart_merge_for_login(
        token=visitor.token, customer_id=customer.pk, currency="USD", locale="en"
    )
    assert cart.pk == owned.pk and _lines(cart) == {variant.sku: 4}
    assert not Cart.objects.filter(pk=visitor.pk).exists()


def test_login_merge_without_a_visitors_cart_returns_the_customers(acme_db):
    customer = _customer()
    assert (
        carts.cart_merge_for_login(token=None, customer_id=customer.pk, currency="USD", locale="en")
        is None
    )
    owned = carts.cart_for(
        token=None, customer_id=customer.pk, currency="USD", locale="en", create=True
    )
    found = carts.cart_merge_for_login(
        token=uuid.uuid4(), customer_id=customer.pk, currency="USD", locale="en"
    )
    assert found.pk == owned.pk


# -- the cart's read --------------------------------------------------------------------------


def test_the_cart_view_prices_and_titles_each_line_in_the_carts_locale(acme_db):
    product, variant = priced_product("Tent", amount="19.99")
    services.product_update(product_id=product.pk, translations={"de": {"title": "Zelt"}})
    services.price_set(
        variant_id=variant.pk, currency="USD", amount="19.99", compare_at_amount="25.00"
    )
    services.product_transition(product_id=product.pk, action="activate")
    services.stock_adjust(
        variant_id=variant.pk, location_id=_main().pk, delta=10, reason="received"
    )
    cart = _cart()
    carts.cart_add(cart_id=cart.pk, variant_id=variant.pk, quantity=3)
    view = selectors.cart_view(cart.pk, currency="USD", locale="de")
    (line,) = view.lines
    assert (line.product_title, line.sku, line.quantity) == ("Zelt", variant.sku, 3)
    assert (line.unit_price, line.compare_at, line.total) == (
        Decimal("19.99"), Decimal("25.00"), Decimal("59.97"),
    )  # fmt: skip
    assert line.availability == LineAvailability.OK and line.available == 10
    assert line.image_url is None and line.variant_title == ""
    assert view.subtotal == Decimal("59.97") and view.count == 3 and view.can_checkout
    assert (
        selectors.cart_view(cart.pk, currency="USD", locale="fr").lines[0].product_title == "Tent"
    )


def test_the_cart_view_names_the_variants_options_in_order(acme_db):
    product, _first = priced_product("Shirt")
    services.option_create(product_id=product.pk, name="Size", values=["S", "M"])
    services.option_create(product_id=product.pk, name="Colour", values=["Red", "Blue"])
    variant = make_variant(product, options={"Size": "M", "Colour": "Blue"})
    services.price_set(variant_id=variant.pk, currency="USD", amount="5.00")
    services.variant_update(variant_id=variant.pk, tracked=False)
    services.product_transition(product_id=product.pk, action="activate")
    cart = _cart()
    carts.cart_add(cart_id=cart.pk, variant_id=variant.pk, quantity=1)
    (line,) = selectors.cart_view(cart.pk, currency="USD", locale="en").lines
    assert line.variant_title == "M / Blue"
    assert line.availability == LineAvailability.OK and line.available is None


def test_the_cart_view_flags_lines_one_cannot_buy_and_leaves_them_out_of_the_subtotal(acme_db):
    fine, archived, sold_out, too_many, unpriced, low = (
        _on_sale(stock=9), _on_sale(stock=9), _on_sale(stock=2), _on_sale(stock=5),
        _on_sale(stock=9), _on_sale(stock=3, low_stock_threshold=5),
    )  # fmt: skip
    services.price_set(variant_id=unpriced.pk, currency="EUR", amount="3.00")
    services.price_set(variant_id=fine.pk, currency="EUR", amount="9.00")
    services.price_set(variant_id=archived.pk, currency="EUR", amount="9.00")
    services.price_set(variant_id=sold_out.pk, currency="EUR", amount="9.00")
    services.price_set(variant_id=too_many.pk, currency="EUR", amount="9.00")
    services.price_set(variant_id=low.pk, currency="EUR", amount="9.00")
    cart = _cart("EUR")
    for variant, quantity in [
        (fine, 2),
        (archived, 1),
        (sold_out, 2),
        (too_many, 4),
        (unpriced, 1),
        (low, 1),
    ]:
        carts.cart_add(cart_id=cart.pk, variant_id=variant.pk, quantity=quantity)
    services.product_transition(product_id=archived.product_id, action="archive")
    services.stock_adjust(variant_id=sold_out.pk, location_id=_main().pk, delta=-2, reason="sold")
    services.stock_adjust(variant_id=too_many.pk, location_id=_main().pk, delta=-3, reason="sold")
    services.price_delete(variant_id=unpriced.pk, currency="EUR")
    view = selectors.cart_view(cart.pk, currency="EUR", locale="en")
    states = {line.sku: (line.availability, line.available) for line in view.lines}
    assert states == {
        fine.sku: ("ok", 9),
        archived.sku: ("unavailable", None),
        sold_out.sku: ("out_of_stock", 0),
        too_many.sku: ("exceeds_stock", 2),
        unpriced.sku: ("no_price", None),
        low.sku: ("low", 3),
    }
    # fine 2 x 9.00 + low 1 x 9.00; the flagged lines stay but are not counted.
    assert view.subtotal == Decimal("27.00")
    assert not view.can_checkout
    assert view.count == 11


def test_a_deleted_variant_leaves_the_cart(acme_db):
    product, _first = priced_product("Two sizes")
    services.option_create(product_id=product.pk, name="Size", values=["S", "M"])
    gone = make_variant(product, options={"Size": "M"})
    services.price_set(variant_id=gone.pk, currency="USD", amount="1.00")
    services.variant_update(variant_id=gone.pk, tracked=False)
    services.product_transition(product_id=product.pk, action="activate")
    cart = _cart()
    carts.cart_add(cart_id=cart.pk, variant_id=gone.pk, quantity=1)
    services.variant_delete(variant_id=gone.pk)
    view = selectors.cart_view(cart.pk, currency="USD", locale="en")
    assert view.lines == () and not view.can_checkout


def test_the_cart_view_costs_one_query_whatever_its_size(acme_db, django_assert_num_queries):
    cart = _cart()
    location = _main()
    for number in range(30):
        variant = _on_sale(stock=5, location=location)
        carts.cart_add(cart_id=cart.pk, variant_id=variant.pk, quantity=1 + number % 3)
        if number == 0:
            with django_assert_num_queries(1):
                assert len(selectors.cart_view(cart.pk, currency="USD", locale="de").lines) == 1
    with django_assert_num_queries(1):
        view = selectors.cart_view(cart.pk, currency="USD", locale="de")
    assert len(view.lines) == 30 and view.count == 60
    with django_assert_num_queries(1):
        assert selectors.cart_count(cart.pk) == 60


# -- pruning ----------------------------------------------------------------------------------


def test_stale_visitor_carts_are_pruned_and_customer_carts_kept(acme_db):
    variant = _on_sale()
    stale, fresh = _cart(), _cart()
    owned = carts.cart_for(
        token=None, customer_id=_customer().pk, currency="USD", locale="en", create=True
    )
    carts.cart_add(cart_id=stale.pk, variant_id=variant.pk, quantity=1)
    old = timezone.now() - timedelta(days=31)
    Cart.objects.filter(pk__in=[stale.pk, owned.pk]).update(updated_at=old)
    assert carts.carts_prune_stale() == 1
    assert set(Cart.objects.values_list("pk", flat=True)) == {fresh.pk, owned.pk}
    assert not CartLine.objects.exists()
    assert carts.carts_prune_stale() == 0


def test_the_hourly_task_prunes_every_tenants_stale_carts(acme_db, settings):
    from apps.commerce.tasks import prune_stale_carts

    entry = settings.CELERY_BEAT_SCHEDULE["commerce-prune-stale-carts"]
    assert entry["task"] == prune_stale_carts.name
    stale = _cart()
    assert prune_stale_carts() == 0
    assert prune_stale_carts(now=timezone.now() + timedelta(days=40)) == 1
    assert not Cart.objects.filter(pk=stale.pk).exists()
