"""The relay's batch path: a subscriber's batch function, and the fallback when it raises."""

import uuid

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.events import relay
from apps.events.models import Delivery, DeliveryStatus, OutboxEvent
from apps.events.registry import _by_type, _subscribers, subscribe
from tests.eventapp.models import Effect
from tests.eventapp.services import widget_change


def _ledger(schema: str, handler: str) -> set[str]:
    with schema_context(schema), connection.cursor() as cursor:
        cursor.execute("SELECT event_id FROM events_processed WHERE %s = ANY(handlers)", [handler])
        return {str(row[0]) for row in cursor.fetchall()}


def _widget_events(notes: list[str], widget_id: uuid.UUID) -> list[OutboxEvent]:
    with schema_context("acme"):
        for note in notes:
            widget_change(widget_id=widget_id, note=note)
    return list(OutboxEvent.objects.filter(aggregate_id=str(widget_id)).order_by("position"))


@pytest.fixture
def batch_subscriber():
    """``test.batch``: a subscriber with a batch function that fails once when told to, and a
    per-event function that fails on the note ``doomed`` while ``doomed`` is in ``failing``."""
    calls = {"batches": [], "events": [], "failing": {"batch", "doomed"}}

    def record(event):
        payload = event.event
        if payload.note in calls["failing"]:
            raise RuntimeError(f"failing on {payload.note}")
        calls["events"].append(payload.note)
        Effect.objects.create(
            handler="test.batch", event_id=event.event_id, widget_id=payload.widget_id,
            version=payload.version, note=payload.note,
        )  # fmt: skip

    def record_many(events):
        calls["batches"].append([event.event.note for event in events])
        for event in events:
            Effect.objects.create(
                handler="test.batch", event_id=event.event_id, widget_id=event.event.widget_id,
                version=event.event.version, note=event.event.note,
            )  # fmt: skip
        if "batch" in calls["failing"]:
            raise RuntimeError("the batch fails")

    subscribe("test.batch", ["testing.widget.changed"], record, batch=record_many)
    yield calls
    _subscribers.pop("test.batch", None)
    _by_type.clear()


def _batch_effects():
    with schema_context("acme"):
        return list(
            Effect.objects.filter(handler="test.batch")
            .order_by("seq")
            .values_list("note", flat=True)
        )


def test_a_failing_batch_is_retried_event_by_event(clean_events, batch_subscriber):
    chain = uuid.uuid4()
    events = _widget_events(["one", "doomed", "three"], chain)
    events += _widget_events(["elsewhere"], uuid.uuid4())

    stats = relay.relay_batch(limit=10)

    # The batch call ran once with every event of the group and was rolled back.
    assert batch_subscriber["batches"] == [["one", "doomed", "three", "elsewhere"]]
    # Then event by event: the doomed event failed, the one after it in its aggregate
    # waits behind it, the others took effect once.
    assert (stats.handled, stats.failed, stats.blocked) == (4, 1, 1)
    assert _batch_effects() == ["one", "elsewhere"]
    deliveries = {d.position: d.status for d in Delivery.objects.filter(handler="test.batch")}
    assert deliveries == {
        events[1].position: DeliveryStatus.RETRY,
        events[2].position: DeliveryStatus.BLOCKED,
    }
    # Every event was acknowledged; the other subscribers handled all four.
    assert not OutboxEvent.objects.filter(status="pending").exists()
    assert _ledger("acme", "test.recorder") == {str(e.event_id) for e in events}

    batch_subscriber["failing"].clear()
    for _ in range(2):  # the retry, then the event held back behind it (due once it succeeded)
        Delivery.objects.filter(status=DeliveryStatus.RETRY).update(available_at=timezone.now())
        relay.drain()

    assert _batch_effects() == ["one", "elsewhere", "doomed", "three"]
    assert not Delivery.objects.filter(handler="test.batch").exists()
    assert _ledger("acme", "test.batch") == {str(e.event_id) for e in events}
