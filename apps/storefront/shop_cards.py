"""Product cards: what a grid of products shows of each (title, link, image, price, stock).

Two sources give the same dicts, so one template (``shop/_card.html``) shows both: the
shop's listing rows (``apps.index`` ``ProductListing``, ``listing_cards``) and commerce's
products as ``commerce.selectors.products()`` loads them (``product_cards``), e.g. for a
grid of a collection's products. Neither runs a query per product: the listing's main
images come in one query for the page, the products' with their prefetches.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from apps.commerce import selectors as commerce
from apps.pages.delivery import ReaderLocale

from .shop_money import format_money


def product_url(handle: str, locale: ReaderLocale) -> str:
    """Where the shop serves a product (``/shop/<handle>/``), in the reader's locale."""
    return reverse("shop:product", args=[handle]) + locale.query


def price_label(
    lowest: Decimal | None, highest: Decimal | None, currency: str, locale: str
) -> str | None:
    """ "€10.00", or "from €10.00" when the variants' prices differ; None when not priced."""
    if lowest is None:
        return None
    price = format_money(lowest, currency, locale)
    if highest is not None and highest > lowest:
        with translation.override(locale):  # the words in the language of the number
            return gettext("from %(price)s") % {"price": price}
    return price


def _image(image, code: str) -> dict[str, Any] | None:
    # Without its size the image would shift the page as it loads: left out.
    if image is None or not image.width or not image.height:
        return None
    return {
        "url": image.file.url,
        "width": image.width,
        "height": image.height,
        "alt": image.alt(code),
    }


def _other_language(code: str, locale: ReaderLocale) -> str:
    """The text's language when it is not the page's (a fallback to the default): for ``lang``."""
    return code if code != locale.current else ""


def _amount(prices: dict[str, str], currency: str) -> Decimal | None:
    value = (prices or {}).get(currency)
    return Decimal(value) if value is not None else None


def listing_cards(rows: Iterable, *, currency: str, locale: ReaderLocale) -> list[dict[str, Any]]:
    """Cards for ``ProductListing`` rows (``apps.index.selectors.product_listing``): one query
    for their main images, whatever their number."""
    rows = list(rows)
    images = commerce.main_images([row.product_id for row in rows if row.image_id])
    return [
        {
            "product_id": row.product_id,
            "title": row.title,
            "lang": _other_language(row.content_locale, locale),
            "url": product_url(row.handle, locale),
            "image": _image(images.get(row.product_id), locale.current),
            "price": price_label(
                _amount(row.price_min, currency),
                _amount(row.price_max, currency),
                currency,
                locale.current,
            ),
            "on_sale": row.on_sale,
            "in_stock": row.in_stock,
        }
        for row in rows
    ]


def product_cards(
    products: Iterable, *, currency: str, locale: ReaderLocale, available: dict[UUID, int]
) -> list[dict[str, Any]]:
    """Cards for commerce products loaded by ``commerce.selectors.products()`` (no query here).

    Unlike the listing's rows (whose ``on_sale`` counts a compare-at price in any currency),
    ``on_sale`` here means a compare-at price in ``currency``.

    ``available`` maps their variants to available units (``commerce.selectors
    .available_by_variant``, one query for all of them).
    """
    cards = []
    for product in products:
        text = commerce.product_text(product, locale.current)
        variants = list(product.variants.all())
        priced = [
            price
            for variant in variants
            if (price := commerce.variant_price(variant, currency)) is not None
        ]
        amounts = [price.amount for price in priced]
        cards.append(
            {
                "product_id": product.pk,
                "title": text.title,
                "lang": _other_language(text.locale, locale),
                "url": product_url(product.handle, locale),
                "image": _image(next(iter(product.images.all()), None), locale.current),
                "price": price_label(
                    min(amounts, default=None), max(amounts, default=None), currency, locale.current
                ),
                "on_sale": any(price.compare_at_amount is not None for price in priced),
                "in_stock": any(
                    commerce.variant_sells_without_stock(variant)
                    or available.get(variant.pk, 0) > 0
                    for variant in variants
                ),
            }
        )
    return cards
