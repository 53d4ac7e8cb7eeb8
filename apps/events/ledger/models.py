from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import BrinIndex
from django.db import models
from django.utils.translation import gettext_lazy


class ProcessedEvent(models.Model):
    """The handlers that have applied an event in this tenant: one row per event, each handler's
    name written in the transaction of its effect (``apps.events.relay``)."""

    event_id = models.UUIDField(primary_key=True, verbose_name=gettext_lazy("event ID"))
    handlers = ArrayField(models.CharField(max_length=120), verbose_name=gettext_lazy("handlers"))
    # When the first of them did (rows come in time order: a block range index is enough).
    processed_at = models.DateTimeField(
        auto_now_add=True, verbose_name=gettext_lazy("processed at")
    )

    class Meta:
        db_table = "events_processed"
        verbose_name = gettext_lazy("processed event")
        verbose_name_plural = gettext_lazy("processed events")
        indexes = [BrinIndex(fields=["processed_at"], name="processed_at_brin")]

    def __str__(self) -> str:
        return f"{self.event_id}: {', '.join(self.handlers)}"
