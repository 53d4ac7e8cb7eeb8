"""Whole storefront pages cached in Redis, purged by the events of what they show.

Most of a storefront page's time goes into rendering its templates, and every reader of a
page gets the same HTML but for a few personal parts. ``cached_page`` keeps a page's *shell*
(its HTML with placeholders for the visitor's mini-cart, account link and CSRF tokens, see
``apps.storefront.personal``) and fills the placeholders for each request, whether the shell
came from the cache or was just rendered. Logged-in customers get cached pages too.

A page's key holds everything its HTML depends on: the release (a digest of the code,
templates, message catalogues and static files' manifest, and of the placeholders' secret: a
deploy never serves the pages of the release before it), the tenant (the cache's key function
prefixes its schema; the key adds its version, which every change of its name, locales or
module switches bumps), the generations of what the page shows, the scheme and host (canonical
links), the path, the raw query string (links repeat it as it was given), the interface
language, and the cookies the view reads (the shop's currency).

Purging is the ``storefront.page_cache`` subscriber (``handlers.py``): the relay runs it for
every event that changes what a page shows, and it draws a new generation. Two generations
per tenant, coarse on purpose: ``site`` (content, pages, menus, taxonomy, media, authors, the
tenant's settings) and ``shop`` (catalog, prices, stock, store settings). Menus, the newest
posts and the filter choices appear on many pages, so working out which pages an event touches
would be a list to keep true by hand, and one wrong entry serves a stale page; a tenant's
writes are rare beside its reads, so re-rendering all its pages after one costs little. The
split keeps the shop's frequent stock changes (every order) from purging the blog. The
generation is read before the page is rendered and the page is stored under it: a render
that raced a change is stored under a generation nobody asks for any more.

Wrapped: the home page, pages by path (``page_urls``), the blog's index and posts, the shop's
listing and products. Never cached, always rendered: what the decorator does not wrap (admin,
API, cart, checkout, account, forum, search, tag/category/archive listings, previews); a
request with a query parameter the view does not list (a ``?preview=1``, a search, anything
made up), or a query string too long; a response other than 200, one that sets a cookie or
says ``private``/``no-store``. With Redis away (its breaker open) pages are rendered as if
there were no cache, and nothing is stored.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Callable, Iterable
from functools import cache, wraps
from pathlib import Path

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse
from django.utils.translation import get_language

# Imported so that their events are known when the subscriber's list is made.
from apps.commerce import events as _commerce_events  # noqa: F401
from apps.content import events as _content_events  # noqa: F401
from apps.core.breakers import REDIS, guarded
from apps.core.generations import Generations, current
from apps.core.metrics import cache_read
from apps.events.schema import known_event_types
from apps.pages import events as _pages_events  # noqa: F401
from apps.pages.delivery import site_tenant
from apps.people import events as _people_events  # noqa: F401
from apps.tenancy import events as _tenancy_events  # noqa: F401

from . import personal
from .shop_money import CURRENCY_COOKIE, CURRENCY_PARAM

# Generations live as long as Redis keeps them; the pages under them expire on their own.
SITE = Generations("storefront:pages:site", ttl=0)
SHOP = Generations("storefront:pages:shop", ttl=0)
METRIC = "storefront:pages"
CACHE = "pages"  # settings.CACHES: the same Redis, or one of its own
MAX_QUERY_LENGTH = 512

# Which events change what the cached pages show, by type prefix. Every known event type is
# either here or in NOT_SHOWN (a test holds that), so a new one cannot be forgotten.
SHOWN: dict[str, tuple[str, ...]] = {
    SITE.prefix: (
        "content.",  # posts, pages, their translations, categories, tags, media
        "pages.",  # layouts (blocks, templates, the home page) and menus
        "people.profile.",  # authors' public names
        "tenancy.tenant.updated",  # name, locales (also in the key, by the tenant's version)
        "tenancy.tenant.modules_changed",  # what menus and the home page link to
    ),
    SHOP.prefix: (
        "commerce.product.",
        "commerce.variant.",
        "commerce.price.",
        "commerce.inventory.",  # stock states, "only 3 left"
        "commerce.collection.",
        "commerce.category.",
        "commerce.location.",
        "commerce.store.",  # currencies
        "commerce.tax_rate.",
        "commerce.shipping_",
    ),
}
NOT_SHOWN = (
    "commerce.order.",
    "commerce.checkout.",
    "commerce.payment.",
    "commerce.voucher.",
    "forum.",  # the forum's pages are not cached
    "people.address.",
    "people.api_key.",
    "people.customer.",
    "tenancy.tenant.created",
    "tenancy.tenant.status_changed",  # a suspended tenant's pages are not served at all
    "tenancy.domain.",  # the host is in the key
)
_FAMILIES = {SITE.prefix: SITE, SHOP.prefix: SHOP}


def families_of(event_type: str) -> list[Generations]:
    """The generations an event of ``event_type`` makes stale."""
    return [
        _FAMILIES[name]
        for name, prefixes in SHOWN.items()
        if any(event_type.startswith(prefix) for prefix in prefixes)
    ]


def purging_event_types() -> list[str]:
    return [event_type for event_type in known_event_types() if families_of(event_type)]


def purge(event_type: str) -> None:
    """A new generation for what ``event_type`` changes, once the handler's transaction (and
    the projections' rows written in it) commits; raises when Redis fails, so that the relay
    runs the handler again."""
    for family in families_of(event_type):
        family.invalidate_or_raise()


# -- the key ----------------------------------------------------------------------------------

RELEASE_SUFFIXES = {".py", ".html", ".txt", ".xml", ".mo"}


@cache
def release() -> str:
    """What the HTML of this process's pages depends on besides the data: a digest of the
    project's code, templates and compiled catalogues, the static files' manifest (their hashed
    names) and the placeholders' secret. Read once per process (some 500 small files)."""
    digest = hashlib.sha256(personal.placeholder("").encode())
    base = Path(settings.BASE_DIR)
    for folder in ("apps", "templates", "locale", "config"):
        for path in sorted((base / folder).rglob("*")):
            if path.suffix in RELEASE_SUFFIXES and path.is_file():
                digest.update(str(path.relative_to(base)).encode() + b"\0" + path.read_bytes())
    manifest = Path(settings.STATIC_ROOT or base / "staticfiles") / "staticfiles.json"
    if manifest.is_file():
        digest.update(manifest.read_bytes())
    return digest.hexdigest()[:16]


# -- the decorator ----------------------------------------------------------------------------


def _key(
    request: HttpRequest, shows: list[Generations], params: frozenset[str], cookies: Iterable[str]
) -> str | None:
    """The page's key, or None when this request's page is not to be cached."""
    if settings.STOREFRONT_PAGE_CACHE_SECONDS <= 0 or request.method not in ("GET", "HEAD"):
        return None
    tenant = site_tenant(request)
    query = request.META.get("QUERY_STRING", "")
    if tenant is None or len(query) > MAX_QUERY_LENGTH or not set(request.GET) <= params:
        return None
    generations = current(shows)
    if generations is None:
        return None
    parts = [
        release(), tenant.pk, tenant.version, *generations, request.scheme, request.get_host(),
        request.path, query, get_language() or "",
        *(request.COOKIES.get(name, "") for name in cookies),
    ]  # fmt: skip
    digest = hashlib.sha256(json.dumps(parts).encode()).hexdigest()
    return f"{METRIC}:{digest}"


def _storable(response: HttpResponse) -> bool:
    control = response.get("Cache-Control", "")
    return (
        response.status_code == 200
        and not response.streaming
        and not response.cookies
        and "private" not in control
        and "no-store" not in control
    )


def cached_page(
    *, shows: tuple[Generations, ...], params: Iterable[str], cookies: Iterable[str] = ()
) -> Callable:
    """Cache the view's pages (see the module's docstring).

    :param shows: the generations of what the page shows (``SITE``, ``SHOP``). A page that
        shows the shop shows prices in the reader's currency: ``?currency=`` and its cookie
        are part of its key whatever the view names.
    :param params: the query parameters the view reads; any other one leaves the request
        uncached.
    :param cookies: the cookies the view's HTML depends on.
    """
    if SHOP in shows:
        params, cookies = (*params, CURRENCY_PARAM), (*cookies, CURRENCY_COOKIE)
    allowed = frozenset(params)
    cookies = tuple(dict.fromkeys(cookies))

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            key = _key(request, list(shows), allowed, cookies)
            if key is None:
                return view(request, *args, **kwargs)
            stored = guarded(REDIS, caches[CACHE].get, key, fallback=None)
            cache_read(METRIC, hit=stored is not None)
            if stored is not None:
                status, headers, packed = stored
                content = personal.fill(request, zlib.decompress(packed))
                return HttpResponse(content, status=status, headers=headers)
            setattr(request, personal.SHELL_ATTRIBUTE, True)
            try:
                response = view(request, *args, **kwargs)
            finally:
                setattr(request, personal.SHELL_ATTRIBUTE, False)
            if response.streaming:  # nothing to store, and no placeholder (none streams now)
                return response
            if _storable(response):
                # Compressed: a fifth of the memory for a fraction of a millisecond.
                packed = zlib.compress(response.content, 1)
                shell = (response.status_code, dict(response.headers), packed)
                ttl = settings.STOREFRONT_PAGE_CACHE_SECONDS
                guarded(REDIS, caches[CACHE].set, key, shell, ttl, fallback=None)
            response.content = personal.fill(request, response.content)
            return response

        return wrapper

    return decorate


__all__ = ["SHOP", "SITE", "cached_page", "families_of", "purge", "purging_event_types"]
