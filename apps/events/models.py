"""The outbox (public schema): one row per event, drained by the relay.

``Delivery`` rows exist only for trouble: a handler that failed on an event
(retry or dead letter) and the later events of the same aggregate held back
behind it for that handler.
"""

from django.db import models
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy

from apps.tenancy.models import Tenant


class OutboxStatus(models.TextChoices):
    PENDING = "pending", gettext_lazy("Pending")
    DISPATCHED = "dispatched", gettext_lazy("Dispatched")


class OutboxEvent(models.Model):
    position = models.BigAutoField(primary_key=True)
    event_id = models.UUIDField(unique=True, editable=False)
    event_type = models.CharField(max_length=120)
    schema_version = models.PositiveSmallIntegerField()
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    schema_name = models.CharField(max_length=63)
    actor = models.JSONField(null=True, blank=True)
    aggregate_type = models.CharField(max_length=64)
    aggregate_id = models.CharField(max_length=64)
    aggregate_version = models.BigIntegerField(null=True, blank=True)
    correlation_id = models.CharField(max_length=64)
    causation_id = models.UUIDField(null=True, blank=True)
    trace_context = models.JSONField(default=dict, blank=True)
    occurred_at = models.DateTimeField()
    payload = models.JSONField()

    status = models.CharField(
        max_length=16, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    # When the row last became pending (publish or replay): the backlog's age counts from here.
    pending_since = models.DateTimeField(db_default=Now())
    claims = models.PositiveIntegerField(default=0)
    lease_owner = models.CharField(max_length=64, blank=True, default="")
    # The claimer's advisory lock key (relay.CLAIMER_LOCK_CLASS): free once it is gone.
    lease_lock = models.IntegerField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "events_outbox"
        verbose_name = gettext_lazy("outbox event")
        ordering = ["-position"]
        indexes = [
            # claim path: pending rows in order (the relay walks it; per-aggregate
            # order is checked on the rows it reads, so no other index is involved)
            models.Index(
                fields=["position"],
                name="outbox_pending_idx",
                condition=models.Q(status="pending"),
            ),
            # retention pruning
            models.Index(
                fields=["dispatched_at"],
                name="outbox_dispatched_idx",
                condition=models.Q(status="dispatched"),
            ),
            # feeds, replays and the admin's filters
            models.Index(fields=["tenant", "occurred_at"], name="outbox_tenant_time_idx"),
            models.Index(fields=["event_type", "occurred_at"], name="outbox_type_time_idx"),
            models.Index(
                fields=["pending_since"],
                name="outbox_pending_since_idx",
                condition=models.Q(status="pending"),
            ),
            # the admin's searches
            models.Index(fields=["aggregate_id"], name="outbox_aggregate_id_idx"),
            models.Index(fields=["correlation_id"], name="outbox_correlation_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.position} {self.event_type} ({self.schema_name})"


class DeliveryStatus(models.TextChoices):
    RETRY = "retry", gettext_lazy("Waiting to retry")
    BLOCKED = "blocked", gettext_lazy("Held behind an earlier failure")
    DEAD = "dead", gettext_lazy("Dead letter")


class Delivery(models.Model):
    """One event that one handler has not handled yet because of a failure."""

    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="deliveries")
    handler = models.CharField(max_length=120)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    aggregate_type = models.CharField(max_length=64)
    aggregate_id = models.CharField(max_length=64)
    position = models.BigIntegerField()
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices)
    attempts = models.PositiveIntegerField(default=0)
    available_at = models.DateTimeField()
    lease_owner = models.CharField(max_length=64, blank=True, default="")
    lease_lock = models.IntegerField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_traceback = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "events_delivery"
        verbose_name_plural = gettext_lazy("deliveries")
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "handler"], name="delivery_event_handler_uniq"
            ),
        ]
        indexes = [
            models.Index(
                fields=["handler", "tenant", "aggregate_type", "aggregate_id", "position"],
                name="delivery_aggregate_idx",
            ),
            models.Index(
                fields=["available_at"],
                name="delivery_retry_idx",
                condition=models.Q(status="retry"),
            ),
            models.Index(fields=["status", "tenant"], name="delivery_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.handler} <- #{self.position} ({self.status})"
