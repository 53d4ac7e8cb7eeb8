"""The recorder: writes an Effect row per event; Redis keys make it fail or slow on purpose.

- ``test:fail:<note>`` = N: the next N runs on events with that note raise.
- ``test:always_fail:<note>``: every run on events with that note raises.
- ``test:sleep_ms``: sleep this long per event (to kill a worker mid-batch).

``test.label_recorder`` writes down the typed event it received (its schema
version and payload, as JSON in ``Effect.note``), to show what upcasting handed it.
"""

import json
import os
import time

import redis
from django.conf import settings

from apps.events.registry import handles

from .models import Effect

_client = None


def _redis():
    global _client
    if _client is None:
        _client = redis.Redis.from_url(settings.REDIS_URL)
    return _client


class InjectedFailure(RuntimeError):
    pass


@handles("testing.widget.changed", name="test.recorder")
def record(event):
    payload = event.event
    client = _redis()
    sleep_ms = client.get("test:sleep_ms")
    if sleep_ms:
        time.sleep(int(sleep_ms) / 1000)
    if client.exists(f"test:always_fail:{payload.note}"):
        raise InjectedFailure(f"always failing on {payload.note}")
    remaining = client.decr(f"test:fail:{payload.note}")
    if remaining >= 0:
        raise InjectedFailure(f"failing on {payload.note} ({remaining} more)")
    client.delete(f"test:fail:{payload.note}")
    Effect.objects.create(
        handler="test.recorder",
        event_id=event.event_id,
        widget_id=payload.widget_id,
        version=payload.version,
        note=payload.note,
        worker_pid=os.getpid(),
    )


@handles("testing.widget.status_changed", name="test.chain")
def chain(event):
    """Reacts to a status change by publishing another event: causation and correlation follow."""
    from django.db import transaction

    from apps.events.publisher import publish

    from .events import WidgetChanged

    with transaction.atomic():
        publish(WidgetChanged(widget_id=event.event.widget_id, version=1, note="chained"))


@handles("testing.widget.labelled", name="test.label_recorder")
def record_label(event):
    received = event.event
    Effect.objects.create(
        handler="test.label_recorder",
        event_id=event.event_id,
        widget_id=received.widget_id,
        version=received.version,
        note=json.dumps(
            {"schema_version": received.schema_version, **received.payload()}, sort_keys=True
        ),
        worker_pid=os.getpid(),
    )
