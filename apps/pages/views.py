"""Pages by their hierarchical path (``/about/team/``); mounted last, it takes what nothing else did."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponsePermanentRedirect,
    HttpResponseRedirect,
)
from django.views.decorators.http import require_safe

from apps.core.locale import LOCALE_PARAM

from . import selectors
from .delivery import reader_locale, render_page, site_tenant, wants_preview


@require_safe
def page_detail(request: HttpRequest, path: str, slash: str = "/") -> HttpResponse:
    if site_tenant(request) is None:
        raise Http404("no site here")
    locale = reader_locale(request)
    preview = wants_preview(request)
    match = selectors.page_by_path(
        path, locales=list(locale.available), preferred=locale.current, include_drafts=preview
    )
    if match is None:
        raise Http404("no such page")
    if not slash:
        query = request.META.get("QUERY_STRING", "")
        return HttpResponsePermanentRedirect(f"/{path}/" + (f"?{query}" if query else ""))
    has_wanted_translation = any(t.locale == locale.current for t in match.node.translations.all())
    if locale.explicit and match.locale != locale.current and has_wanted_translation:
        # The reader asked for another locale: the same page at its path in that locale.
        return _redirect(match.path(locale.current), request)
    layout = match.layout
    if layout and layout.is_home and not preview:
        return _redirect("/", request)
    return render_page(request, match, preview=preview)


def _redirect(path: str, request: HttpRequest) -> HttpResponse:
    kept = {name: request.GET[name] for name in (LOCALE_PARAM, "preview") if request.GET.get(name)}
    return HttpResponseRedirect(f"{path}?{urlencode(kept)}" if kept else path)
