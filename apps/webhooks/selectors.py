"""How other code reads the webhooks: endpoints, deliveries and their attempts."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Min, QuerySet
from django.utils import timezone

from .models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint


def endpoints() -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.order_by("-created_at", "-pk")


def deliveries(*, endpoint_id: int | None = None) -> QuerySet[WebhookDelivery]:
    """Deliveries, the newest first, with their endpoint."""
    rows = WebhookDelivery.objects.select_related("endpoint").order_by("-created_at", "-pk")
    if endpoint_id is not None:
        rows = rows.filter(endpoint_id=endpoint_id)
    return rows


def attempts(delivery_id: int) -> QuerySet[WebhookAttempt]:
    return WebhookAttempt.objects.filter(delivery_id=delivery_id).order_by("number", "pk")


def due_delivery_ids(
    *, limit: int, overdue_by: float = 0, now: datetime | None = None
) -> list[int]:
    """Pending deliveries due for ``overdue_by`` seconds at least (at ``now``), the most
    overdue first."""
    due_before = (now or timezone.now()) - timedelta(seconds=overdue_by)
    rows = WebhookDelivery.objects.filter(
        status=DeliveryStatus.PENDING, next_attempt_at__lte=due_before
    ).order_by("next_attempt_at", "pk")
    return list(rows.values_list("pk", flat=True)[:limit])


def next_overdue_at(*, overdue_by: float) -> datetime | None:
    """When the soonest pending delivery will be overdue by ``overdue_by`` seconds."""
    soonest = WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING).aggregate(
        soonest=Min("next_attempt_at")
    )["soonest"]
    return soonest + timedelta(seconds=overdue_by) if soonest else None


def next_expiry_at(*, retention: timedelta) -> datetime | None:
    """When the oldest finished delivery will have been kept for ``retention``."""
    oldest = (
        WebhookDelivery.objects.exclude(status=DeliveryStatus.PENDING)
        .aggregate(oldest=Min("created_at"))["oldest"]
    )  # fmt: skip
    return oldest + retention if oldest else None
