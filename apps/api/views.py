"""Views of the API that belong to no module."""

from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve

from apps.core.errors import NotFound
from apps.core.problems import error_response


def not_found(request: HttpRequest, path: str = "") -> HttpResponse:
    """Unknown paths under /api/v1/: a problem+json 404 (not the storefront's page)."""
    detail = f"no API endpoint at {request.path}"
    if not request.path.endswith("/"):
        try:
            match = resolve(request.path_info + "/", getattr(request, "urlconf", None))
        except Resolver404:
            match = None
        if match is not None and match.func is not not_found:
            detail += f"; did you mean {request.path}/ (with a trailing slash)?"
    return error_response(request, NotFound(detail))
