"""Events the storefront reacts to: whatever changes what its cached pages show."""

from __future__ import annotations

from apps.events.envelope import StoredEvent
from apps.events.registry import handles

from . import page_cache


def pages_changed_by(events: list[StoredEvent]) -> None:
    """A relay batch's events (one tenant): one new generation per family they change."""
    for event_type in dict.fromkeys(event.event_type for event in events):
        page_cache.purge(event_type)


@handles(*page_cache.purging_event_types(), name="storefront.page_cache", batch=pages_changed_by)
def pages_changed(event: StoredEvent) -> None:
    """Cached pages that show what ``event`` changed are rendered again on their next read.
    (Idempotent: a replayed event only draws another generation.)"""
    page_cache.purge(event.event_type)
