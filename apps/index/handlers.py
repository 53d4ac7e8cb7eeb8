"""The projections of the read side. Importing this module subscribes them to their events."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection

from apps.events.envelope import StoredEvent
from apps.events.models import OutboxEvent
from apps.events.registry import ALL
from apps.tenancy.resolver import tenant_by_schema

from .models import AggregateActivity
from .projections import Projection, register, versioned_upsert


@register
class AggregateActivityProjection(Projection):
    """The latest event of each aggregate. Its source is the tenant's retained event log."""

    name = "aggregate_activity"
    event_types = (ALL,)
    model = AggregateActivity

    def apply(self, event: StoredEvent) -> None:
        versioned_upsert(
            AggregateActivity,
            key={"aggregate_type": event.aggregate_type, "aggregate_id": event.aggregate_id},
            version=event.aggregate_version,
            values={
                "last_event_type": event.event_type,
                "last_event_id": event.event_id,
                "last_occurred_at": event.occurred_at,
                "actor_label": ((event.actor or {}).get("label") or "")[:255],
            },
        )

    def _events(self):
        tenant = tenant_by_schema(connection.schema_name)
        return OutboxEvent.objects.filter(tenant_id=tenant.pk if tenant else -1).order_by(
            "position"
        )

    def source(self) -> Iterable[StoredEvent]:
        for row in self._events().values().iterator(chunk_size=2000):
            yield StoredEvent.from_row(row)

    def source_count(self) -> int:
        return self._events().count()

    def rebuild_item(self, item: StoredEvent) -> None:
        self.apply(item)
