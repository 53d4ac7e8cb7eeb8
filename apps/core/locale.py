"""Which locale to serve a request in, among the locales a tenant has enabled."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation.trans_real import parse_accept_lang_header

LOCALE_PARAM = "lang"
LOCALE_COOKIE = "locale"


def negotiate(request: HttpRequest, available: list[str], default: str) -> str:
    """``?lang=``, then the ``locale`` cookie, then ``Accept-Language``, then ``default``."""
    wanted = [request.GET.get(LOCALE_PARAM, ""), request.COOKIES.get(LOCALE_COOKIE, "")]
    wanted += [
        code for code, _ in parse_accept_lang_header(request.META.get("HTTP_ACCEPT_LANGUAGE", ""))
    ]
    for code in wanted:
        code = (code or "").lower()
        if code in available:
            return code
        base = code.split("-")[0]
        if base in available:
            return base
    return default
