"""The parts of a storefront page that belong to one visitor, kept out of the cached page.

The header's mini-cart (the number of items in the visitor's cart), its account link (the
customer's display name, or "Log in") and the CSRF tokens of a page's forms differ from one
visitor to the next. When a page is rendered to be cached (``apps.storefront.page_cache``),
each of them is rendered as a placeholder instead (``rendering_shell``); ``fill`` then puts
the visitor's own in, for every response, whether it came from the cache or was just rendered.
So a customer's name or cart count never reaches the cache, and every visitor's forms carry
their own token (and get the CSRF cookie they need, as without the cache).

The placeholders carry a value derived from the secret key: text that an editor or a
customer typed cannot name one (and HTML comments are stripped from bodies anyway).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import cache
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext

from apps.commerce.selectors import CartView
from apps.pages.delivery import reader_locale, site_tenant
from apps.people import selectors as people

from .cart_views import mini_cart_count

SHELL_ATTRIBUTE = "_page_shell"


def rendering_shell(request: HttpRequest | None) -> bool:
    """Whether ``request``'s page is being rendered to be cached (placeholders, not persons)."""
    return bool(getattr(request, SHELL_ATTRIBUTE, False))


@cache
def _secret() -> str:
    return hashlib.sha256(f"storefront.personal:{settings.SECRET_KEY}".encode()).hexdigest()[:20]


def placeholder(name: str) -> str:
    """The mark a part called ``name`` leaves in a cached page (it stands in an attribute value
    too: letters, digits and dashes only)."""
    return f"personal-{_secret()}-{name}"


def mini_cart_context(request: HttpRequest, shown: Any = None) -> dict[str, Any]:
    """The header's link to the cart with its number of items: one query when the reader has
    a cart (a token in the session, or signed in), none otherwise. ``shown``: the cart the
    page itself shows (the cart page), whose count needs no query."""
    if site_tenant(request) is None or not request.tenant.module_on("shop"):
        return {"url": None}
    url = reverse("cart:page")
    count = shown.count if isinstance(shown, CartView) else mini_cart_count(request)
    return {
        "url": url + reader_locale(request).query,
        "count": count,
        "current": request.path == url,
    }


def account_link_context(request: HttpRequest) -> dict[str, Any]:
    """The header's way to the account: the customer's display name (never their login email)
    once logged in, else "Log in". A visitor without a session costs no query."""
    if site_tenant(request) is None:
        return {}
    try:
        account_url = reverse("account:home")
    except NoReverseMatch:
        return {}
    query = reader_locale(request).query
    user = getattr(request, "user", None)
    name = ""
    if user is not None and user.is_authenticated:
        name = people.display_name(user) or gettext("Your account")
    return {
        "account_url": account_url + query,
        "login_url": reverse("account:login") + query,
        "name": name,
        "current": request.path == account_url,
    }


def mini_cart_html(request: HttpRequest) -> str:
    return render_to_string("storefront/_mini_cart.html", mini_cart_context(request))


def account_link_html(request: HttpRequest) -> str:
    return render_to_string("storefront/_account_link.html", account_link_context(request))


# What stands for each part in a cached page, and how a request's own is made.
PARTS: dict[str, Callable[[HttpRequest], str]] = {
    "mini-cart": mini_cart_html,
    "account-link": account_link_html,
    "csrf-token": get_token,
}


def fill(request: HttpRequest, content: bytes) -> bytes:
    """``content`` with each placeholder it holds replaced by ``request``'s own part."""
    for name, make in PARTS.items():
        mark = placeholder(name).encode()
        if mark in content:
            content = content.replace(mark, make(request).encode())
    return content


def shell_context(request: HttpRequest) -> dict[str, Any]:
    """Context processor (after Django's own ``csrf``): while a page is rendered to be cached,
    ``{% csrf_token %}`` writes the token's placeholder, never this visitor's token."""
    if rendering_shell(request):
        return {"csrf_token": placeholder("csrf-token")}
    return {}
