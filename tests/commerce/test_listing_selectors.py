"""Selectors the read side's product listing uses."""

from apps.commerce import selectors, services
from apps.commerce.models import InventoryPolicy
from tests.commerce.conftest import make_product, make_variant


def test_which_variants_sell_without_stock(acme_db):
    counted = make_variant(make_product("Counted"))
    untracked = make_variant(make_product("Untracked"), tracked=False)
    overselling = make_variant(
        make_product("Overselling"), inventory_policy=InventoryPolicy.CONTINUE
    )
    assert [
        selectors.variant_sells_without_stock(variant)
        for variant in (counted, untracked, overselling)
    ] == [False, True, True]


def test_category_product_ids_are_the_categorys_own_products(acme_db):
    shirts = services.category_create(name="Shirts")
    linen = services.category_create(name="Linen", parent_id=shirts.pk)
    first = make_product("One", category_ids=[shirts.pk])
    second = make_product("Two", category_ids=[shirts.pk, linen.pk])
    make_product("Three", category_ids=[linen.pk])
    make_product("Four")
    assert selectors.category_product_ids(shirts.pk) == sorted([first.pk, second.pk])
    assert selectors.category_product_ids(10**9) == []
