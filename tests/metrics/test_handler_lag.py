"""events_handler_lag_seconds: how far behind each subscriber is, read in one query."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from apps.events.models import Delivery, DeliveryStatus, OutboxEvent, OutboxStatus
from apps.events.registry import all_subscribers, subscribers_for
from apps.events.selectors import handler_lag
from tests.events.support import publish_widgets

from .support import scrape, series

WIDGET = "testing.widget.changed"


def lags(samples) -> dict[str, float]:
    return {
        dict(labels)["handler"]: seen
        for labels, seen in series(samples, "events_handler_lag_seconds").items()
    }


def test_pending_events_make_their_subscribers_lag(public_client):
    old, _new = publish_widgets("acme", "old", "new")
    OutboxEvent.objects.filter(pk=old.pk).update(
        pending_since=timezone.now() - timedelta(seconds=120)
    )

    found = lags(scrape(public_client))

    behind = {sub.name for sub in subscribers_for(WIDGET)}
    assert behind
    assert set(found) == {sub.name for sub in all_subscribers()}
    for name, seconds in found.items():
        if name in behind:
            assert 120 <= seconds < 180, (name, seconds)
        else:
            assert seconds == 0, (name, seconds)


def test_a_failed_delivery_makes_its_handler_lag_a_dead_letter_does_not(db):
    retried, dead = publish_widgets("acme", "retried", "dead")
    OutboxEvent.objects.filter(pk__in=[retried.pk, dead.pk]).update(
        status=OutboxStatus.DISPATCHED, dispatched_at=timezone.now()
    )
    OutboxEvent.objects.filter(pk=retried.pk).update(
        pending_since=timezone.now() - timedelta(seconds=300)
    )
    OutboxEvent.objects.filter(pk=dead.pk).update(
        pending_since=timezone.now() - timedelta(seconds=900)
    )
    first, *others = sorted(sub.name for sub in subscribers_for(WIDGET))
    for event, status in ((retried, DeliveryStatus.RETRY), (dead, DeliveryStatus.DEAD)):
        Delivery.objects.create(
            event=event, handler=first, tenant_id=event.tenant_id,
            aggregate_type=event.aggregate_type, aggregate_id=event.aggregate_id,
            position=event.position, status=status, attempts=1, available_at=timezone.now(),
        )  # fmt: skip

    found = handler_lag()

    assert 300 <= found[first] < 360
    assert all(found[name] == 0 for name in others)


def test_the_lag_is_one_query(db, django_assert_num_queries):
    publish_widgets("acme", "a")
    publish_widgets("globex", "b")
    with django_assert_num_queries(1):
        handler_lag()
