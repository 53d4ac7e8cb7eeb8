import uuid

from django.db import models


class Widget(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    note = models.CharField(max_length=255, blank=True)
    version = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"widget {self.id} v{self.version}"


class Effect(models.Model):
    """One row per handler run that committed; duplicates would show a second effect."""

    seq = models.BigAutoField(primary_key=True)
    handler = models.CharField(max_length=120)
    event_id = models.UUIDField()
    widget_id = models.UUIDField()
    version = models.PositiveIntegerField()
    note = models.CharField(max_length=255)
    worker_pid = models.IntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.handler} {self.widget_id} v{self.version}"
