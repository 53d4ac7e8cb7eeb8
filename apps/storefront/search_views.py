"""The site search (``/search/``): products, posts and pages on one page, grouped by kind.

Products come from the shop's product listing (apps.index ``ProductListing``) as cards with
prices in the reader's currency; posts and pages from the content listing (``ContentListing``)
with highlighted titles and snippets. Each group shows its first few hits, its count and a
link to all of them: the shop's own search for products, this page narrowed to one kind
(``?kind=posts``, paginated) for content. Every query is bounded: a count and a page per
group, one query for the products' images, the store's currencies, and the pages' paths
(cached with the site). The page is never indexed; bad input gets the empty form or a 404
for a page past the end, never an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_safe

from apps.content.kinds import PAGE_KIND, POST_KIND
from apps.core.locale import LOCALE_PARAM
from apps.index import selectors as index
from apps.pages import selectors as pages
from apps.pages.delivery import ReaderLocale, reader_locale

from .blog_views import PER_PAGE, _pagination, _respond, not_found_as_404
from .shop_cards import listing_cards
from .shop_money import reader_currency

PRODUCTS_SHOWN = 4
CONTENT_SHOWN = 5


@dataclass(frozen=True)
class ContentKind:
    name: str  # the value of ``?kind=``
    kind: str  # the content kind in the listing
    label: Any
    module: str  # the module switch it belongs to


CONTENT_KINDS = (
    ContentKind("posts", POST_KIND, gettext_lazy("Posts"), "blog"),
    ContentKind("pages", PAGE_KIND, gettext_lazy("Pages"), "pages"),
)


def _with_locale(url: str, params: dict[str, str], locale: ReaderLocale) -> str:
    if locale.current != locale.default:
        params = {**params, LOCALE_PARAM: locale.current}
    return f"{url}?{urlencode(params)}"


def _post_url(hit: index.SearchHit, locale: ReaderLocale) -> str:
    return reverse("blog:post", args=[hit.slug]) + locale.query


def _content_results(
    kind: ContentKind, hits: list[index.SearchHit], locale: ReaderLocale
) -> list[dict[str, Any]]:
    if kind.kind == PAGE_KIND:
        paths = pages.page_paths(locales=list(locale.available)) if hits else {}
        results = []
        for hit in hits:
            path = paths.get(str(hit.node_id), {}).get(locale.current)
            if path:  # a page under an unpublished one is not served
                results.append({"hit": hit, "url": path + locale.query})
        return results
    return [{"hit": hit, "url": _post_url(hit, locale)} for hit in hits]


def _products(request: HttpRequest, query: str, locale: ReaderLocale) -> dict[str, Any]:
    found = index.product_listing(locale=locale.current, query=query, per_page=PRODUCTS_SHOWN)
    count = found.paginator.count
    return {
        "name": "products",
        "label": gettext_lazy("Products"),
        "count": count,
        "cards": listing_cards(found.object_list, currency=reader_currency(request), locale=locale)
        if count
        else [],
        "all_url": _with_locale(reverse("shop:index"), {"q": query}, locale),
        "more": count > len(found.object_list),
    }


def _content(
    request: HttpRequest, kind: ContentKind, query: str, locale: ReaderLocale, *, paginated: bool
) -> dict[str, Any]:
    found = index.search(
        query=query,
        locale=locale.current,
        kind=kind.kind,
        page=request.GET.get("page") if paginated else 1,
        per_page=PER_PAGE if paginated else CONTENT_SHOWN,
    )
    group = {
        "name": kind.name,
        "label": kind.label,
        "count": found.paginator.count,
        "results": _content_results(kind, found.object_list, locale),
        "all_url": _with_locale(
            reverse("storefront:search"), {"q": query, "kind": kind.name}, locale
        ),
        "more": not paginated and found.has_next(),
    }
    if paginated:
        group.update(_pagination(request, found))
    return group


@require_safe
@not_found_as_404
def search(request: HttpRequest) -> HttpResponse:
    locale = reader_locale(request)
    query = index.clean_query(request.GET.get("q"))
    module_on = request.tenant.module_on
    kinds = [kind for kind in CONTENT_KINDS if module_on(kind.module)]
    only = next((kind for kind in kinds if kind.name == request.GET.get("kind")), None)
    context: dict[str, Any] = {
        "query": query,
        "kind": only,
        "groups": [],
        "search_url": reverse("storefront:search"),
        "everything_url": _with_locale(reverse("storefront:search"), {"q": query}, locale),
    }
    if query:
        groups = []
        if only is None and module_on("shop"):
            groups.append(_products(request, query, locale))
        for kind in kinds if only is None else (only,):
            groups.append(_content(request, kind, query, locale, paginated=only is not None))
        context.update(groups=groups, total=sum(group["count"] for group in groups))
    response = _respond(request, "search/site.html", locale, context)
    response["X-Robots-Tag"] = "noindex"
    return response
