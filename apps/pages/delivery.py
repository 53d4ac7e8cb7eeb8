"""What the storefront needs to serve pages: the reader's locale, the site snapshot, a page rendered.

Used by this module's views (pages by path) and by the storefront's (home, blog, preview,
404), and by ``apps.storefront.middleware``, which applies the locale rule of
``apps.core.locale`` to every storefront request: the URL decides the locale
(``reader_locale``), a bare URL is redirected to ``?lang=`` when the reader prefers another
enabled locale (``locale_redirect``), the interface is rendered in that locale
(``translation.override``), and a locale chosen with ``?lang=`` is remembered in a cookie
(``remember_locale``). ``locale_links`` offers every page's alternates.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_language_info

from apps.content import selectors as content
from apps.content.models import Node, NodeStatus
from apps.core import locale as locale_rule
from apps.core.locale import LOCALE_COOKIE, LOCALE_PARAM
from apps.tenancy.models import Tenant

from . import rendering, selectors
from .models import PageTemplate

LOCALE_COOKIE_MAX_AGE = 365 * 24 * 3600


# -- the reader's locale ---------------------------------------------------------


def site_tenant(request: HttpRequest) -> Tenant | None:
    tenant = getattr(request, "tenant", None)
    return tenant if isinstance(tenant, Tenant) else None


@dataclass(frozen=True)
class ReaderLocale:
    current: str  # the locale the URL names (the default for a bare URL)
    default: str
    available: tuple[str, ...]
    explicit: bool  # named with ?lang= on this request
    preferred: str | None = None  # the reader's cookie or Accept-Language, if enabled

    @property
    def query(self) -> str:
        """What links append to stay in this locale (nothing for the default)."""
        return "" if self.current == self.default else f"?{LOCALE_PARAM}={self.current}"


def reader_locale(request: HttpRequest) -> ReaderLocale:
    """The locale ``request``'s URL names (worked out once per request)."""
    memo = getattr(request, "_reader_locale", None)
    if memo is not None:
        return memo
    tenant = site_tenant(request)
    available = tuple(tenant.locales) if tenant else ("en",)
    default = tenant.default_locale if tenant else "en"
    asked = locale_rule.requested(request, available)
    memo = ReaderLocale(
        current=asked or default,
        default=default,
        available=available,
        explicit=asked is not None,
        preferred=locale_rule.preferred(request, available),
    )
    request._reader_locale = memo
    return memo


def use_locale(request: HttpRequest, code: str) -> ReaderLocale:
    """Serve the rest of ``request`` in ``code``: a page path spelled only in ``code`` names it."""
    locale = replace(reader_locale(request), current=code)
    request._reader_locale = locale
    translation.activate(code)
    return locale


def locale_redirect(request: HttpRequest) -> HttpResponse | None:
    """Where a bare URL sends a reader who prefers another enabled locale (None: stay)."""
    if request.method not in ("GET", "HEAD"):
        return None
    locale = reader_locale(request)
    if locale.explicit or locale.preferred in (None, locale.current):
        return None
    params = request.GET.copy()
    params[LOCALE_PARAM] = locale.preferred
    response = HttpResponseRedirect(f"{request.path}?{params.urlencode()}")
    patch_vary_headers(response, ["Cookie", "Accept-Language"])
    return response


def remember_locale(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """A locale chosen with ``?lang=`` sticks (the ``locale`` cookie) for the next bare URLs."""
    locale = reader_locale(request)
    if locale.explicit and request.COOKIES.get(LOCALE_COOKIE) != locale.current:
        response.set_cookie(
            LOCALE_COOKIE, locale.current, max_age=LOCALE_COOKIE_MAX_AGE, samesite="Lax"
        )
    response.headers.setdefault("Content-Language", locale.current)
    patch_vary_headers(response, ["Cookie", "Accept-Language"])
    return response


def locale_name(code: str) -> str:
    try:
        return get_language_info(code)["name_local"]
    except KeyError:
        return code


@dataclass(frozen=True)
class LocaleLink:
    code: str
    name: str
    url: str
    current: bool


def locale_links(locale: ReaderLocale, urls: dict[str, str]) -> list[LocaleLink]:
    """One link per enabled locale, to ``urls[code]`` (with ``?lang=`` so the choice sticks)."""
    return [
        LocaleLink(
            code=code,
            name=locale_name(code),
            url=f"{urls[code]}?{LOCALE_PARAM}={code}",
            current=code == locale.current,
        )
        for code in locale.available
        if code in urls
    ]


# -- the site snapshot ----------------------------------------------------------------


def site_snapshot(request: HttpRequest) -> dict[str, Any]:
    """The site snapshot (menus, home page), read once per request."""
    memo = getattr(request, "_site_snapshot", None)
    if memo is None:
        locale = reader_locale(request)
        memo = selectors.site_snapshot(locales=list(locale.available))
        request._site_snapshot = memo
    return memo


# -- previews ---------------------------------------------------------------------


def is_previewer(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_active and user.is_staff)


def wants_preview(request: HttpRequest) -> bool:
    return request.GET.get("preview") == "1" and is_previewer(request)


def private(response: HttpResponse) -> HttpResponse:
    """Drafts shown to staff are neither cached nor indexed."""
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


# -- a page, rendered ---------------------------------------------------------------


def render_page(
    request: HttpRequest,
    match: selectors.PageMatch,
    *,
    preview: bool = False,
    is_home: bool = False,
    status: int = 200,
) -> HttpResponse:
    """A page in the locale its path spells (its translation falling back to the default).

    The frame (menus, locale switcher, ``<html lang>``) follows the page's locale.
    """
    locale = use_locale(request, match.locale)
    node = match.node
    translation = content.pick_translation(node, match.locale, locale.default)
    layout = match.layout
    blocks = rendering.locale_blocks(layout.blocks if layout else {}, match.locale, locale.default)
    media = selectors.media_by_id(rendering.media_ids(blocks))
    template = layout.template if layout else PageTemplate.DEFAULT
    home = is_home or bool(layout and layout.is_home)
    urls = {code: "/" if home else match.path(code) for code in locale.available}
    context: dict[str, Any] = {
        "page": node,
        "translation": translation,
        "page_locale": match.locale,
        "content_locale": translation.locale if translation else match.locale,
        "blocks": rendering.render_blocks(
            blocks, media=media, locale=match.locale, request=request
        ),
        "template_name": template,
        "is_home": home,
        "lang_query": locale.query,
        "preview": preview,
        "is_draft": not match.live,
        "breadcrumbs": [
            {"title": selectors.title_in(page, match.locale, locale.default), "url": match_path}
            for page, match_path in _ancestor_paths(match)
        ],
        "locale_links": locale_links(locale, urls),
        "public_url": _localized(urls, match.locale, locale) if match.live else "",
        "canonical_url": node.canonical_url
        or request.build_absolute_uri(_localized(urls, match.locale, locale)),
        "alternates": [
            {"locale": code, "url": request.build_absolute_uri(_localized(urls, code, locale))}
            for code in locale.available
            if any(t.locale == code for t in node.translations.all())
        ],
        "og_image": node.og_image,
    }
    if template == PageTemplate.SIDEBAR:
        context["related"] = _related(match, locale, preview=preview)
    response = render(request, f"pages/{template}.html", context, status=status)
    response["Content-Language"] = context["content_locale"]
    return private(response) if preview else response


def _localized(urls: dict[str, str], code: str, locale: ReaderLocale) -> str:
    url = urls.get(code) or "/"
    return url if code == locale.default else f"{url}?{LOCALE_PARAM}={code}"


def _ancestor_paths(match: selectors.PageMatch) -> list[tuple[Node, str]]:
    tree = {page.pk: page for page in match.chain}
    return [
        (page, selectors.path_of(page, match.locale, match.default_locale, tree) or "/")
        for page in match.chain[:-1]
    ]


def _related(match: selectors.PageMatch, locale: ReaderLocale, *, preview: bool) -> dict[str, Any]:
    """The sidebar: the section's top page and its children, the current one marked."""
    section = match.chain[0]
    tree = {page.pk: page for page in match.chain}
    children = selectors.children_of(section, include_drafts=preview)
    tree.update((child.pk, child) for child in children)
    return {
        "title": selectors.title_in(section, match.locale, locale.default),
        "url": selectors.path_of(section, match.locale, match.default_locale, tree) or "/",
        "current": section.pk == match.node.pk,
        "links": [
            {
                "title": selectors.title_in(child, match.locale, locale.default),
                "url": selectors.path_of(child, match.locale, match.default_locale, tree) or "/",
                "current": child.pk == match.node.pk,
                "draft": child.status != NodeStatus.PUBLISHED,
            }
            for child in children
        ],
    }
