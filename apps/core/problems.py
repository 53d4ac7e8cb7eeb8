"""Error responses: problem+json (RFC 9457) for API clients, a short page for people."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

from .errors import PlatformError

PROBLEM_CONTENT_TYPE = "application/problem+json"


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
        body = json.dumps(
            {
                "type": f"about:blank#{code}",
                "title": title,
                "status": status,
                "detail": detail,
                "code": code,
            }
        )
        response = HttpResponse(body, status=status, content_type=PROBLEM_CONTENT_TYPE)
    else:
        html = render_to_string(
            "errors/problem.html", {"status": status, "title": title, "detail": detail}
        )
        response = HttpResponse(html, status=status, content_type="text/html; charset=utf-8")
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def error_response(request: HttpRequest, error: PlatformError) -> HttpResponse:
    headers = {}
    retry_after = getattr(error, "retry_after", None)
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return problem_response(
        request,
        status=error.status,
        title=error.title,
        detail=error.detail,
        code=error.code,
        headers=headers,
    )
