"""The interface language of every response of a tenant's site.

Storefront requests follow the locale rule of ``apps.core.locale`` (the URL decides):
a bare URL may be redirected to ``?lang=``, then the view and whatever renders its
response (Django's 404 page included) run with that locale active, so labels, dates,
numbers and plurals follow the page. A locale with no interface translation (``fr``,
``ru``) shows English labels around content that stays in its locale.

The tenant's admin, and the platform's own pages on the public domain, keep Django's own
negotiation (the ``django_language`` cookie, then ``Accept-Language``); the API and files
are left alone. Runs after the tenant resolver, which it needs for the tenant's locales;
it never queries.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers

from apps.pages.delivery import locale_redirect, reader_locale, remember_locale, site_tenant

ADMIN_PREFIX = "/admin/"
# Not pages for readers: no locale of their own, never redirected.
LOCALE_NEUTRAL_PREFIXES = ("/api/", "/media/", "/static/", "/sitemap.xml", "/robots.txt")


class ReaderLocaleMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if path.startswith(LOCALE_NEUTRAL_PREFIXES):
            return self.get_response(request)
        if path.startswith(ADMIN_PREFIX) or site_tenant(request) is None:
            return self._negotiated(request)
        redirect = locale_redirect(request)
        if redirect is not None:
            return redirect
        with translation.override(reader_locale(request).current):
            response = self.get_response(request)
        return remember_locale(request, response)

    def _negotiated(self, request: HttpRequest) -> HttpResponse:
        code = translation.get_language_from_request(request)
        with translation.override(code):
            request.LANGUAGE_CODE = code
            response = self.get_response(request)
        patch_vary_headers(response, ["Accept-Language"])
        response.headers.setdefault("Content-Language", code)
        return response
