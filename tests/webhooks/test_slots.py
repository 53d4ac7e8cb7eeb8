"""Sending slots per endpoint: a receiver that hangs holds a few workers, never all."""

from __future__ import annotations

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.core import kv
from apps.webhooks import selectors

from .conftest import endpoint_in, publish_widget, relay
from .test_deliveries import attempt, make_due, reload

pytestmark = pytest.mark.usefixtures("committed")


def deliveries(schema: str = "acme") -> list:
    with schema_context(schema):
        return list(selectors.deliveries())


def test_a_delivery_whose_endpoint_has_no_free_slot_waits_untried(receiver, settings):
    endpoint, _ = endpoint_in("acme", receiver.url)
    publish_widget("acme")
    relay()
    (delivery,) = deliveries()
    # Every slot of this endpoint is held (by workers sending to a receiver that hangs).
    slots = [
        kv.client().lock(f"webhooks:sending:acme:{endpoint.pk}:{number}", timeout=30)
        for number in range(settings.WEBHOOKS["ENDPOINT_CONCURRENCY"])
    ]
    assert all(lock.acquire(blocking=False) for lock in slots)

    assert attempt(delivery) is None
    waiting = reload(delivery)
    assert (waiting.status, waiting.attempts, receiver.received) == ("pending", 0, [])
    assert 0 < (waiting.next_attempt_at - timezone.now()).total_seconds() <= 1.5

    # Another tenant's endpoint is not held up.
    endpoint_in("globex", receiver.url)
    publish_widget("globex")
    relay()
    (theirs,) = deliveries("globex")
    assert attempt(theirs, "globex").succeeded

    for lock in slots:
        lock.release()
    make_due(delivery)
    assert attempt(delivery).succeeded
    assert reload(delivery).attempts == 1


def test_slots_are_given_back_after_each_send(receiver, settings):
    settings.WEBHOOKS = {**settings.WEBHOOKS, "ENDPOINT_CONCURRENCY": 1}
    endpoint_in("acme", receiver.url)
    for note in ("one", "two", "three"):
        publish_widget("acme", note)
    relay()
    for delivery in deliveries():
        assert attempt(delivery).succeeded
    assert not kv.client().keys("*webhooks:sending:*")
