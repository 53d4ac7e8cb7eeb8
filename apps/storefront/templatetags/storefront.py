"""The frame of every storefront page: the reader's locale, menus, the locale switcher.

They read the site snapshot once per request (no query when it is cached) and
do nothing on the platform's own (public) pages or without a request (500).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django import template
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from apps.index.text import author_in_locale
from apps.pages import selectors as pages
from apps.pages.delivery import (
    LocaleLink,
    locale_links,
    locale_name,
    reader_locale,
    site_snapshot,
    site_tenant,
)
from apps.storefront.personal import (
    account_link_context,
    mini_cart_context,
    placeholder,
    rendering_shell,
)
from apps.tenancy.selectors import serves

register = template.Library()


def _site_request(context: template.Context) -> HttpRequest | None:
    request = context.get("request")
    if request is None or site_tenant(request) is None:
        return None
    return request


@register.simple_tag(takes_context=True)
def site_locale(context: template.Context) -> str:
    """The locale the page is served in (for ``<html lang>``)."""
    for name in ("content_locale", "page_locale"):
        if isinstance(context.get(name), str):
            return context[name]
    request = _site_request(context)
    if request is None:  # the platform's own pages: the negotiated interface language
        return get_language() or "en"
    return reader_locale(request).current


@register.simple_tag(takes_context=True)
def locale_query(context: template.Context) -> str:
    """What links append to stay in the page's locale (``?lang=de``; nothing for the default)."""
    request = _site_request(context)
    return reader_locale(request).query if request is not None else ""


@register.inclusion_tag("storefront/_menu.html", takes_context=True)
def site_menu(
    context: template.Context, slug: str, label: str = "", collapsible: bool = False
) -> dict[str, Any]:
    """Menu ``slug`` as a labelled ``<nav>``; ``collapsible`` folds it (and its sub-menus)
    behind toggles on narrow screens, with ``<details>`` so that it works without scripts."""
    request = _site_request(context)
    if request is None:
        return {"links": []}
    locale = reader_locale(request)
    links = pages.menu_links(
        site_snapshot(request), slug, locale=locale.current, default=locale.default
    )
    tenant = request.tenant
    if tenant.disabled_modules:
        links = _served_links(tenant, links)
    return {
        "links": links,
        "slug": slug,
        "label": label or slug,
        "path": request.path,
        "collapsible": collapsible,
    }


def _served_links(tenant, links: list[pages.MenuLink]) -> list[pages.MenuLink]:
    """``links`` without those to modules the tenant turned off (a link's own path decides)."""
    return [
        replace(link, children=_served_links(tenant, link.children))
        for link in links
        if not link.url.startswith("/") or serves(tenant, link.url)
    ]


def _switcher_links(context: template.Context, request: HttpRequest) -> list[LocaleLink]:
    given = context.get("locale_links")
    if given:
        return list(given)
    locale = reader_locale(request)
    # Another view's alternates ([{"locale": "de", "url": "/blog/hallo/?lang=de"}]), else this path.
    urls = {code: request.path for code in locale.available}
    for alternate in context.get("alternates") or []:
        if isinstance(alternate, dict) and alternate.get("locale") in urls:
            urls[alternate["locale"]] = alternate["url"].split("?", 1)[0]
    return locale_links(locale, urls)


@register.inclusion_tag("storefront/_locale_switcher.html", takes_context=True)
def locale_switcher(context: template.Context) -> dict[str, Any]:
    request = _site_request(context)
    if request is None:
        return {"links": []}
    links = _switcher_links(context, request)
    return {"links": links if len(links) > 1 else []}


@register.simple_tag(takes_context=True)
def account_link(context: template.Context) -> str:
    """The header's way to the account (``personal.account_link_context``)."""
    request = _site_request(context)
    if request is None:
        return ""
    if rendering_shell(request):
        return mark_safe(placeholder("account-link"))  # noqa: S308 - letters and dashes
    return render_to_string("storefront/_account_link.html", account_link_context(request))


@register.filter
def language_name(code: str) -> str:
    return locale_name(code)


@register.filter
def author_label(name: str) -> str:
    """An author's name from the listing, its neutral label in the page's language."""
    return author_in_locale(name or "")


@register.simple_tag(takes_context=True)
def mini_cart(context: template.Context) -> str:
    """The header's link to the cart with its number of items (``personal.mini_cart_context``)."""
    request = _site_request(context)
    if request is None:
        return ""
    if rendering_shell(request):
        return mark_safe(placeholder("mini-cart"))  # noqa: S308 - letters and dashes
    return render_to_string(
        "storefront/_mini_cart.html", mini_cart_context(request, shown=context.get("cart"))
    )
