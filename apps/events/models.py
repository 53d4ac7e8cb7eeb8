"""The outbox (public schema): one row per event, drained by the relay.

``Delivery`` rows exist only for trouble: a handler that failed on an event
(retry or dead letter) and the later events of the same aggregate held back
behind it for that handler.
"""

from django.db import models
from django.db.models import Func
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy

from apps.tenancy.models import Tenant

# The feed's clock of a row (``apps.events.feed`` explains why it gives a sound order): the
# writing statement's snapshot xmax, and never less than the writing transaction's id plus one.
FEED_CLOCK_SQL = (
    "GREATEST(pg_snapshot_xmax(pg_current_snapshot())::text::bigint, "
    "pg_current_xact_id()::text::bigint + 1)"
)


class FeedClock(Func):
    """``FEED_CLOCK_SQL`` as the column's database default (for rows not written by ``publish``)."""

    template = FEED_CLOCK_SQL
    output_field = models.BigIntegerField()


class OutboxStatus(models.TextChoices):
    PENDING = "pending", gettext_lazy("Pending")
    DISPATCHED = "dispatched", gettext_lazy("Dispatched")


class OutboxEvent(models.Model):
    position = models.BigAutoField(primary_key=True, verbose_name=gettext_lazy("position"))
    event_id = models.UUIDField(unique=True, editable=False, verbose_name=gettext_lazy("event ID"))
    event_type = models.CharField(max_length=120, verbose_name=gettext_lazy("event type"))
    schema_version = models.PositiveSmallIntegerField(verbose_name=gettext_lazy("schema version"))
    tenant = models.ForeignKey(
        Tenant,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        verbose_name=gettext_lazy("tenant"),
    )
    schema_name = models.CharField(max_length=63, verbose_name=gettext_lazy("schema name"))
    actor = models.JSONField(null=True, blank=True, verbose_name=gettext_lazy("actor"))
    aggregate_type = models.CharField(max_length=64, verbose_name=gettext_lazy("aggregate type"))
    aggregate_id = models.CharField(max_length=64, verbose_name=gettext_lazy("aggregate ID"))
    aggregate_version = models.BigIntegerField(
        null=True, blank=True, verbose_name=gettext_lazy("aggregate version")
    )
    correlation_id = models.CharField(max_length=64, verbose_name=gettext_lazy("correlation ID"))
    causation_id = models.UUIDField(
        null=True, blank=True, verbose_name=gettext_lazy("causation ID")
    )
    trace_context = models.JSONField(
        default=dict, blank=True, verbose_name=gettext_lazy("trace context")
    )
    occurred_at = models.DateTimeField(verbose_name=gettext_lazy("occurred at"))
    payload = models.JSONField(verbose_name=gettext_lazy("payload"))
    # With ``position``, the row's place in the tenant's event feed (``apps.events.feed``).
    feed_clock = models.BigIntegerField(
        db_default=FeedClock(), editable=False, verbose_name=gettext_lazy("feed clock")
    )

    status = models.CharField(
        max_length=16,
        choices=OutboxStatus.choices,
        default=OutboxStatus.PENDING,
        verbose_name=gettext_lazy("status"),
    )
    # When the row last became pending (publish or replay): the backlog's age counts from here.
    pending_since = models.DateTimeField(
        db_default=Now(), verbose_name=gettext_lazy("pending since")
    )
    claims = models.PositiveIntegerField(default=0, verbose_name=gettext_lazy("claims"))
    lease_owner = models.CharField(
        max_length=64, blank=True, default="", verbose_name=gettext_lazy("lease owner")
    )
    # The claimer's advisory lock key (relay.CLAIMER_LOCK_CLASS): free once it is gone.
    lease_lock = models.IntegerField(null=True, blank=True, verbose_name=gettext_lazy("lease lock"))
    lease_expires_at = models.DateTimeField(
        null=True, blank=True, verbose_name=gettext_lazy("lease expires at")
    )
    dispatched_at = models.DateTimeField(
        null=True, blank=True, verbose_name=gettext_lazy("dispatched at")
    )

    class Meta:
        db_table = "events_outbox"
        verbose_name = gettext_lazy("outbox event")
        verbose_name_plural = gettext_lazy("outbox events")
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
            # the event feed: a tenant's rows in feed order
            models.Index(
                fields=["tenant", "feed_clock", "position"], name="outbox_tenant_feed_idx"
            ),
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


class FeedHorizon(models.Model):
    """How far pruning has gone in a tenant's feed: the greatest feed place (clock, position) of
    an event pruned so far. A feed cursor before it has missed events: the feed answers 410."""

    tenant = models.OneToOneField(
        Tenant,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="+",
        verbose_name=gettext_lazy("tenant"),
    )
    feed_clock = models.BigIntegerField(verbose_name=gettext_lazy("feed clock"))
    position = models.BigIntegerField(verbose_name=gettext_lazy("position"))

    class Meta:
        db_table = "events_feed_horizon"
        verbose_name = gettext_lazy("feed horizon")
        verbose_name_plural = gettext_lazy("feed horizons")

    def __str__(self) -> str:
        return f"{self.tenant_id}: {self.feed_clock}.{self.position}"


class DeliveryStatus(models.TextChoices):
    RETRY = "retry", gettext_lazy("Waiting to retry")
    BLOCKED = "blocked", gettext_lazy("Held behind an earlier failure")
    DEAD = "dead", gettext_lazy("Dead letter")


class Delivery(models.Model):
    """One event that one handler has not handled yet because of a failure."""

    event = models.ForeignKey(
        OutboxEvent,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=gettext_lazy("event"),
    )
    handler = models.CharField(max_length=120, verbose_name=gettext_lazy("handler"))
    tenant = models.ForeignKey(
        Tenant,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        verbose_name=gettext_lazy("tenant"),
    )
    aggregate_type = models.CharField(max_length=64, verbose_name=gettext_lazy("aggregate type"))
    aggregate_id = models.CharField(max_length=64, verbose_name=gettext_lazy("aggregate ID"))
    position = models.BigIntegerField(verbose_name=gettext_lazy("position"))
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, verbose_name=gettext_lazy("status")
    )
    attempts = models.PositiveIntegerField(default=0, verbose_name=gettext_lazy("attempts"))
    available_at = models.DateTimeField(verbose_name=gettext_lazy("available at"))
    lease_owner = models.CharField(
        max_length=64, blank=True, default="", verbose_name=gettext_lazy("lease owner")
    )
    lease_lock = models.IntegerField(null=True, blank=True, verbose_name=gettext_lazy("lease lock"))
    lease_expires_at = models.DateTimeField(
        null=True, blank=True, verbose_name=gettext_lazy("lease expires at")
    )
    last_error = models.TextField(blank=True, verbose_name=gettext_lazy("last error"))
    last_traceback = models.TextField(blank=True, verbose_name=gettext_lazy("last traceback"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=gettext_lazy("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=gettext_lazy("updated at"))

    class Meta:
        db_table = "events_delivery"
        verbose_name = gettext_lazy("delivery")
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
