"""Reads of the catalog, the store's settings and the stock that other modules (index, api,
storefront, admin) may use. Querysets come with what rendering them needs prefetched, so a
listing costs a fixed number of queries whatever its size."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from django.contrib.postgres.aggregates import ArrayAgg, StringAgg
from django.core.exceptions import ValidationError
from django.db.models import F, Min, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from apps.tenancy.selectors import current_locales

# Customers' reads (for the admin and the API) live in customer_reads.
from .customer_reads import customer_get, customer_name, customer_orders, customers  # noqa: F401
from .models import (
    Cart,
    CartLine,
    Category,
    Collection,
    CollectionProduct,
    InventoryPolicy,
    Location,
    OptionValue,
    Price,
    Product,
    ProductImage,
    ProductOption,
    ProductStatus,
    ProductTranslation,
    Reservation,
    StockAdjustment,
    StockLevel,
    StoreSettings,
    Variant,
    VariantOptionValue,
)
from .money import round_amount

# Orders' reads live in order_reads; this module is their public address.
from .order_reads import (  # noqa: F401
    HistoryEntry,
    customer_order,
    order_as_of,
    order_get,
    order_history,
    order_placed_in_session,
    order_state,
    order_stream,
    orders,
)
from .order_state import OrderState  # noqa: F401

DEFAULT_CURRENCY = "USD"


def store_settings() -> StoreSettings:
    """The tenant's store settings; a store that never changed them sells in USD only."""
    stored = StoreSettings.objects.filter(pk=1).first()
    if stored is not None:
        return stored
    return StoreSettings(pk=1, default_currency=DEFAULT_CURRENCY, enabled_currencies=["USD"])


# -- products ----------------------------------------------------------------------------


def _variants_queryset() -> QuerySet[Variant]:
    return Variant.objects.order_by("position", "created_at").prefetch_related(
        Prefetch("prices", queryset=Price.objects.order_by("currency")),
        Prefetch(
            "choices",
            queryset=VariantOptionValue.objects.select_related("option", "value").order_by(
                "option__position"
            ),
        ),
    )


def products(
    *,
    status: str | None = None,
    collection_handle: str | None = None,
    category_handle: str | None = None,
    vendor: str | None = None,
    product_type: str | None = None,
) -> QuerySet[Product]:
    """Products with their translations, options (and values), variants (with prices and
    option values), categories, collections and images loaded in a fixed number of queries."""
    queryset = Product.objects.prefetch_related(
        Prefetch("translations", queryset=ProductTranslation.objects.order_by("locale")),
        Prefetch(
            "options",
            queryset=ProductOption.objects.order_by("position").prefetch_related(
                Prefetch("values", queryset=OptionValue.objects.order_by("position"))
            ),
        ),
        Prefetch("variants", queryset=_variants_queryset()),
        Prefetch("categories", queryset=Category.objects.order_by("position", "name")),
        Prefetch("collections", queryset=Collection.objects.order_by("title")),
        Prefetch("images", queryset=ProductImage.objects.order_by("position")),
    )
    if status:
        queryset = queryset.filter(status=status)
    if collection_handle:
        queryset = queryset.filter(collections__handle=collection_handle)
    if category_handle:
        queryset = queryset.filter(categories__handle=category_handle)
    if vendor:
        queryset = queryset.filter(vendor=vendor)
    if product_type:
        queryset = queryset.filter(product_type=product_type)
    return queryset


def active_products() -> QuerySet[Product]:
    return products(status=ProductStatus.ACTIVE).order_by("-created_at")


def product_get(product_id: UUID | str) -> Product | None:
    try:
        return products().filter(pk=product_id).first()
    except (ValidationError, ValueError):
        return None


def product_by_handle(handle: str, *, status: str | None = None) -> Product | None:
    return products(status=status).filter(handle=handle).first()


def products_by_ids(product_ids: Iterable[UUID]) -> QuerySet[Product]:
    return products().filter(pk__in=list(product_ids))


def products_for_listing(product_ids: Iterable[UUID]) -> QuerySet[Product]:
    """``products_by_ids`` with what a listing row shows: translations, options (and values),
    variants with their prices, categories, collections and images, but not the variants'
    option choices (one query fewer for every read of the read side)."""
    return Product.objects.filter(pk__in=list(product_ids)).prefetch_related(
        Prefetch("translations", queryset=ProductTranslation.objects.order_by("locale")),
        Prefetch(
            "options",
            queryset=ProductOption.objects.order_by("position").prefetch_related(
                Prefetch("values", queryset=OptionValue.objects.order_by("position"))
            ),
        ),
        Prefetch(
            "variants",
            queryset=Variant.objects.order_by("position", "created_at").prefetch_related(
                Prefetch("prices", queryset=Price.objects.order_by("currency"))
            ),
        ),
        Prefetch("categories", queryset=Category.objects.order_by("position", "name")),
        Prefetch("collections", queryset=Collection.objects.order_by("title")),
        Prefetch("images", queryset=ProductImage.objects.order_by("position")),
    )


@dataclass(frozen=True)
class ProductText:
    """A product's text fields in one locale (its own fields when there is no translation)."""

    locale: str
    title: str
    description_html: str
    seo_title: str
    seo_description: str


def product_text(product: Product, locale: str) -> ProductText:
    """The product's text in ``locale``, else in the tenant's default (uses prefetched rows)."""
    for translation in product.translations.all():
        if translation.locale == locale:
            return ProductText(
                locale=locale,
                title=translation.title,
                description_html=translation.description_html,
                seo_title=translation.seo_title or translation.title,
                seo_description=translation.seo_description,
            )
    return ProductText(
        locale=current_locales()[0],
        title=product.title,
        description_html=product.description_html,
        seo_title=product.seo_title or product.title,
        seo_description=product.seo_description,
    )


def product_translations(product_id: UUID) -> QuerySet[ProductTranslation]:
    return ProductTranslation.objects.filter(product_id=product_id).order_by("locale")


def product_options(product_id: UUID) -> QuerySet[ProductOption]:
    return (
        ProductOption.objects.filter(product_id=product_id)
        .order_by("position")
        .prefetch_related(Prefetch("values", queryset=OptionValue.objects.order_by("position")))
    )


def variants(*, product_id: UUID | None = None) -> QuerySet[Variant]:
    queryset = _variants_queryset().select_related("product")
    if product_id is not None:
        queryset = queryset.filter(product_id=product_id)
    return queryset


def variant_get(variant_id: UUID | str) -> Variant | None:
    try:
        return variants().filter(pk=variant_id).first()
    except (ValidationError, ValueError):
        return None


def variant_by_sku(sku: str) -> Variant | None:
    return variants().filter(sku=sku).first()


def variant_options(variant: Variant) -> dict[str, str]:
    """``{"Size": "M", "Colour": "Red"}`` in option order (uses prefetched rows)."""
    return {choice.option.name: choice.value.value for choice in variant.choices.all()}


def variant_price(variant: Variant, currency: str) -> Price | None:
    """The variant's price in ``currency`` (uses prefetched rows)."""
    return next((price for price in variant.prices.all() if price.currency == currency), None)


def prices(*, variant_id: UUID) -> QuerySet[Price]:
    return Price.objects.filter(variant_id=variant_id).order_by("currency")


def price_range(product: Product, currency: str) -> tuple[Decimal, Decimal] | None:
    """The lowest and highest price of the product's variants in ``currency`` (prefetched)."""
    amounts = [
        price.amount
        for variant in product.variants.all()
        for price in variant.prices.all()
        if price.currency == currency
    ]
    return (min(amounts), max(amounts)) if amounts else None


# -- collections and categories ----------------------------------------------------------


def collections() -> QuerySet[Collection]:
    return Collection.objects.order_by("title")


def collection_get(collection_id: int) -> Collection | None:
    return Collection.objects.filter(pk=collection_id).first()


def collection_by_handle(handle: str) -> Collection | None:
    return Collection.objects.filter(handle=handle).first()


def collection_products(collection_id: int, *, status: str | None = None) -> QuerySet[Product]:
    """The collection's products in the collection's order."""
    return (
        products(status=status)
        .filter(memberships__collection_id=collection_id)
        .order_by("memberships__position")
    )


def collection_product_ids(collection_id: int) -> list[UUID]:
    return list(
        CollectionProduct.objects.filter(collection_id=collection_id)
        .order_by("position")
        .values_list("product_id", flat=True)
    )


def categories() -> QuerySet[Category]:
    return Category.objects.select_related("parent").order_by("position", "name")


def category_get(category_id: int) -> Category | None:
    return Category.objects.filter(pk=category_id).first()


def category_by_handle(handle: str) -> Category | None:
    return Category.objects.filter(handle=handle).first()


def category_descendant_ids(category_id: int) -> list[int]:
    """The category and every category under it (one query)."""
    tree: dict[int | None, list[int]] = {}
    for pk, parent_id in Category.objects.values_list("pk", "parent_id"):
        tree.setdefault(parent_id, []).append(pk)
    found, stack = [], [category_id]
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(tree.get(current, []))
    return found


# -- inventory ---------------------------------------------------------------------------


def locations(*, active_only: bool = False) -> QuerySet[Location]:
    queryset = Location.objects.order_by("name")
    return queryset.filter(active=True) if active_only else queryset


def location_get(location_id: int) -> Location | None:
    return Location.objects.filter(pk=location_id).first()


def location_by_code(code: str) -> Location | None:
    return Location.objects.filter(code=code).first()


def stock_levels(
    *, variant_id: UUID | None = None, location_id: int | None = None
) -> QuerySet[StockLevel]:
    queryset = StockLevel.objects.select_related("variant", "location").order_by(
        "variant__sku", "location__name"
    )
    if variant_id is not None:
        queryset = queryset.filter(variant_id=variant_id)
    if location_id is not None:
        queryset = queryset.filter(location_id=location_id)
    return queryset


def stock_level(variant_id: UUID, location_id: int) -> StockLevel | None:
    return StockLevel.objects.filter(variant_id=variant_id, location_id=location_id).first()


def available_by_variant(variant_ids: Iterable[UUID]) -> dict[UUID, int]:
    """Available units (on hand minus reserved, every location) per variant, in one query;
    a variant without stock levels has 0."""
    ids = list(variant_ids)
    totals = {variant_id: 0 for variant_id in ids}
    rows = (
        StockLevel.objects.filter(variant_id__in=ids)
        .values("variant_id")
        .annotate(on_hand=Sum("on_hand"), reserved=Sum("reserved"))
        .order_by()
    )
    for row in rows:
        totals[row["variant_id"]] = row["on_hand"] - row["reserved"]
    return totals


def adjustments(
    *, variant_id: UUID | None = None, location_id: int | None = None
) -> QuerySet[StockAdjustment]:
    queryset = StockAdjustment.objects.select_related("variant", "location", "actor").order_by(
        "-created_at", "-id"
    )
    if variant_id is not None:
        queryset = queryset.filter(variant_id=variant_id)
    if location_id is not None:
        queryset = queryset.filter(location_id=location_id)
    return queryset


def reservations(*, reference: str | None = None) -> QuerySet[Reservation]:
    queryset = Reservation.objects.select_related("variant", "location").order_by("expires_at")
    if reference is not None:
        queryset = queryset.filter(reference=reference)
    return queryset


# -- product images ------------------------------------------------------------------------


def product_images(product_id: UUID | str) -> QuerySet[ProductImage]:
    """The product's images in their order (the first is the main one)."""
    try:
        return ProductImage.objects.filter(product_id=product_id).order_by("position")
    except (ValidationError, ValueError):
        return ProductImage.objects.none()


def product_image_get(image_id: UUID | str) -> ProductImage | None:
    try:
        return ProductImage.objects.filter(pk=image_id).first()
    except (ValidationError, ValueError):
        return None


def main_images(product_ids: Iterable[UUID]) -> dict[UUID, ProductImage]:
    """Each product's first image, for a listing: one query for any number of products."""
    rows = (
        ProductImage.objects.filter(product_id__in=list(product_ids))
        .order_by("product_id", "position")
        .distinct("product_id")
    )
    return {image.product_id: image for image in rows}


# -- for the read side's product listing -------------------------------------------------


def variant_sells_without_stock(variant: Variant) -> bool:
    """Whether the variant can be bought whatever its stock (untracked, or allowed to oversell)."""
    return not variant.tracked or variant.inventory_policy == InventoryPolicy.CONTINUE


def category_product_ids(category_id: int) -> list[UUID]:
    """The products filed under the category (itself, not its subcategories)."""
    return list(
        Product.categories.through.objects.filter(category_id=category_id)
        .order_by("product_id")
        .values_list("product_id", flat=True)
    )


# -- catalog export (the CSV export) -------------------------------------------------------


def _money_text(amount: Decimal | None, currency: str) -> str:
    if amount is None:
        return ""
    from .money import round_amount

    return str(round_amount(amount, currency))


def catalog_export() -> tuple[list[str], list[str], Iterable[dict[str, str]]]:
    """The whole catalog as ``csv_format`` records: (currencies, location codes, records).

    One record per variant, product fields on each product's first record only; a fixed
    number of queries whatever the catalog's size.
    """
    settings_row = store_settings()
    default = settings_row.default_currency
    # Prices in a currency no longer enabled stay stored but cannot be imported: left out.
    currencies = [default, *sorted(set(settings_row.enabled_currencies) - {default})]
    locations = dict(Location.objects.order_by("code").values_list("pk", "code"))
    rows = (
        Product.objects.order_by("handle")
        .prefetch_related(
            Prefetch("options", queryset=ProductOption.objects.order_by("position")),
            Prefetch("categories", queryset=Category.objects.order_by("handle")),
            Prefetch(
                "memberships",
                queryset=CollectionProduct.objects.select_related("collection").order_by(
                    "collection__handle"
                ),
            ),
            Prefetch(
                "variants",
                queryset=Variant.objects.order_by("position", "created_at", "sku").prefetch_related(
                    "prices",
                    "stock_levels",
                    Prefetch(
                        "choices", queryset=VariantOptionValue.objects.select_related("value")
                    ),
                ),
            ),
        )
        .iterator(chunk_size=500)
    )

    def records():
        for product in rows:
            options = list(product.options.all())
            for index, variant in enumerate(product.variants.all()):
                record = {"handle": product.handle, "sku": variant.sku}
                if index == 0:
                    record.update(
                        title=product.title, description=product.description,
                        vendor=product.vendor, product_type=product.product_type,
                        status=product.status, seo_title=product.seo_title,
                        seo_description=product.seo_description,
                        categories="|".join(c.handle for c in product.categories.all()),
                        collections="|".join(m.collection.handle for m in product.memberships.all()),
                    )  # fmt: skip
                    for n, option in enumerate(options, start=1):
                        record[f"option{n}_name"] = option.name
                chosen = {choice.option_id: choice.value.value for choice in variant.choices.all()}
                for n, option in enumerate(options, start=1):
                    record[f"option{n}_value"] = chosen.get(option.pk, "")
                record.update(
                    barcode=variant.barcode,
                    weight_grams=""
                    if variant.weight_grams is None
                    else format(variant.weight_grams.normalize(), "f"),
                    inventory_policy=variant.inventory_policy,
                    tracked="true" if variant.tracked else "false",
                    low_stock_threshold=str(variant.low_stock_threshold),
                )
                for price in variant.prices.all():
                    record[f"price_{price.currency}"] = _money_text(price.amount, price.currency)
                    record[f"compare_at_{price.currency}"] = _money_text(
                        price.compare_at_amount, price.currency
                    )
                for level in variant.stock_levels.all():
                    record[f"stock_{locations[level.location_id]}"] = str(level.on_hand)
                yield record

    return currencies, list(locations.values()), records()


# -- reads of the REST API ----------------------------------------------------------------


def product_options_all() -> QuerySet[ProductOption]:
    """Every product's options with their ordered values (two queries for any number)."""
    return ProductOption.objects.order_by("product_id", "position").prefetch_related(
        Prefetch("values", queryset=OptionValue.objects.order_by("position"))
    )


def product_images_all() -> QuerySet[ProductImage]:
    """Every product's images, each product's in their order."""
    return ProductImage.objects.order_by("product_id", "position")


def collections_with_members() -> QuerySet[Collection]:
    """Collections with their member rows in the collection's order (two queries)."""
    return collections().prefetch_related(
        Prefetch("members", queryset=CollectionProduct.objects.order_by("position"))
    )


# -- product grids (pages' product-grid block) ----------------------------------------------

MAX_GRID_PRODUCTS = 24


def product_cards_source(
    *,
    handles: Iterable[str] | None = None,
    collection: str | None = None,
    category: str | None = None,
    limit: int = 4,
) -> list[Product]:
    """Active products for a grid of cards, from one source: ``handles`` (in that order), a
    ``collection`` handle (in the collection's order) or a ``category`` handle (the category
    itself, newest first). At most ``limit`` (and ``MAX_GRID_PRODUCTS``) products, with their
    translations, variants and their prices, and images: five queries whatever their number
    (none without a source). Drafts, archived products and unknown handles are left out.
    """
    limit = max(1, min(int(limit), MAX_GRID_PRODUCTS))
    queryset = Product.objects.filter(status=ProductStatus.ACTIVE).prefetch_related(
        Prefetch("translations", queryset=ProductTranslation.objects.order_by("locale")),
        Prefetch(
            "variants",
            queryset=Variant.objects.order_by("position", "created_at").prefetch_related(
                Prefetch("prices", queryset=Price.objects.order_by("currency"))
            ),
        ),
        Prefetch("images", queryset=ProductImage.objects.order_by("position")),
    )
    if handles is not None:
        wanted = list(dict.fromkeys(str(handle) for handle in handles))[:MAX_GRID_PRODUCTS]
        if not wanted:
            return []
        order = {handle: position for position, handle in enumerate(wanted)}
        found = sorted(queryset.filter(handle__in=wanted), key=lambda p: order[p.handle])
        return found[:limit]
    if collection:
        queryset = queryset.filter(memberships__collection__handle=collection).order_by(
            "memberships__position", "pk"
        )
    elif category:
        queryset = queryset.filter(categories__handle=category).order_by("-created_at", "pk")
    else:
        return []
    return list(queryset[:limit])


# -- the storefront's shop pages -----------------------------------------------------------


def product_for_page(handle: str) -> Product | None:
    """An active product with what its public page shows, in six queries whatever its number
    of variants: the product, its translations, variants, their prices, their option values
    (with the options) and its images. Options come from the variants' values, so a value no
    variant has is never offered; collections and categories are left out."""
    return (
        Product.objects.filter(handle=handle, status=ProductStatus.ACTIVE)
        .prefetch_related(
            Prefetch("translations", queryset=ProductTranslation.objects.order_by("locale")),
            Prefetch("variants", queryset=_variants_queryset()),
            Prefetch("images", queryset=ProductImage.objects.order_by("position")),
        )
        .first()
    )


@dataclass(frozen=True)
class OptionChoice:
    """An option's values among the active products, in the options' own order."""

    name: str
    values: tuple[str, ...]


def active_option_choices() -> list[OptionChoice]:
    """Every option name and value that some variant of an active product has (one query),
    for the shop's filters. Values keep their order within options (the lowest position
    any product gives them); names are sorted."""
    rows = (
        VariantOptionValue.objects.filter(variant__product__status=ProductStatus.ACTIVE)
        .values_list("option__name", "value__value")
        .annotate(first=Min("value__position"))
        .order_by("option__name", "first", "value__value")
    )
    grouped: dict[str, list[str]] = {}
    for name, value, _position in rows:
        grouped.setdefault(name, []).append(value)
    return [OptionChoice(name=name, values=tuple(values)) for name, values in grouped.items()]


def active_products_for_sitemap() -> list[tuple[str, datetime, list[str]]]:
    """``(handle, updated_at, translated locales)`` of every active product, in one query."""
    rows = (
        Product.objects.filter(status=ProductStatus.ACTIVE)
        .annotate(
            locales=ArrayAgg(
                "translations__locale",
                distinct=True,
                filter=Q(translations__isnull=False),
                default=Value([]),
            )
        )
        .order_by("handle")
        .values_list("handle", "updated_at", "locales")
    )
    return list(rows)


# -- carts -----------------------------------------------------------------------------------


class LineAvailability:
    """Whether a cart line can be bought as it is. ``OK`` and ``LOW`` can; the others are
    flagged and keep the cart from the checkout until the shopper changes the line."""

    OK = "ok"
    LOW = "low"  # can be bought; only a few left
    EXCEEDS_STOCK = "exceeds_stock"  # more in the cart than available
    OUT_OF_STOCK = "out_of_stock"
    UNAVAILABLE = "unavailable"  # the product is not on sale (a draft or archived)
    NO_PRICE = "no_price"  # no price in the cart's currency

    PURCHASABLE = frozenset({OK, LOW})


@dataclass(frozen=True)
class CartLineView:
    line_id: int
    variant_id: UUID
    product_handle: str
    product_title: str  # in the cart's locale, else the tenant's default
    variant_title: str  # "M / Blue"; "" for a variant without options
    sku: str
    image_url: str | None  # the product's first image
    quantity: int
    unit_price: Decimal | None  # None: no price in the currency
    compare_at: Decimal | None
    total: Decimal | None
    availability: str
    available: int | None  # units one can buy now; None when stock does not limit the variant

    @property
    def purchasable(self) -> bool:
        return self.availability in LineAvailability.PURCHASABLE


@dataclass(frozen=True)
class CartView:
    cart_id: UUID | None
    currency: str
    lines: tuple[CartLineView, ...]
    subtotal: Decimal  # of the purchasable lines
    count: int  # units in the cart

    @property
    def can_checkout(self) -> bool:
        return bool(self.lines) and all(line.purchasable for line in self.lines)


def cart_lines_query(cart_id: UUID, *, currency: str, locale: str) -> QuerySet[CartLine]:
    """The cart's lines with everything a cart page shows, in ONE query whatever their number:
    price, stock, translated title, option values and image come as subqueries."""
    variant = OuterRef("variant_id")
    product = OuterRef("variant__product_id")
    price = Price.objects.filter(variant=variant, currency=currency)
    available = (
        StockLevel.objects.filter(variant=variant, location__active=True)
        .values("variant")
        .annotate(units=Sum(F("on_hand") - F("reserved")))
        .values("units")
    )
    options = (
        VariantOptionValue.objects.filter(variant=variant)
        .values("variant")
        .annotate(text=StringAgg("value__value", " / ", order_by="option__position"))
        .values("text")
    )
    return (
        CartLine.objects.filter(cart_id=cart_id)
        .select_related("variant__product")
        .annotate(
            unit_price=Subquery(price.values("amount")[:1]),
            compare_at=Subquery(price.values("compare_at_amount")[:1]),
            units=Coalesce(Subquery(available), 0),
            option_text=Subquery(options),
            translated_title=Subquery(
                ProductTranslation.objects.filter(product=product, locale=locale).values("title")[
                    :1
                ]
            ),
            image_file=Subquery(
                ProductImage.objects.filter(product=product).order_by("position").values("file")[:1]
            ),
        )
        .order_by("created_at", "id")
    )


def _availability(line: CartLine) -> tuple[str, int | None]:
    variant = line.variant
    if variant.product.status != ProductStatus.ACTIVE:
        return LineAvailability.UNAVAILABLE, None
    if line.unit_price is None:
        return LineAvailability.NO_PRICE, None
    if variant_sells_without_stock(variant):
        return LineAvailability.OK, None
    units = max(line.units, 0)
    if units <= 0:
        return LineAvailability.OUT_OF_STOCK, 0
    if line.quantity > units:
        return LineAvailability.EXCEEDS_STOCK, units
    threshold = variant.low_stock_threshold
    if threshold and units <= threshold:
        return LineAvailability.LOW, units
    return LineAvailability.OK, units


def cart_view(cart_id: UUID | None, *, currency: str, locale: str) -> CartView:
    """The cart as its page shows it, in one query whatever its number of lines; an unknown
    (or no) cart is an empty one. Prices are the current ones in ``currency``; a line the
    shopper cannot buy as it is stays, flagged (see ``LineAvailability``)."""
    if cart_id is None:
        return CartView(cart_id=None, currency=currency, lines=(), subtotal=Decimal(0), count=0)
    storage = ProductImage._meta.get_field("file").storage
    lines = []
    for line in cart_lines_query(cart_id, currency=currency, locale=locale):
        availability, available = _availability(line)
        unit = line.unit_price
        lines.append(
            CartLineView(
                line_id=line.pk,
                variant_id=line.variant_id,
                product_handle=line.variant.product.handle,
                product_title=line.translated_title or line.variant.product.title,
                variant_title=line.option_text or "",
                sku=line.variant.sku,
                image_url=storage.url(line.image_file) if line.image_file else None,
                quantity=line.quantity,
                unit_price=round_amount(unit, currency) if unit is not None else None,
                compare_at=round_amount(line.compare_at, currency)
                if line.compare_at is not None
                else None,
                total=round_amount(unit * line.quantity, currency) if unit is not None else None,
                availability=availability,
                available=available,
            )
        )
    subtotal = sum((line.total for line in lines if line.purchasable), Decimal(0))
    return CartView(
        cart_id=cart_id,
        currency=currency,
        lines=tuple(lines),
        subtotal=round_amount(subtotal, currency),
        count=sum(line.quantity for line in lines),
    )


def cart_count(cart_id: UUID) -> int:
    """Units in the cart (the mini-cart's number), in one query."""
    total = CartLine.objects.filter(cart_id=cart_id).aggregate(units=Sum("quantity"))["units"]
    return total or 0


def cart_count_for(*, token: UUID | None, customer_id: int | None) -> int:
    """Units in the customer's cart, else in the visitor's cart of ``token``: one query (none
    without either)."""
    if customer_id is not None:
        lines = CartLine.objects.filter(cart__customer_id=customer_id)
    elif token is not None:
        lines = CartLine.objects.filter(cart__token=token, cart__customer__isnull=True)
    else:
        return 0
    return lines.aggregate(units=Sum("quantity"))["units"] or 0


def cart_get(cart_id: UUID) -> Cart | None:
    try:
        return Cart.objects.filter(pk=cart_id).first()
    except (ValidationError, ValueError):
        return None
