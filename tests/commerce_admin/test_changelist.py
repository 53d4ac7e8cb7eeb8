"""The product list: a bounded number of queries whatever the number of rows, labels by
title and handle, and the columns it promises."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from apps.commerce import services
from apps.commerce.models import Product
from apps.commerce.services import VariantInput

from .conftest import PRODUCTS, make_location, make_product, page


def catalog(count: int) -> None:
    """``count`` products, each with two variants priced in USD and EUR, stock and a category."""
    location = make_location()
    with schema_context("acme"):
        category = services.category_create(name="Shirts")
        for number in range(count):
            product = services.product_create(
                data=services.ProductInput(title=f"Shirt {number}", category_ids=[category.pk])
            )
            services.option_create(product_id=product.pk, name="Size", values=["S", "M"])
            for size in ("S", "M"):
                variant = services.variant_create(
                    product_id=product.pk,
                    data=VariantInput(sku=f"SH-{number}-{size}", options={"Size": size}),
                )
                for currency in ("USD", "EUR"):
                    services.price_set(
                        variant_id=variant.pk, currency=currency, amount=f"{10 + number}.50"
                    )
                services.stock_adjust(
                    variant_id=variant.pk, location_id=location.pk, delta=3, reason="received"
                )


@pytest.mark.parametrize("count", [3, 30])
def test_the_product_list_costs_the_same_queries_for_3_and_30_products(
    merchant_client, shop, django_assert_num_queries, count
):
    catalog(count)
    merchant_client.get(PRODUCTS)  # warm the per-process caches (tenant, flags, modules)
    # session, user, the user's and the groups' permissions, the store's currency, the
    # filters' categories and collections, the count and the rows.
    with django_assert_num_queries(9):
        content = page(merchant_client.get(PRODUCTS))
    assert content.count('class="list-title"') == count


def test_the_list_shows_title_handle_status_variants_price_and_stock(merchant_client, shop):
    catalog(1)
    content = page(merchant_client.get(PRODUCTS))
    assert "Shirt 0" in content and "shirt-0" in content
    row = content.split('class="list-title"', 1)[1].split("</tr>", 1)[0]
    assert '<td class="field-variant_count">2</td>' in row
    assert '<td class="field-on_hand">6</td>' in row
    assert "$10.50" in row or "10.50" in row
    assert "Draft" in row


def test_the_list_searches_by_sku(merchant_client, shop):
    catalog(3)
    make_product("Unrelated")
    content = page(merchant_client.get(PRODUCTS, {"q": "SH-1-M"}))
    assert "Shirt 1" in content and "Shirt 2" not in content and "Unrelated" not in content


def test_the_list_offers_the_csv_import_and_export(merchant_client, shop):
    catalog(2)
    listing = page(merchant_client.get(PRODUCTS))
    assert 'href="/admin/commerce/import/"' in listing
    assert 'href="/admin/commerce/export/"' in listing
    with schema_context("acme"):
        chosen = str(Product.objects.order_by("pk").values_list("pk", flat=True)[0])
    response = merchant_client.post(
        PRODUCTS, {"action": "export_catalog_csv", "_selected_action": [chosen], "index": 0}
    )
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    exported = response.content.decode()
    assert "SH-0-S" in exported and "SH-1-M" in exported


def test_a_forged_selection_is_refused_with_a_message(merchant_client, shop):
    catalog(1)
    response = merchant_client.post(
        PRODUCTS, {"action": "export_catalog_csv", "_selected_action": ["x"], "index": 0}
    )
    assert response.status_code == 302 and response["Location"].endswith(PRODUCTS)
    assert "The selection is not valid." in page(merchant_client.get(PRODUCTS))
