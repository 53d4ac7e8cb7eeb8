"""Sending slots: a receiver that keeps failing (or hangs) holds a few workers, never all."""

from __future__ import annotations

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.core import kv
from apps.webhooks import selectors
from apps.webhooks.models import WebhookEndpoint

from .conftest import endpoint_in, publish_widget, relay
from .test_deliveries import attempt, make_due, reload

pytestmark = pytest.mark.usefixtures("committed")


def deliveries(schema: str = "acme") -> list:
    with schema_context(schema):
        return list(selectors.deliveries())


def failing(endpoint, schema: str = "acme") -> None:
    """The endpoint's last attempts failed (as the deliveries recorded them)."""
    with schema_context(schema):
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
            consecutive_failures=3, failing_since=timezone.now()
        )


def hold_slots(schema: str, endpoint, count: int) -> list:
    """Take every slot of the endpoint, as workers sending to a receiver that hangs do."""
    slots = [
        kv.client().lock(f"webhooks:sending:{schema}:{endpoint.pk}:{number}", timeout=30)
        for number in range(count)
    ]
    assert all(lock.acquire(blocking=False) for lock in slots)
    return slots


def test_a_failing_endpoint_with_no_free_slot_makes_its_delivery_wait_untried(receiver, settings):
    endpoint, _ = endpoint_in("acme", receiver.url)
    publish_widget("acme")
    relay()
    (delivery,) = deliveries()
    failing(endpoint)
    slots = hold_slots("acme", endpoint, settings.WEBHOOKS["FAILING_ENDPOINT_CONCURRENCY"])

    assert attempt(delivery) is None
    waiting = reload(delivery)
    assert (waiting.status, waiting.attempts, receiver.received) == ("pending", 0, [])
    timeouts = (
        settings.WEBHOOKS["CONNECT_TIMEOUT_SECONDS"] + settings.WEBHOOKS["READ_TIMEOUT_SECONDS"]
    )
    assert 0 < (waiting.next_attempt_at - timezone.now()).total_seconds() <= timeouts

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


def test_a_healthy_endpoint_sends_without_slots(receiver):
    endpoint, _ = endpoint_in("acme", receiver.url)
    for note in ("one", "two"):
        publish_widget("acme", note)
    relay()
    slots = hold_slots("acme", endpoint, 1)
    assert all(attempt(delivery).succeeded for delivery in deliveries())
    for lock in slots:
        lock.release()


def test_slots_are_given_back_after_each_send(receiver):
    endpoint, _ = endpoint_in("acme", receiver.url)
    for note in ("one", "two", "three"):
        publish_widget("acme", note)
    relay()
    failing(endpoint)
    for delivery in deliveries():
        assert attempt(delivery).succeeded
    assert not kv.client().keys("webhooks:sending:*")
