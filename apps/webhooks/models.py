"""A tenant's webhook endpoints, the deliveries of its events to them and every attempt.

Tables only: ``services`` writes them, ``selectors`` reads them for other code.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy, pgettext_lazy

URL_MAX = 2000
DESCRIPTION_MAX = 200
EVENT_TYPE_MAX = 100
RESPONSE_EXCERPT_MAX = 1024


class WebhookEndpoint(models.Model):
    """Where a tenant wants its events, and the secret they are signed with.

    ``secret`` (``whsec_<base64>``) is kept as it is: signing needs it, so it cannot be
    hashed; it is shown to people once, when it is made or rotated. After a rotation the
    previous secret signs as well until ``previous_secret_until`` (one signature each). ``event_types`` are
    patterns: an exact type, ``*`` or a prefix such as ``commerce.*``. An endpoint that
    kept failing, or that answered 410 Gone, is inactive with ``disabled_reason`` saying why.
    """

    url = models.URLField(gettext_lazy("URL"), max_length=URL_MAX)
    secret = models.CharField(gettext_lazy("secret"), max_length=100)
    # After a rotation the old secret signs too, for a while, so receivers can switch over.
    previous_secret = models.CharField(max_length=100, blank=True, editable=False)
    previous_secret_until = models.DateTimeField(null=True, blank=True, editable=False)
    event_types = ArrayField(
        models.CharField(max_length=EVENT_TYPE_MAX),
        default=list,
        verbose_name=gettext_lazy("event types"),
    )
    is_active = models.BooleanField(gettext_lazy("active"), default=True)
    description = models.CharField(
        gettext_lazy("description"), max_length=DESCRIPTION_MAX, blank=True
    )
    disabled_reason = models.TextField(gettext_lazy("why it was disabled"), blank=True)
    disabled_at = models.DateTimeField(gettext_lazy("disabled at"), null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(
        gettext_lazy("failed attempts in a row"), default=0
    )
    failing_since = models.DateTimeField(gettext_lazy("failing since"), null=True, blank=True)
    created_at = models.DateTimeField(gettext_lazy("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(gettext_lazy("updated at"), auto_now=True)

    class Meta:
        verbose_name = gettext_lazy("webhook endpoint")
        verbose_name_plural = gettext_lazy("webhook endpoints")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The outbox subscriber's one query per event reads the active endpoints only.
            models.Index(
                fields=["id"], condition=models.Q(is_active=True), name="webhooks_endpoint_active"
            ),
        ]

    def __str__(self) -> str:
        return self.description or urlsplit(self.url).netloc or self.url


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", gettext_lazy("pending")
    DELIVERED = "delivered", gettext_lazy("delivered")
    FAILED = "failed", pgettext_lazy("webhook delivery status", "failed")


class WebhookDelivery(models.Model):
    """One event for one endpoint: written by the outbox subscriber in the relay's transaction.

    Unique per endpoint and event, so a replayed event makes no second delivery. A pending
    delivery is due at ``next_attempt_at``; a sender that takes it moves that time past its
    lease, so no other sender takes it while its request runs.
    """

    endpoint = models.ForeignKey(
        WebhookEndpoint,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=gettext_lazy("endpoint"),
    )
    event_id = models.UUIDField(gettext_lazy("event id"))
    event_type = models.CharField(gettext_lazy("event type"), max_length=EVENT_TYPE_MAX)
    payload = models.JSONField(gettext_lazy("payload"))
    status = models.CharField(
        gettext_lazy("status"),
        max_length=16,
        choices=DeliveryStatus.choices,
        default=DeliveryStatus.PENDING,
    )
    attempts = models.PositiveIntegerField(gettext_lazy("attempts"), default=0)
    # A redelivery starts a fresh schedule of retries: the attempts before it do not count.
    attempts_before_redelivery = models.PositiveIntegerField(default=0, editable=False)
    next_attempt_at = models.DateTimeField(gettext_lazy("next attempt at"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(
        gettext_lazy("last status code"), null=True, blank=True
    )
    last_error = models.TextField(gettext_lazy("last error"), blank=True)
    created_at = models.DateTimeField(gettext_lazy("created at"), auto_now_add=True)
    delivered_at = models.DateTimeField(gettext_lazy("delivered at"), null=True, blank=True)

    class Meta:
        verbose_name = gettext_lazy("webhook delivery")
        verbose_name_plural = gettext_lazy("webhook deliveries")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "event_id"], name="webhooks_delivery_once_per_event"
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="pending"),
                name="webhooks_delivery_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.endpoint}"

    @property
    def message_id(self) -> str:
        """The ``webhook-id`` header: the event's id, the same on every attempt."""
        return f"msg_{self.event_id.hex}"


class WebhookAttempt(models.Model):
    """One request to a receiver: what it answered (or why there was no answer)."""

    delivery = models.ForeignKey(
        WebhookDelivery,
        on_delete=models.CASCADE,
        related_name="attempt_log",
        verbose_name=gettext_lazy("delivery"),
    )
    number = models.PositiveIntegerField(gettext_lazy("attempt"))
    started_at = models.DateTimeField(gettext_lazy("started at"))
    status_code = models.PositiveSmallIntegerField(gettext_lazy("status code"), null=True)
    latency_ms = models.PositiveIntegerField(gettext_lazy("latency (ms)"), default=0)
    response_excerpt = models.TextField(gettext_lazy("response excerpt"), blank=True)
    error = models.TextField(gettext_lazy("error"), blank=True)
    succeeded = models.BooleanField(gettext_lazy("succeeded"), default=False)

    class Meta:
        verbose_name = gettext_lazy("webhook attempt")
        verbose_name_plural = gettext_lazy("webhook attempts")
        ordering = ["delivery", "number", "id"]

    def __str__(self) -> str:
        return f"#{self.number} {self.status_code or self.error[:40]}"
