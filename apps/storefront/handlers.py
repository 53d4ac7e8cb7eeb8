"""Events the storefront reacts to: whatever changes what its cached pages show."""

from __future__ import annotations

from apps.events.envelope import StoredEvent
from apps.events.registry import handles

from . import page_cache


@handles(*page_cache.purging_event_types(), name="storefront.page_cache")
def pages_changed(event: StoredEvent) -> None:
    """Cached pages that show what ``event`` changed are rendered again on their next read.
    (Idempotent: a replayed event only draws another generation.)"""
    page_cache.purge(event.event_type)
