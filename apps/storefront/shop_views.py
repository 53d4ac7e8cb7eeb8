"""The shop's public pages: the catalog listing and a product's page, in the reader's locale
and currency.

The listing (``/shop/``) reads the ``ProductListing`` projection (apps.index) and runs a
fixed number of queries whatever the page size and the products' variants. Its filters come
from the query string::

    ?q=tent                   words searched in the products' text (then sorted by relevance)
    ?collection=summer        a collection's handle
    ?category=tents           a category's handle (the category itself)
    ?price_min=10&price_max=50  the lowest variant price, in the reader's currency
    ?opt=Size:M&opt=Size:L    option values ("Name:Value"): any of one option's values will do,
                              every option named must match
    ?in_stock=1               only what can be bought now (0: only what cannot)
    ?sort=newest|price_asc|price_desc|title|relevance
    ?page=2, ?currency=EUR, ?lang=de

Only products priced in the reader's currency are listed. A bad value answers 400 with
what is wrong; a page past the end, 404.

A product's page (``/shop/<handle>/``) reads the product through commerce's selectors
(``product_for_page``), also in a fixed number of queries whatever its variants. Unknown,
draft and archived products answer 404.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_safe

from apps.commerce import selectors as commerce
from apps.commerce.carts import MAX_LINE_QUANTITY
from apps.commerce.money import round_amount
from apps.core.locale import LOCALE_PARAM
from apps.index import selectors as index
from apps.index.errors import ListingQueryInvalid
from apps.index.text import text_of
from apps.pages.delivery import ReaderLocale, locale_links, reader_locale

from .blog_views import _pagination, not_found_as_404
from .page_cache import SHOP, SITE, cached_page
from .shop_cards import listing_cards
from .shop_money import (
    CURRENCY_PARAM,
    enabled_currencies,
    format_money,
    reader_currency,
    remember_currency,
)

PER_PAGE = 24
OPTION_PARAM = "opt"
SORTS = ("newest", "price_asc", "price_desc", "title")
FILTER_PARAMS = ("q", "collection", "category", "price_min", "price_max", OPTION_PARAM, "in_stock")
META_DESCRIPTION_WORDS = 40
SCHEMA_AVAILABILITY = {
    "in_stock": "https://schema.org/InStock",
    "low": "https://schema.org/LimitedAvailability",
    "backorder": "https://schema.org/BackOrder",
    "out": "https://schema.org/OutOfStock",
}


def _respond(
    request: HttpRequest,
    template: str,
    locale: ReaderLocale,
    context: dict[str, Any],
    *,
    status: int = 200,
) -> HttpResponse:
    context = {"locale": locale, "lang_query": locale.query, **context}
    response = render(request, template, context, status=status)
    return remember_currency(request, response)


def _invalid(request: HttpRequest, locale: ReaderLocale, detail: str) -> HttpResponse:
    """A filter the shop cannot apply: the themed page with what is wrong (400)."""
    context = {"detail": detail, "shop_url": reverse("shop:index") + locale.query}
    response = _respond(request, "shop/invalid.html", locale, context, status=400)
    response["X-Robots-Tag"] = "noindex"
    return response


# -- the listing ------------------------------------------------------------------------


def _options(values: list[str]) -> dict[str, list[str]]:
    """``["Size:M", "Size:L", "Colour:Red"]`` as ``{"Size": ["M", "L"], "Colour": ["Red"]}``."""
    chosen: dict[str, list[str]] = {}
    for token in values:
        name, separator, value = token.partition(":")
        if not separator or not name.strip() or not value.strip():
            raise ListingQueryInvalid(
                gettext("an option filter is written Name:Value, not '%(value)s'")
                % {"value": token[:40]}
            )
        chosen.setdefault(name.strip(), []).append(value.strip())
    return chosen


def _in_stock(value: str | None) -> bool | None:
    if value in (None, ""):
        return None
    if value in ("1", "0"):
        return value == "1"
    raise ListingQueryInvalid(gettext("the stock filter is 1 (in stock) or 0 (out of stock)"))


def _listing_filters(params: QueryDict, currency: str) -> dict[str, Any]:
    """The query string as ``index.selectors.product_listing`` filters (``ListingQueryInvalid``)."""
    text = (params.get("q") or "").strip()
    sort = params.get("sort") or None
    if sort == "relevance" and not text:
        sort = None
    return {
        "query": text or None,
        "collection": params.get("collection") or None,
        "category": params.get("category") or None,
        "currency": currency,
        "price_min": params.get("price_min") or None,
        "price_max": params.get("price_max") or None,
        "options": _options(params.getlist(OPTION_PARAM)),
        "in_stock": _in_stock(params.get("in_stock")),
        "sort": sort,
    }


def _filter_choices(chosen_options: set[str]) -> dict[str, Any]:
    """The collections, categories and option values to filter by: read once and cached until
    the product listing changes (no query on a warm request, whatever the catalog's size)."""

    def build() -> dict[str, Any]:
        return {
            "collections": [
                {"handle": collection.handle, "title": collection.title}
                for collection in commerce.collections()
            ],
            "categories": _category_choices(),
            "options": [
                {"name": option.name, "values": list(option.values)}
                for option in commerce.active_option_choices()
            ],
        }

    choices = index.product_listing_cached("shop-filters", build)
    return {
        "collections": choices["collections"],
        "categories": choices["categories"],
        "options": [
            {
                "name": option["name"],
                "values": [
                    {
                        "token": f"{option['name']}:{value}",
                        "value": value,
                        "checked": f"{option['name']}:{value}" in chosen_options,
                    }
                    for value in option["values"]
                ],
            }
            for option in choices["options"]
        ],
    }


def _category_choices() -> list[dict[str, Any]]:
    """The category tree in order, each with its depth (one query)."""
    rows = list(commerce.categories())
    children: dict[int | None, list] = {}
    for category in rows:
        children.setdefault(category.parent_id, []).append(category)
    found: list[dict[str, Any]] = []

    def walk(parent_id: int | None, depth: int) -> None:
        for category in children.get(parent_id, []):
            found.append(
                {"handle": category.handle, "name": category.name, "indent": "\u00a0" * 3 * depth}
            )
            walk(category.pk, depth + 1)

    walk(None, 0)
    return found


def _currency_links(request: HttpRequest, current: str) -> list[dict[str, Any]]:
    """The same listing or page in each currency the store sells in (prices filters reset)."""
    links = []
    for code in enabled_currencies(request):
        params = request.GET.copy()
        for name in ("price_min", "price_max", "page"):
            params.pop(name, None)
        params[CURRENCY_PARAM] = code
        links.append({"code": code, "url": f"?{params.urlencode()}", "current": code == current})
    return links


def _localized(path: str, code: str, locale: ReaderLocale) -> str:
    return path if code == locale.default else f"{path}?{LOCALE_PARAM}={code}"


@require_safe
# Not a search (``q``): its long tail would fill the cache with pages read once.
@cached_page(
    shows=(SITE, SHOP),
    params=(LOCALE_PARAM, "page", "sort", *(p for p in FILTER_PARAMS if p != "q")),
)
@not_found_as_404
def shop_index(request: HttpRequest) -> HttpResponse:
    locale = reader_locale(request)
    currency = reader_currency(request)
    try:
        filters = _listing_filters(request.GET, currency)
        page = index.product_listing(
            locale=locale.current, page=request.GET.get("page"), per_page=PER_PAGE, **filters
        )
    except ListingQueryInvalid as error:
        return _invalid(request, locale, str(error.detail))
    path = reverse("shop:index")
    chosen_options = set(request.GET.getlist(OPTION_PARAM))
    filtered = any(request.GET.get(name) for name in (*FILTER_PARAMS, "sort"))
    context = {
        "heading": gettext("Shop"),
        "cards": listing_cards(page.object_list, currency=currency, locale=locale),
        "total": page.paginator.count,
        "currency": currency,
        "currency_links": _currency_links(request, currency),
        "params": request.GET,
        "filtered": filtered,
        "noindex": filtered or page.number > 1,
        "sort": filters["sort"] or ("relevance" if filters["query"] else "newest"),
        "sorts": _sort_choices(bool(filters["query"])),
        **_filter_choices(chosen_options),
        "clear_url": path + locale.query,
        "canonical_url": request.build_absolute_uri(_localized(path, locale.current, locale)),
        "alternates": [
            {"locale": code, "url": request.build_absolute_uri(_localized(path, code, locale))}
            for code in locale.available
        ],
        "locale_links": locale_links(locale, {code: path for code in locale.available}),
        **_pagination(request, page),
    }
    return _respond(request, "shop/list.html", locale, context)


def _sort_choices(with_query: bool) -> list[tuple[str, str]]:
    choices = [
        ("newest", gettext("Newest")),
        ("price_asc", gettext("Price: low to high")),
        ("price_desc", gettext("Price: high to low")),
        ("title", gettext("Name")),
    ]
    return [("relevance", gettext("Relevance")), *choices] if with_query else choices


# -- a product's page ---------------------------------------------------------------------


def stock_state(variant, available: int) -> tuple[str, str]:
    """(state, label) of a variant for readers: in_stock, low (only N left), backorder
    (available to order), out."""
    if not variant.tracked:
        return "in_stock", gettext("In stock")
    if available > 0:
        threshold = variant.low_stock_threshold
        if threshold and available <= threshold:
            label = ngettext("Only %(count)d left", "Only %(count)d left", available)
            return "low", label % {"count": available}
        return "in_stock", gettext("In stock")
    if commerce.variant_sells_without_stock(variant):
        return "backorder", gettext("Available to order")
    return "out", gettext("Out of stock")


def _variant_views(product, currency: str, code: str) -> list[dict[str, Any]]:
    """Each variant as the page shows it: options, price and compare-at price, stock state."""
    variants = list(product.variants.all())
    available = commerce.available_by_variant(variant.pk for variant in variants)
    views = []
    for variant in variants:
        options = commerce.variant_options(variant)
        price = commerce.variant_price(variant, currency)
        state, stock_label = stock_state(variant, available.get(variant.pk, 0))
        views.append(
            {
                "id": str(variant.pk),
                "sku": variant.sku,
                "options": options,
                "label": " / ".join(options.values()) or variant.sku,
                "amount": price.amount if price else None,
                "price": format_money(price.amount, currency, code) if price else None,
                "compare_at": format_money(price.compare_at_amount, currency, code)
                if price and price.compare_at_amount is not None
                else None,
                "stock": state,
                "stock_label": stock_label,
                "buyable": price is not None and state != "out",
            }
        )
    return views


def _option_views(variants: list[dict[str, Any]], selected: dict[str, Any] | None) -> list:
    """The options with the values some variant has, in the options' and values' order."""
    names: dict[str, list[str]] = {}
    for variant in variants:
        for name, value in variant["options"].items():
            values = names.setdefault(name, [])
            if value not in values:
                values.append(value)
    chosen = selected["options"] if selected else {}
    return [
        {
            "name": name,
            "values": [{"value": value, "selected": chosen.get(name) == value} for value in values],
        }
        for name, values in names.items()
    ]


def _pick(variants: list[dict[str, Any]], asked: str | None) -> dict[str, Any] | None:
    """``?variant=`` when it is one of the product's, else the first one can buy, else the first."""
    for variant in variants:
        if variant["id"] == asked:
            return variant
    return next((v for v in variants if v["buyable"]), variants[0] if variants else None)


def _gallery(product, code: str) -> list[dict[str, Any]]:
    return [
        {
            "url": image.file.url,
            "width": image.width,
            "height": image.height,
            "alt": image.alt(code),
        }
        for image in product.images.all()
        if image.width and image.height
    ]


def json_ld(data: dict[str, Any]) -> SafeString:
    """``data`` for a ``<script type="application/ld+json">`` block: ``<``, ``>`` and ``&``
    escaped, so no text in it can close the element. (A data block is never executed: the
    site's CSP, ``script-src 'self'``, does not apply to it.)"""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return mark_safe(text)  # noqa: S308 - escaped above


def _structured_data(
    product, text, variants, gallery, currency: str, url: str, request: HttpRequest
) -> dict[str, Any]:
    """schema.org Product with one Offer per variant priced in ``currency``."""
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": text.title,
        "url": url,
        "productID": product.handle,
    }
    description = text.seo_description or text_of(text.description_html)
    if description:
        data["description"] = description
    if gallery:
        data["image"] = [request.build_absolute_uri(image["url"]) for image in gallery]
    if product.vendor:
        data["brand"] = {"@type": "Brand", "name": product.vendor}
    if len(variants) == 1:
        data["sku"] = variants[0]["sku"]
    separator = "&" if "?" in url else "?"
    data["offers"] = [
        {
            "@type": "Offer",
            "sku": variant["sku"],
            "name": variant["label"],
            "price": str(round_amount(variant["amount"], currency)),
            "priceCurrency": currency,
            "availability": SCHEMA_AVAILABILITY[variant["stock"]],
            "url": f"{url}{separator}variant={variant['id']}",
        }
        for variant in variants
        if variant["amount"] is not None
    ]
    return data


@require_safe
@cached_page(shows=(SITE, SHOP), params=(LOCALE_PARAM, "variant"))
def product_detail(request: HttpRequest, handle: str) -> HttpResponse:
    locale = reader_locale(request)
    product = commerce.product_for_page(handle)
    if product is None:
        raise Http404("no such product")
    currency = reader_currency(request)
    code = locale.current
    text = commerce.product_text(product, code)
    variants = _variant_views(product, currency, code)
    selected = _pick(variants, request.GET.get("variant"))
    gallery = _gallery(product, code)
    path = reverse("shop:product", args=[product.handle])
    # Every locale the product has a text in (its own fields are in the tenant's default).
    written = {locale.default, *(t.locale for t in product.translations.all())}
    codes = [c for c in locale.available if c in written]
    canonical = request.build_absolute_uri(_localized(path, text.locale, locale))
    context = {
        "product": product,
        "text": text,
        # The text's language when it falls back to another than the page's.
        "text_lang": text.locale if text.locale != code else "",
        "meta_description": text.seo_description
        or " ".join(text_of(text.description_html).split()[:META_DESCRIPTION_WORDS]),
        "variants": variants,
        "selected": selected,
        "options": _option_views(variants, selected),
        "variants_json": json.dumps(
            [
                {
                    k: v[k]
                    for k in ("id", "sku", "options", "price", "compare_at", "stock", "stock_label")
                }
                for v in variants
            ],
            ensure_ascii=False,
        ),
        "gallery": gallery,
        "currency": currency,
        "currency_links": _currency_links(request, currency),
        "canonical_url": canonical,
        "alternates": [
            {"locale": c, "url": request.build_absolute_uri(_localized(path, c, locale))}
            for c in codes
        ],
        "locale_links": locale_links(locale, {c: path for c in locale.available}),
        "shop_url": reverse("shop:index") + locale.query,
        "max_quantity": MAX_LINE_QUANTITY,
        "structured_data": json_ld(
            _structured_data(product, text, variants, gallery, currency, canonical, request)
        ),
    }
    return _respond(request, "shop/product.html", locale, context)


# -- sitemap.xml ----------------------------------------------------------------------------


def shop_sitemap_entries(locale: ReaderLocale, localized, entry) -> list[dict[str, Any]]:
    """The shop's index in every locale and each active product in the locales it has a text
    in (one query; nothing while no product is active); ``localized(url, code)`` and ``entry(urls, lastmod)`` are the sitemap's."""
    products = commerce.active_products_for_sitemap()
    if not products:  # a store with nothing on sale: no shop to point search engines at
        return []
    newest = max((updated_at for _handle, updated_at, _locales in products), default=None)
    index_url = reverse("shop:index")
    entries = entry({code: localized(index_url, code) for code in locale.available}, newest)
    for handle, updated_at, translated in products:
        url = reverse("shop:product", args=[handle])
        written = {locale.default, *translated}
        urls = {code: localized(url, code) for code in locale.available if code in written}
        entries += entry(urls, updated_at)
    return entries
