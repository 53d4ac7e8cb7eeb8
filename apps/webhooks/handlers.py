"""The outbox subscriber that turns every event into deliveries to the tenant's endpoints.

It runs in the relay's tenant transaction, with the relay's ledger row, and only writes
rows (one statement per event): no HTTP request is made here, so a slow receiver never
holds the relay, and a crash between the write and the send loses nothing (the sweep
sends what was written).
"""

from __future__ import annotations

from apps.events.envelope import StoredEvent
from apps.events.registry import ALL, handles

from . import services


@handles(ALL, name="webhooks.deliveries")
def make_deliveries(event: StoredEvent) -> None:
    services.deliveries_create_for_event(event)
