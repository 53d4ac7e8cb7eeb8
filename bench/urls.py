"""The tenant's URLs, plus ``bench/bare/?bytes=N``: a page of N bytes that reads nothing.

It passes through every middleware the shop's pages do (tenant resolution, locale, security
headers) and renders a template, so beside a shop page of the same size it shows what reading
the catalog costs.
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from config.urls_tenant import urlpatterns as tenant_urlpatterns

LINE = "A line of text as long as a product card's markup is, give or take a little. "
MAX_BYTES = 1_000_000


def bare(request: HttpRequest) -> HttpResponse:
    try:
        size = max(0, min(int(request.GET.get("bytes", "20000")), MAX_BYTES))
    except ValueError:
        size = 20_000
    lines = [LINE] * (size // (len(LINE) + 8))
    return render(request, "bench/bare.html", {"lines": lines})


urlpatterns = [path("bench/bare/", bare), *tenant_urlpatterns]
