"""The product listing projection's rows: built from commerce's selectors, written with a version
guard.

The handler, ``rebuild_projections`` and the consistency check all build rows with
``expected_rows`` from the current state of a product, so the three agree by construction.
``source_version`` is the product's aggregate version; stock, collection and category changes
do not bump it, so a row of the same version is written again (``replace_equal``), and only an
older one is refused.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any
from uuid import UUID

from apps.commerce import selectors as commerce
from apps.commerce.money import round_amount
from apps.core.generations import Generations

from .content_listing import Locales, tenant_locales
from .models import ProductListing
from .projections import newest_versions, sources_behind, write_by_locale
from .text import MAX_BODY_TEXT, search_config, text_of

CHUNK = 500
# What is read from the listing and cached (the shop's filter choices): rebuilt after rows are
# written or removed (``sync_products``, ``sync_all``; a rebuild invalidates on its reset).
LISTING_CACHE = Generations("index:product-listing", 3600)

# The title weighs most, then vendor and type, then the description.
VECTOR_SQL = (
    "setweight(to_tsvector({config}::regconfig, {title}), 'A') || "
    "setweight(to_tsvector({config}::regconfig, {vendor} || ' ' || {kind}), 'B') || "
    "setweight(to_tsvector({config}::regconfig, {description}), 'C')"
)
VECTOR_SOURCE = {"config": "search_config", "title": "title", "vendor": "vendor",
                 "kind": "product_type", "description": "description_text"}  # fmt: skip
VECTOR_FROM_COLUMNS = VECTOR_SQL.format(**VECTOR_SOURCE)
# The columns it reads: a row whose values of these did not change keeps its vector.
VECTOR_COLUMNS = tuple(VECTOR_SOURCE.values())

ROW_FIELDS = (
    "content_locale", "title", "handle", "status", "vendor", "product_type", "description_text",
    "price_min", "price_max", "on_sale", "in_stock", "total_available", "variant_count",
    "option_names", "option_values", "image_id", "collection_ids", "collection_handles",
    "category_ids", "category_handles", "created_at", "search_config",
)  # fmt: skip


def option_token(name: str, value: str) -> str:
    """How an option value is stored in ``option_values`` (and looked up by the selectors)."""
    return f"{name}:{value}"


def _prices(product) -> tuple[dict[str, str], dict[str, str], bool]:
    lowest: dict[str, Any] = {}
    highest: dict[str, Any] = {}
    on_sale = False
    for variant in product.variants.all():
        for price in variant.prices.all():
            currency = price.currency
            lowest[currency] = min(lowest.get(currency, price.amount), price.amount)
            highest[currency] = max(highest.get(currency, price.amount), price.amount)
            on_sale = on_sale or price.compare_at_amount is not None
    as_text = {c: str(round_amount(a, c)) for c, a in sorted(lowest.items())}
    return as_text, {c: str(round_amount(a, c)) for c, a in sorted(highest.items())}, on_sale


def _stock(product, available: dict[UUID, int]) -> tuple[bool, int]:
    """Whether some variant can be bought, and the units of tracked variants one can buy."""
    in_stock = False
    total = 0
    for variant in product.variants.all():
        units = available.get(variant.pk, 0)
        if commerce.variant_sells_without_stock(variant):
            in_stock = True
            continue
        total += max(units, 0)
        in_stock = in_stock or units > 0
    return in_stock, total


def expected_rows(
    product, locales: Locales, available: dict[UUID, int]
) -> dict[str, dict[str, Any]]:
    """The rows ``product`` should have, by locale: none unless it is active.

    ``available`` maps its variants to their available units (``available_by_variant``).
    """
    if product is None or product.status != commerce.ProductStatus.ACTIVE:
        return {}
    price_min, price_max, on_sale = _prices(product)
    in_stock, total_available = _stock(product, available)
    options = list(product.options.all())
    collections = list(product.collections.all())
    categories = list(product.categories.all())
    shared = {
        "handle": product.handle,
        "status": product.status,
        "vendor": product.vendor,
        "product_type": product.product_type,
        "price_min": price_min,
        "price_max": price_max,
        "on_sale": on_sale,
        "in_stock": in_stock,
        "total_available": total_available,
        "variant_count": len(product.variants.all()),
        "option_names": [option.name for option in options],
        "option_values": [
            option_token(option.name, value.value)
            for option in options
            for value in option.values.all()
        ],
        # The main image: the first in the product's order (prefetched with the product).
        "image_id": next((image.pk for image in product.images.all()), None),
        "collection_ids": sorted(collection.pk for collection in collections),
        "collection_handles": sorted(collection.handle for collection in collections),
        "category_ids": sorted(category.pk for category in categories),
        "category_handles": sorted(category.handle for category in categories),
        "created_at": product.created_at,
    }
    rows = {}
    for locale in locales.served:
        text = commerce.product_text(product, locale)
        rows[locale] = {
            **shared,
            "content_locale": text.locale,
            "title": text.title,
            "description_text": text_of(text.description_html)[:MAX_BODY_TEXT],
            "search_config": search_config(text.locale),
        }
    return rows


def write(product_id: UUID, version: int | None, rows: dict[str, dict[str, Any]]) -> None:
    """Make the stored rows of ``product_id`` be ``rows`` (unless they reflect a newer version)."""
    write_many([(product_id, version, rows)])


def write_many(items: list[tuple[UUID, int | None, dict[str, dict[str, Any]]]]) -> None:
    """``write`` for many products: one upsert and one delete (``write_by_locale``)."""
    write_by_locale(
        ProductListing, "product_id", items,
        computed={"search_vector": VECTOR_FROM_COLUMNS}, computed_from=VECTOR_COLUMNS,
    )  # fmt: skip


def availability(products: Iterable) -> dict[UUID, int]:
    """Available units of every variant of ``products`` (one query)."""
    return commerce.available_by_variant(
        variant.pk for product in products for variant in product.variants.all()
    )


def products_behind(named: Iterable[tuple[UUID | str, int | None]]) -> list[UUID]:
    """Of the products that events name with their versions (None: a stock event, which does
    not bump it), those whose rows may not show that version yet (``sources_behind``)."""
    # Each id parsed once (a product event names it as text, a stock event as a UUID).
    by_value = newest_versions(named)
    versions = newest_versions((UUID(str(pk)), version) for pk, version in by_value.items())
    return sources_behind(ProductListing, "product_id", versions)


def sync_products(product_ids: Iterable[UUID | str], locales: Locales | None = None) -> int:
    """Bring the rows of these products in line with their current state, a chunk at a time
    (a fixed number of queries per chunk); a product that is gone loses its rows."""
    ids = list(dict.fromkeys(UUID(str(pk)) for pk in product_ids))
    if not ids:
        return 0
    locales = locales or tenant_locales()
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        found = {product.pk: product for product in commerce.products_for_listing(chunk)}
        available = availability(found.values())
        write_many(
            [
                (product.pk, product.version, expected_rows(product, locales, available))
                if (product := found.get(product_id))
                else (product_id, None, {})
                for product_id in chunk
            ]
        )
    LISTING_CACHE.invalidate()  # once for the lot, not once per product
    return len(ids)


def active_products() -> Iterator[tuple[Any, dict[UUID, int]]]:
    """Every active product of the active tenant with its variants' availability, in chunks."""
    ids = list(commerce.active_products().order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), CHUNK):
        chunk = list(commerce.products_for_listing(ids[start : start + CHUNK]).order_by("pk"))
        available = availability(chunk)
        for product in chunk:
            yield product, available


def active_count() -> int:
    return commerce.active_products().count()


def sync_all() -> int:
    """Every row of the active tenant again (after its locales changed, say)."""
    locales = tenant_locales()
    seen = set()
    for product, available in active_products():
        write(product.pk, product.version, expected_rows(product, locales, available))
        seen.add(product.pk)
    listed = set(ProductListing.objects.values_list("product_id", flat=True).distinct())
    ProductListing.objects.exclude(locale__in=locales.served).delete()
    LISTING_CACHE.invalidate()
    sync_products(listed - seen, locales)
    return len(seen)
