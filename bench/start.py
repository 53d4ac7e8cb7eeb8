"""What a bench sets before Django starts (importing nothing of Django or the apps)."""

from __future__ import annotations

import os

# The benches' own events (bench/outbox_events.py), loaded by the registry at start-up.
EXTRA_MODULE = "bench.outbox_events"


def with_bench_events() -> str:
    """Add the benches' events to ``EVENTS_EXTRA_MODULES`` (keeping any already named)."""
    named = [m for m in os.environ.get("EVENTS_EXTRA_MODULES", "").split(",") if m.strip()]
    os.environ["EVENTS_EXTRA_MODULES"] = ",".join(dict.fromkeys([*named, EXTRA_MODULE]))
    return EXTRA_MODULE
