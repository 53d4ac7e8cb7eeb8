"""Error responses: problem+json (RFC 9457) for API clients, a short page for people.

``problem_body`` is the one builder of a problem's members; the API's exception
handler (``apps.api.exceptions``) and the middlewares' ``error_response`` both
use it, so every channel answers with the same keys.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils import translation

from .errors import PlatformError

PROBLEM_CONTENT_TYPE = "application/problem+json"


def problem_body(
    *, status: int, code: str, detail: str, title: str | None = None
) -> dict[str, Any]:
    """The members of one problem; ``title`` defaults to the status's reason phrase."""
    return {
        "type": f"about:blank#{code}",
        "title": str(title or HTTPStatus(status).phrase),
        "status": status,
        "detail": str(detail),
        "code": code,
    }


def problem_headers(error: PlatformError) -> dict[str, str]:
    """The headers an error asks for (``Retry-After`` when it knows when to come back)."""
    retry_after = getattr(error, "retry_after", None)
    return {} if retry_after is None else {"Retry-After": str(retry_after)}


def wants_json(request: HttpRequest) -> bool:
    accept = request.META.get("HTTP_ACCEPT", "")
    return "json" in accept.lower() or request.path.startswith("/api/")


def problem_response(
    request: HttpRequest,
    *,
    status: int,
    title: str,
    detail: str,
    code: str,
    headers: dict[str, str] | None = None,
) -> HttpResponse:
    """Render one error the way the client asked for it. Never touches the database."""
    if wants_json(request):
        body = json.dumps(problem_body(status=status, code=code, detail=detail, title=title))
        response = HttpResponse(body, status=status, content_type=PROBLEM_CONTENT_TYPE)
    else:
        # Often no tenant (so no locale rule) yet: the reader's browser chooses the language.
        with translation.override(translation.get_language_from_request(request)):
            html = render_to_string(
                "errors/problem.html", {"status": status, "title": title, "detail": detail}
            )
        response = HttpResponse(html, status=status, content_type="text/html; charset=utf-8")
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def error_response(request: HttpRequest, error: PlatformError) -> HttpResponse:
    return problem_response(
        request,
        status=error.status,
        title=error.title,
        detail=error.detail,
        code=error.code,
        headers=problem_headers(error),
    )
