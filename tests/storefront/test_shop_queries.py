"""The shop listing's query budget: the same count for 2 products of 1 variant and 30 of 20;
the filter choices cached until the product listing changes.

A module of its own: the other shop tests share a committed catalogue that would be listed too.
"""

from __future__ import annotations

import csv
import io
import re

import pytest
from django_tenants.utils import schema_context

from apps.commerce import csv_format, selectors
from apps.commerce import services as commerce
from tests.index.shop import project_products, shop
from tests.pages.support import png_upload


def _catalogue_of(products: int, variants: int) -> None:
    """``products`` products of ``variants`` sizes each, priced in USD and EUR, the first size
    of each in stock, in one collection and one category, each with a picture; written by the
    CSV import (one call) so that a large catalogue costs little to make."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([
        "handle", "title", "status", "option1_name", "option1_value", "sku", "collections",
        "categories", "price_USD", "price_EUR", "stock_main",
    ])  # fmt: skip
    for n in range(products):
        for index in range(variants):
            first = index == 0
            writer.writerow([
                f"item-{n}", f"Item {n}" if first else "", "active" if first else "",
                "Size" if first else "", f"S{index}", f"I-{n}-{index}",
                "all" if first else "", "things" if first else "", f"{10 + index}.00",
                f"{9 + index}.00", "2" if first else "0",
            ])  # fmt: skip
    with schema_context("acme"):
        shop(("USD", "EUR"))
        commerce.location_create(code="main", name="Main")
        commerce.collection_create(title="All", handle="all")
        commerce.category_create(name="Things", handle="things")
        commerce.catalog_import(rows=csv_format.parse(out.getvalue()).rows)
        for made in selectors.products():
            commerce.product_image_add(
                product_id=made.pk, file=png_upload(), alt_text={"en": made.title}
            )
    project_products("acme")


@pytest.mark.parametrize(("products", "variants"), [(30, 20), (2, 1)])
def test_the_listing_costs_four_queries_whatever_its_size(
    acme_site, acme_client, media_root, django_assert_num_queries, products, variants
):
    """The store's settings, the count and the page, the page's main images; the filters'
    collections, categories and option values come from the cache."""
    _catalogue_of(products, variants)
    path = "/shop/?sort=price_asc&currency=EUR"
    acme_client.get(path)  # warm: the tenant and the site's menus come from the cache
    with django_assert_num_queries(4):
        response = acme_client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    titles = re.findall(r'class="product-card__title"><a href="[^"]*">([^<]*)</a>', html)
    assert len(titles) == min(products, 24)
    assert html.count('class="product-card__image"') == min(products, 24)
    assert html.count('alt="Item ') == min(products, 24)


def test_the_filter_choices_follow_the_catalog(acme_site, acme_client, media_root):
    _catalogue_of(2, 3)
    html = acme_client.get("/shop/").content.decode()
    assert 'value="Size:S2"' in html and 'value="Size:S7"' not in html
    with schema_context("acme"):
        commerce.collection_create(title="Winter", handle="winter")
    project_products("acme")  # the collection's event reaches the listing's projection
    _catalogue_of_more()
    html = acme_client.get("/shop/").content.decode()
    assert 'value="Size:S7"' in html
    assert '<option value="winter">Winter</option>' in html


def _catalogue_of_more() -> None:
    """One more product, with sizes the others do not have, through the CSV import."""
    text = "handle,title,status,option1_name,option1_value,sku,price_USD,price_EUR\n"
    text += "".join(
        f"big,{'Big' if n == 7 else ''},{'active' if n == 7 else ''},"
        f"{'Size' if n == 7 else ''},S{n},BIG-{n},20.00,19.00\n"
        for n in (7, 8)
    )
    with schema_context("acme"):
        commerce.catalog_import(rows=csv_format.parse(text).rows)
    project_products("acme")
