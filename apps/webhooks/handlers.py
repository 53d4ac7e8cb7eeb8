"""The outbox subscriber that turns every event into deliveries to the tenant's endpoints.

It runs in the relay's tenant transaction, with the relay's ledger entry, and only writes
rows (one statement for a relay batch's events): no HTTP request is made here, so a slow
receiver never holds the relay, and a crash between the write and the send loses nothing
(the sweep sends what was written).
"""

from __future__ import annotations

from apps.events.envelope import StoredEvent
from apps.events.registry import ALL, handles

from . import services


def make_deliveries_many(events: list[StoredEvent]) -> None:
    """A relay batch's events: one read of the endpoints, then (for a tenant with some) one
    insert of all their deliveries."""
    services.deliveries_create_for_events(events)


@handles(ALL, name="webhooks.deliveries", batch=make_deliveries_many)
def make_deliveries(event: StoredEvent) -> None:
    services.deliveries_create_for_event(event)
