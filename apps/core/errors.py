"""Typed domain errors. Each delivery channel maps them to HTTP in one place."""

from __future__ import annotations


class PlatformError(Exception):
    """Base of every error the platform raises on purpose.

    ``status`` is the HTTP status a delivery channel answers with, ``code`` a
    stable machine-readable identifier, ``title`` a short human summary.
    """

    status = 400
    code = "error"
    title = "Bad request"

    def __init__(self, detail: str = "", **extra: object) -> None:
        self.detail = detail or self.title
        self.extra = extra
        super().__init__(self.detail)


class ValidationFailed(PlatformError):
    status = 422
    code = "validation_failed"
    title = "Invalid input"


class NotFound(PlatformError):
    status = 404
    code = "not_found"
    title = "Not found"


class PermissionDenied(PlatformError):
    status = 403
    code = "forbidden"
    title = "Forbidden"


class Conflict(PlatformError):
    status = 409
    code = "conflict"
    title = "Conflict"


class InvalidTransition(Conflict):
    code = "invalid_transition"
    title = "Invalid state transition"


class ServiceUnavailable(PlatformError):
    status = 503
    code = "unavailable"
    title = "Service temporarily unavailable"

    def __init__(self, detail: str = "", *, retry_after: int = 5, **extra: object) -> None:
        self.retry_after = retry_after
        super().__init__(detail, **extra)
