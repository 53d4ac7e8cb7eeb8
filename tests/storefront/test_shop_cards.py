"""Product cards from the listing's rows and from commerce's products: the same dicts, no
query per product."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django_tenants.utils import schema_context

from apps.commerce import selectors as commerce_selectors
from apps.commerce import services as commerce
from apps.index import selectors as index
from apps.pages.delivery import ReaderLocale
from apps.storefront.shop_cards import listing_cards, product_cards
from tests.index.shop import first_variant, product, project_products, shop
from tests.pages.support import png_upload

GERMAN = ReaderLocale(current="de", default="en", available=("en", "de"), explicit=True)
KEYS = {"product_id", "title", "lang", "url", "image", "price", "on_sale", "in_stock"}


@pytest.fixture
def products(acme_site, media_root):
    with schema_context("acme"):
        shop(("USD", "EUR"))
        main = commerce.location_create(code="main", name="Main")
        made = []
        for n in range(6):
            item = product(f"Item {n}", prices={"USD": "10.00"}, variants=1 + n % 2)
            commerce.product_image_add(
                product_id=item.pk, file=png_upload(), alt_text={"en": "Box", "de": f"Kiste {n}"}
            )
            made.append(item)
        commerce.product_update(product_id=made[0].pk, translations={"de": {"title": "Ding"}})
        commerce.price_set(
            variant_id=first_variant(made[0]).pk, currency="EUR", amount=Decimal("1234.5"),
            compare_at_amount="1500",
        )  # fmt: skip
        commerce.stock_adjust(
            variant_id=first_variant(made[0]).pk, location_id=main.pk, delta=1, reason="received"
        )
    project_products("acme")
    with schema_context("acme"):
        yield made


def test_listing_cards_cost_one_query_for_any_number(products, django_assert_num_queries):
    rows = index.product_listing(locale="de", per_page=10).object_list
    with django_assert_num_queries(1):
        cards = listing_cards(rows, currency="EUR", locale=GERMAN)
    assert len(cards) == 6 and all(set(card) == KEYS for card in cards)
    first = next(card for card in cards if card["product_id"] == products[0].pk)
    assert first["title"] == "Ding" and first["lang"] == ""
    assert first["url"] == f"/shop/{products[0].handle}/?lang=de"
    assert first["price"] == "1.234,50\xa0€"
    assert first["on_sale"] and first["in_stock"]
    assert first["image"]["alt"] == "Kiste 0" and first["image"]["width"] == 8
    other = next(card for card in cards if card["product_id"] == products[1].pk)
    assert other["lang"] == "en"  # no German title: the English one, marked as such
    assert other["price"] is None  # not priced in euros
    dollars = listing_cards(rows, currency="USD", locale=GERMAN)
    assert {card["price"] for card in dollars} == {"10,00\xa0$", "ab 10,00\xa0$"}


def test_product_cards_match_the_listings(products, django_assert_num_queries):
    loaded = list(commerce_selectors.products().filter(pk__in=[p.pk for p in products]))
    available = commerce_selectors.available_by_variant(
        variant.pk for item in loaded for variant in item.variants.all()
    )
    with django_assert_num_queries(0):
        cards = product_cards(loaded, currency="USD", locale=GERMAN, available=available)
    rows = index.product_listing(locale="de", per_page=10).object_list
    from_rows = listing_cards(rows, currency="USD", locale=GERMAN)
    by_id = {card["product_id"]: card for card in from_rows}
    for card in cards:
        expected = dict(by_id[card["product_id"]])
        # The listing's "on sale" counts a compare-at price in any currency (the first item
        # has one in euros), the card's only in the currency shown.
        expected["on_sale"] = False
        assert card == expected
