"""Typed domain errors. Each delivery channel maps them to HTTP in one place."""

from __future__ import annotations

from django.utils.translation import gettext_lazy


class PlatformError(Exception):
    """Base of every error the platform raises on purpose.

    ``status`` is the HTTP status a delivery channel answers with, ``code`` a
    stable machine-readable identifier, ``title`` a short human summary.
    """

    status = 400
    code = "error"
    title = gettext_lazy("Bad request")

    def __init__(self, detail: str = "", **extra: object) -> None:
        self.detail = detail or self.title
        self.extra = extra
        super().__init__(self.detail)


class ValidationFailed(PlatformError):
    status = 422
    code = "validation_failed"
    title = gettext_lazy("Invalid input")


class PaymentRequired(PlatformError):
    """A payment did not go through (a declined card): the shopper has to pay another way."""

    status = 402
    code = "payment_required"
    title = gettext_lazy("Payment required")


class NotFound(PlatformError):
    status = 404
    code = "not_found"
    title = gettext_lazy("Not found")


class PermissionDenied(PlatformError):
    status = 403
    code = "forbidden"
    title = gettext_lazy("Forbidden")


class Conflict(PlatformError):
    status = 409
    code = "conflict"
    title = gettext_lazy("Conflict")


class InvalidTransition(Conflict):
    code = "invalid_transition"
    title = gettext_lazy("Invalid state transition")


class ServiceUnavailable(PlatformError):
    status = 503
    code = "unavailable"
    title = gettext_lazy("Service temporarily unavailable")

    def __init__(self, detail: str = "", *, retry_after: int = 5, **extra: object) -> None:
        self.retry_after = retry_after
        super().__init__(detail, **extra)


class ModuleUnavailable(ServiceUnavailable):
    """A module in read-only mode refused a write, or a disabled module a request."""

    code = "module_unavailable"
    title = gettext_lazy("Temporarily unavailable")


class RateLimited(PlatformError):
    """Too many requests of one kind; ``retry_after`` seconds until the window ends."""

    status = 429
    code = "rate_limited"
    title = gettext_lazy("Too many requests")

    def __init__(self, detail: str = "", *, retry_after: int, **extra: object) -> None:
        self.retry_after = retry_after
        super().__init__(detail, **extra)
