import uuid

from django.db import transaction

from apps.events.publisher import publish

from .events import WidgetChanged
from .models import Widget


def widget_change(*, widget_id: uuid.UUID, note: str, actor=None) -> Widget:
    with transaction.atomic():
        widget, _ = Widget.objects.select_for_update().get_or_create(id=widget_id)
        widget.version += 1
        widget.note = note
        widget.save(update_fields=["version", "note"])
        publish(WidgetChanged(widget_id=widget.id, version=widget.version, note=note), actor=actor)
    return widget
