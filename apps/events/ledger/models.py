from django.db import models


class ProcessedEvent(models.Model):
    """A handler has applied an event in this tenant. Written in the effect's transaction."""

    handler = models.CharField(max_length=120)
    event_id = models.UUIDField()
    processed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "events_processed"
        constraints = [
            models.UniqueConstraint(
                fields=["handler", "event_id"], name="processed_handler_event_uniq"
            ),
        ]
        indexes = [models.Index(fields=["processed_at"], name="processed_at_idx")]

    def __str__(self) -> str:
        return f"{self.handler}:{self.event_id}"
