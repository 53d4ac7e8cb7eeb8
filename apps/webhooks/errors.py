"""The webhooks' typed errors; the API maps them once (``apps.api.exceptions``)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from apps.core.errors import NotFound, PlatformError, ValidationFailed


class EndpointInvalid(ValidationFailed):
    """An endpoint's fields are wrong; ``errors`` maps each field to its message."""

    code = "webhook_endpoint_invalid"

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(str(message) for message in errors.values()))


class UnsafeUrl(PlatformError):
    """The URL would make the platform call itself or a private network (SSRF)."""

    status = 422
    code = "webhook_url_refused"
    title = gettext_lazy("Webhook URL refused")


class EndpointNotFound(NotFound):
    code = "webhook_endpoint_not_found"


class DeliveryNotFound(NotFound):
    code = "webhook_delivery_not_found"
