"""The shop's public pages: the catalog listing and a product's page, in the reader's locale
and currency.

The listing reads the ``ProductListing`` projection (apps.index) and runs a fixed number of
queries whatever the page size and the products' variants; a product page reads the product
through commerce's selectors, also in a fixed number of queries whatever its variants.
Unknown, draft and archived products and pages past the end answer 404.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext
from django.views.decorators.http import require_safe

from apps.commerce import selectors as commerce
from apps.index import selectors as index
from apps.pages.delivery import reader_locale

from .blog_views import _pagination, not_found_as_404
from .shop_cards import listing_cards
from .shop_money import reader_currency, remember_currency

PER_PAGE = 24


@require_safe
@not_found_as_404
def shop_index(request: HttpRequest) -> HttpResponse:
    locale = reader_locale(request)
    currency = reader_currency(request)
    page = index.product_listing(
        locale=locale.current, page=request.GET.get("page"), per_page=PER_PAGE
    )
    context = {
        "locale": locale,
        "lang_query": locale.query,
        "heading": gettext("Shop"),
        "cards": listing_cards(page.object_list, currency=currency, locale=locale),
        **_pagination(request, page),
    }
    return remember_currency(request, render(request, "shop/list.html", context))


@require_safe
def product_detail(request: HttpRequest, handle: str) -> HttpResponse:
    locale = reader_locale(request)
    product = commerce.product_by_handle(handle, status=commerce.ProductStatus.ACTIVE)
    if product is None:
        raise Http404("no such product")
    text = commerce.product_text(product, locale.current)
    context = {"locale": locale, "lang_query": locale.query, "product": product, "text": text}
    return remember_currency(request, render(request, "shop/product.html", context))
