"""The envelope of a stored event, as handlers receive it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from .schema import DomainEvent, load

ENVELOPE_COLUMNS = (
    "position", "event_id", "event_type", "schema_version", "tenant_id", "schema_name", "actor",
    "aggregate_type", "aggregate_id", "aggregate_version", "correlation_id", "causation_id",
    "trace_context", "occurred_at", "payload",
)  # fmt: skip


JSON_COLUMNS = ("actor", "trace_context", "payload")


@dataclass
class StoredEvent:
    position: int
    event_id: UUID
    event_type: str
    schema_version: int
    tenant_id: int
    schema_name: str
    actor: dict[str, str] | None
    aggregate_type: str
    aggregate_id: str
    aggregate_version: int | None
    correlation_id: str
    causation_id: UUID | None
    trace_context: dict[str, Any]
    occurred_at: datetime
    payload: dict[str, Any]
    _event: DomainEvent | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> StoredEvent:
        values = {name: row[name] for name in ENVELOPE_COLUMNS}
        # Raw SQL hands JSON columns over undecoded (Django decodes them in the ORM only).
        for name in JSON_COLUMNS:
            if isinstance(values[name], str):
                values[name] = json.loads(values[name])
        return cls(**values)

    @property
    def event(self) -> DomainEvent:
        """The typed payload, upcast to the latest schema version and validated."""
        if self._event is None:
            self._event = load(self.event_type, self.schema_version, self.payload)
        return self._event

    @property
    def aggregate_key(self) -> tuple[int, str, str]:
        return (self.tenant_id, self.aggregate_type, self.aggregate_id)
