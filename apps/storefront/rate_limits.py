"""Rate limits on the storefront's forms: a decorator for any view whose POSTs must be limited.

``@limit_posts("checkout_ip")`` counts every POST to the view against each named group of
``settings.RATE_LIMITS`` per client address (``apps.core.rate_limits``: fixed windows in
the shared cache, per tenant, failing open without Redis). Over a limit the view does not
run: the visitor gets a themed 429 page in the reader's language saying how long to wait,
with ``Retry-After``, and a way back. A view that wants to show the message on its own
form instead passes ``respond`` (the account pages do so with what was typed kept). GET
and HEAD are never counted. Forum posts, reviews and the like use the same decorator with
groups of their own.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import ngettext

from apps.core.errors import RateLimited
from apps.core.rate_limits import client_ip, rate_limit
from apps.pages.delivery import reader_locale


def wait_message(wait: int) -> str:
    """ "Try again in 30 seconds" / "in 2 minutes", in the active language."""
    if wait < 120:
        return ngettext(
            "Too many attempts. Please try again in %(count)d second.",
            "Too many attempts. Please try again in %(count)d seconds.",
            wait,
        ) % {"count": wait}
    minutes = (wait + 59) // 60
    return ngettext(
        "Too many attempts. Please try again in %(count)d minute.",
        "Too many attempts. Please try again in %(count)d minutes.",
        minutes,
    ) % {"count": minutes}


def _back_url(request: HttpRequest) -> str:
    """The page the form was on (the referrer, when it is this site's), else the home page."""
    referrer = request.META.get("HTTP_REFERER", "")
    safe = url_has_allowed_host_and_scheme(
        referrer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return referrer if referrer and safe else "/" + reader_locale(request).query


def too_many_page(request: HttpRequest, limited: RateLimited) -> HttpResponse:
    """The themed 429 page: how long to wait, and the way back; never stored by a cache."""
    locale = reader_locale(request)
    context = {
        "message": wait_message(limited.retry_after), "back_url": _back_url(request),
        "locale": locale, "lang_query": locale.query,
    }  # fmt: skip
    response = render(request, "too_many_requests.html", context, status=429)
    response["Retry-After"] = str(limited.retry_after)
    response["X-Robots-Tag"] = "noindex, nofollow"
    add_never_cache_headers(response)
    return response


Respond = Callable[[HttpRequest, RateLimited], HttpResponse]


def limit_posts(*groups: str, respond: Respond = too_many_page):
    """Decorate a view: its POSTs count against ``groups`` per client address, and one over a
    limit is answered by ``respond`` (the 429 page) without running the view."""

    def decorate(view):
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method == "POST":
                address = client_ip(request)
                try:
                    rate_limit(request, *((group, address) for group in groups))
                except RateLimited as limited:
                    return respond(request, limited)
            return view(request, *args, **kwargs)

        return wrapped

    return decorate
