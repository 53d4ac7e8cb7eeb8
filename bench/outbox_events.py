"""Events and a latency recorder for ``bench/outbox.py``.

Loaded at start-up through ``EVENTS_EXTRA_MODULES=bench.outbox_events``, by the
benchmark itself and by the Celery workers it starts.

* ``bench.outbox.touched`` -- the event of the publish and drain runs. Only the
  real subscribers see it (the ``AggregateActivity`` projection takes every type).
* ``bench.outbox.pinged``  -- the event of the latency run. Besides the projection,
  ``bench.latency`` sees it and writes ``event_id -> time.time()`` into a Redis hash
  once the relay's transaction around it has committed.
"""

from __future__ import annotations

import time
from typing import Any

import redis
from django.conf import settings
from django.db import transaction

from apps.events.registry import handles
from apps.events.schema import AggregateVersion, DomainEvent, NonNegativeInt, ShortText

HANDLED_KEY = "bench:outbox:handled"


class BenchTouched(DomainEvent):
    event_type = "bench.outbox.touched"
    aggregate_type = "bench_item"
    aggregate_id_field = "item_id"
    aggregate_version_field = "version"

    item_id: NonNegativeInt
    version: AggregateVersion
    note: ShortText


class BenchPinged(DomainEvent):
    event_type = "bench.outbox.pinged"
    aggregate_type = "bench_ping"
    aggregate_id_field = "item_id"

    item_id: NonNegativeInt
    seq: NonNegativeInt


_client: redis.Redis | None = None
_unflushed: list[str] = []


def _redis() -> redis.Redis:
    global _client
    if _client is None:  # created lazily: after the prefork pool has forked
        _client = redis.Redis.from_url(settings.REDIS_URL)
    return _client


def _flush() -> None:
    handled_at = repr(time.time())
    mapping: dict[Any, Any] = dict.fromkeys(_unflushed, handled_at)
    _unflushed.clear()
    if mapping:
        _redis().hset(HANDLED_KEY, mapping=mapping)


@handles(BenchPinged.event_type, name="bench.latency")
def record_handled(event) -> None:
    """Note the event; its time is taken when the relay's transaction commits.

    One Redis write per transaction: the first callback to run flushes every
    event noted so far, the others find nothing left.
    """
    _unflushed.append(str(event.event_id))
    transaction.on_commit(_flush)
