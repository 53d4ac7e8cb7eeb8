"""The API's one mapping from exceptions to HTTP: problem+json (RFC 9457) for every error.

``REST_FRAMEWORK["EXCEPTION_HANDLER"]`` points here. Every error body has the
same keys::

    {"type": "about:blank#<code>", "title": "...", "status": 400, "detail": "...",
     "code": "<code>", "errors": {"translations.en.title": ["must be 1 to 255 characters"]}}

``errors`` is present on 400 answers only: field paths (dotted for nested
input) mapped to lists of messages, whether a serializer or a service
(``ContentInvalid``) found the problem.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import set_rollback

from apps.core.errors import PlatformError, ValidationFailed
from apps.core.problems import PROBLEM_CONTENT_TYPE, problem_body, problem_headers

VALIDATION_STATUS = status.HTTP_400_BAD_REQUEST


def flatten_errors(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error structure as ``{"a.b.0.c": ["message", ...]}``."""
    if isinstance(detail, dict):
        flat: dict[str, list[str]] = {}
        for key, value in detail.items():
            flat.update(flatten_errors(value, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return {prefix or api_settings.NON_FIELD_ERRORS_KEY: [str(item) for item in detail]}
        flat = {}
        for index, item in enumerate(detail):
            if item:  # a ListSerializer reports {} for the items that were fine
                flat.update(flatten_errors(item, f"{prefix}.{index}" if prefix else str(index)))
        return flat
    return {prefix or api_settings.NON_FIELD_ERRORS_KEY: [str(detail)]}


def _platform_error(exc: PlatformError) -> tuple[int, dict[str, Any], dict[str, str]]:
    # Every kind of invalid input is a 400 here, as DRF's own validation errors are (the
    # kernel's default for ValidationFailed is 422); one that names a status of its own keeps
    # it (a forum post's body over its size limit: 413).
    invalid = isinstance(exc, ValidationFailed)
    status_code = (
        VALIDATION_STATUS
        if invalid and exc.status in (ValidationFailed.status, VALIDATION_STATUS)
        else exc.status
    )
    body = problem_body(status=status_code, code=exc.code, title=exc.title, detail=exc.detail)
    # Extension members (RFC 9457 §3.2): what the error knows, e.g. a node's current status.
    for name, value in exc.extra.items():
        if name not in body and name != "errors":
            body[name] = value if isinstance(value, str | int | float | bool | None) else str(value)
    field_errors = getattr(exc, "errors", None)
    if invalid and status_code == VALIDATION_STATUS:
        body["errors"] = (
            {name: [str(message)] for name, message in field_errors.items()}
            if isinstance(field_errors, dict)
            else {api_settings.NON_FIELD_ERRORS_KEY: [exc.detail]}
        )
    return status_code, body, problem_headers(exc)


def _api_exception(exc: exceptions.APIException) -> tuple[int, dict[str, Any], dict[str, str]]:
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = f"{exc.wait:.0f}"
    if isinstance(exc, exceptions.ValidationError):
        body = problem_body(
            status=exc.status_code,
            code="invalid",
            title="Invalid input",
            detail="The request has invalid fields; see errors.",
        )
        body["errors"] = flatten_errors(exc.detail)
        return exc.status_code, body, headers
    detail = exc.detail
    if isinstance(detail, list | dict):  # raised by hand with a structure: keep its messages
        messages = flatten_errors(detail)
        text = "; ".join(message for group in messages.values() for message in group)
    else:
        text = str(detail)
    code = detail.code if hasattr(detail, "code") else exc.default_code
    return exc.status_code, problem_body(status=exc.status_code, code=code, detail=text), headers


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"
    default_detail = "The request body is larger than this API accepts."


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Map ``exc`` to a problem+json response, or return None (a bug: Django answers 500)."""
    if isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    elif isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        exc = exceptions.ParseError(str(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    if isinstance(exc, PlatformError):
        status_code, body, headers = _platform_error(exc)
    elif isinstance(exc, exceptions.APIException):
        status_code, body, headers = _api_exception(exc)
    else:
        return None
    set_rollback()
    return Response(body, status=status_code, headers=headers, content_type=PROBLEM_CONTENT_TYPE)
