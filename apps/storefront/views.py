"""Server-rendered pages. The tenant's home page costs no query when the resolver is warm."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from apps.tenancy.selectors import tenant_list


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "storefront/home.html")


@require_safe
def platform_home(request: HttpRequest) -> HttpResponse:
    return render(
        request, "platform/home.html", {"tenant_count": tenant_list(active_only=True).count()}
    )
