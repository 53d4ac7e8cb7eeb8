from django.db import models


class AggregateActivity(models.Model):
    """The latest event of every aggregate of a tenant: a 'recent changes' read model."""

    aggregate_type = models.CharField(max_length=64)
    aggregate_id = models.CharField(max_length=64)
    last_event_type = models.CharField(max_length=120)
    last_event_id = models.UUIDField()
    source_version = models.BigIntegerField(null=True)
    last_occurred_at = models.DateTimeField()
    actor_label = models.CharField(max_length=255, blank=True)

    class Meta:
        db_table = "index_aggregate_activity"
        verbose_name_plural = "aggregate activity"
        ordering = ["-last_occurred_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["aggregate_type", "aggregate_id"], name="activity_aggregate_uniq"
            ),
        ]
        indexes = [models.Index(fields=["-last_occurred_at"], name="activity_recent_idx")]

    def __str__(self) -> str:
        return f"{self.aggregate_type}:{self.aggregate_id} {self.last_event_type}"
