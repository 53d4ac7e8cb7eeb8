"""The data of the pages' product-grid block: real products, read through commerce's selectors.

Pages (a wrapper) never import commerce, so the storefront registers ``grid_data`` as the
block's data provider (``apps.pages.rendering.register_block_data``, from
``StorefrontConfig.ready``). A grid costs a fixed number of queries whatever its size: the
products with their text, variants, prices and images, their stock, and the store's currencies
once per request.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from apps.commerce import selectors as commerce
from apps.pages.blocks import ProductGridBlock
from apps.pages.delivery import reader_locale

from .shop_cards import product_cards
from .shop_money import reader_currency


def grid_data(
    block: ProductGridBlock, *, request: HttpRequest | None, locale: str
) -> dict[str, Any]:
    """``{"cards": [...]}``: the block's active products as cards, in the source's order."""
    if request is None:
        return {}
    products = commerce.product_cards_source(
        handles=block.handles or None,
        collection=block.collection or None,
        category=block.category or None,
        limit=block.count,
    )
    if not products:
        return {"cards": []}
    available = commerce.available_by_variant(
        variant.pk for product in products for variant in product.variants.all()
    )
    return {
        "cards": product_cards(
            products,
            currency=reader_currency(request),
            locale=reader_locale(request),
            available=available,
        )
    }
