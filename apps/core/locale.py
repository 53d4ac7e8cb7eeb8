"""Which locale a storefront URL is in, and which locale a reader would rather have.

The rule, the same on every page of a site (home, pages, blog, feeds, previews, 404):
**the URL decides.**

- A URL that names a locale shows that locale: ``?lang=de``, or a page path spelled
  only in that locale (``/ueber-uns/team/``, decided by the page's own lookup).
- A bare URL shows the tenant's default locale.
- Except: a GET of a bare URL by a reader whose ``locale`` cookie (set when they chose
  a language with ``?lang=``) or, failing that, whose ``Accept-Language`` names another
  enabled locale is redirected (302, ``Vary: Cookie, Accept-Language``) to the same URL
  with ``?lang=xx``: the address bar always names the locale on screen, and a URL is
  the same page for everyone who opens it.

A code that the tenant has not enabled is ignored wherever it comes from. This module
only reads the request; ``apps.pages.delivery`` applies the rule to a tenant's site.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.http import HttpRequest
from django.utils.translation.trans_real import parse_accept_lang_header

LOCALE_PARAM = "lang"
LOCALE_COOKIE = "locale"


def enabled_code(code: str | None, available: Iterable[str]) -> str | None:
    """``code`` as one of ``available`` (``de-AT`` is ``de`` when only ``de`` is), else None."""
    code = (code or "").strip().lower()
    if not code:
        return None
    available = tuple(available)
    if code in available:
        return code
    base = code.split("-")[0]
    return base if base in available else None


def requested(request: HttpRequest, available: Iterable[str]) -> str | None:
    """The enabled locale the URL names with ``?lang=``, if any."""
    return enabled_code(request.GET.get(LOCALE_PARAM), available)


def preferred(request: HttpRequest, available: Iterable[str]) -> str | None:
    """The enabled locale the reader prefers: the ``locale`` cookie, else ``Accept-Language``."""
    available = tuple(available)
    chosen = enabled_code(request.COOKIES.get(LOCALE_COOKIE), available)
    if chosen is not None:
        return chosen
    header = request.META.get("HTTP_ACCEPT_LANGUAGE", "")
    for code, _ in parse_accept_lang_header(header):
        chosen = enabled_code(code, available)
        if chosen is not None:
            return chosen
    return None
