from django.db import models
from django.utils.translation import gettext_lazy


class ProcessedEvent(models.Model):
    """A handler has applied an event in this tenant. Written in the effect's transaction."""

    handler = models.CharField(max_length=120, verbose_name=gettext_lazy("handler"))
    event_id = models.UUIDField(verbose_name=gettext_lazy("event ID"))
    processed_at = models.DateTimeField(
        auto_now_add=True, verbose_name=gettext_lazy("processed at")
    )

    class Meta:
        db_table = "events_processed"
        verbose_name = gettext_lazy("processed event")
        verbose_name_plural = gettext_lazy("processed events")
        constraints = [
            models.UniqueConstraint(
                fields=["handler", "event_id"], name="processed_handler_event_uniq"
            ),
        ]
        indexes = [models.Index(fields=["processed_at"], name="processed_at_idx")]

    def __str__(self) -> str:
        return f"{self.handler}:{self.event_id}"
