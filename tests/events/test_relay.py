"""The relay, run in-process against committed data: effects, idempotency, order, failures."""

import time
import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.events import relay, services
from apps.events.models import Delivery, OutboxEvent
from apps.events.publisher import publish
from apps.index.models import AggregateActivity
from tests.conftest import ADMIN_PASSWORD
from tests.eventapp.events import WidgetStatusChanged
from tests.eventapp.models import Effect
from tests.eventapp.services import widget_change
from tests.factories import StaffFactory


def _effects(schema="acme", **filters):
    with schema_context(schema):
        return list(Effect.objects.filter(**filters).order_by("seq").values_list("note", "version"))


def _drain_until(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        relay.drain()
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached while draining")


def _change(note, widget_id=None, schema="acme"):
    with schema_context(schema):
        return widget_change(widget_id=widget_id or uuid.uuid4(), note=note)


def test_drain_runs_every_subscriber_once_per_tenant(clean_events):
    acme_widget = _change("in-acme")
    _change("in-globex", schema="globex")
    stats = relay.drain()
    assert stats.handled == 2 and stats.failed == 0
    assert dict(stats.by_tenant) == {"acme": 1, "globex": 1}
    assert _effects() == [("in-acme", 1)]
    assert _effects("globex") == [("in-globex", 1)]
    with schema_context("acme"):
        activity = AggregateActivity.objects.get(aggregate_id=str(acme_widget.id))
        assert (activity.last_event_type, activity.source_version) == ("testing.widget.changed", 1)
    assert not OutboxEvent.objects.filter(status="pending").exists()


def test_a_redelivered_event_has_no_second_effect(clean_events):
    _change("once")
    relay.drain()
    assert services.events_replay(event_types=["testing.widget.changed"]) == 1
    stats = relay.drain()
    assert stats.handled == 1
    assert _effects() == [("once", 1)]


def test_replay_for_one_handler_applies_again_for_that_handler_only(clean_events):
    _change("again")
    relay.drain()
    services.events_replay(event_types=["testing.widget.changed"], handler="test.recorder")
    relay.drain()
    assert _effects() == [("again", 1), ("again", 1)]


def test_a_handler_failing_twice_then_succeeding_has_one_effect(clean_events, rds):
    rds.set("test:fail:flaky", 2)
    _change("flaky")
    _drain_until(lambda: _effects() == [("flaky", 1)])
    assert not Delivery.objects.exists()
    time.sleep(0.5)
    relay.drain()
    assert _effects() == [("flaky", 1)]


def test_a_handler_that_always_fails_ends_as_a_dead_letter_and_replays_once(
    clean_events, rds, settings
):
    settings.EVENTS = {**settings.EVENTS, "MAX_ATTEMPTS": 3}
    rds.set("test:always_fail:doomed", 1)
    _change("doomed")
    _drain_until(lambda: Delivery.objects.filter(status="dead").exists())
    dead = Delivery.objects.get()
    assert (dead.handler, dead.attempts) == ("test.recorder", 3)
    assert "InjectedFailure" in dead.last_error and "Traceback" in dead.last_traceback
    assert _effects() == []
    rds.delete("test:always_fail:doomed")  # the fix
    assert services.deliveries_requeue() == 1
    _drain_until(lambda: _effects() == [("doomed", 1)])
    relay.drain()
    assert _effects() == [("doomed", 1)]
    assert not Delivery.objects.exists()


def test_a_failure_holds_back_only_that_handlers_later_events_of_that_aggregate(clean_events, rds):
    stuck, free = uuid.uuid4(), uuid.uuid4()
    rds.set("test:always_fail:first", 1)
    _change("first", stuck)
    _change("second", stuck)
    _change("other", free)
    relay.drain()
    assert sorted(Delivery.objects.values_list("position", "status")) == [
        (OutboxEvent.objects.get(payload__note="first").position, "retry"),
        (OutboxEvent.objects.get(payload__note="second").position, "blocked"),
    ]
    assert _effects() == [("other", 1)]  # another aggregate goes on
    with schema_context("acme"):  # another handler goes on for the same aggregate
        assert AggregateActivity.objects.get(aggregate_id=str(stuck)).source_version == 2
    rds.delete("test:always_fail:first")
    _drain_until(lambda: len(_effects(widget_id=stuck)) == 2)
    assert _effects(widget_id=stuck) == [("first", 1), ("second", 2)]


def test_a_bad_payload_goes_to_the_dead_letters_without_retries(clean_events):
    _change("will-corrupt")
    OutboxEvent.objects.update(
        payload={"widget_id": str(uuid.UUID(int=0)), "version": 1, "note": "x"}
    )
    relay.drain()
    dead = Delivery.objects.get(handler="test.recorder")
    assert (dead.status, dead.attempts) == ("dead", 1)
    assert "EventValidationError" in dead.last_error


def test_events_of_one_aggregate_are_not_split_between_concurrent_claims(clean_events):
    one, two = uuid.uuid4(), uuid.uuid4()
    _change("one-a", one)
    _change("one-b", one)
    _change("two-a", two)
    first = relay.claim_events("owner-a", limit=1, lease_seconds=60)
    second = relay.claim_events("owner-b", limit=10, lease_seconds=60)
    assert [e.payload["note"] for e in first] == ["one-a"]
    assert [e.payload["note"] for e in second] == ["two-a"]


def test_a_worker_that_lost_its_lease_acknowledges_nothing(clean_events):
    _change("leased")
    claimed = relay.claim_events("slow-worker", limit=10, lease_seconds=60)
    OutboxEvent.objects.update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    stats = relay.drain()  # another worker reclaims after the lease and handles it
    assert stats.handled == 1
    assert relay._ack(claimed, "slow-worker", []) == set()
    assert _effects() == [("leased", 1)]


def test_expired_leases_are_reclaimed(clean_events):
    _change("crashed")
    relay.claim_events("dead-worker", limit=10, lease_seconds=60)
    assert relay.drain().claimed == 0  # still leased
    OutboxEvent.objects.update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert relay.drain().handled == 1
    assert OutboxEvent.objects.get().claims == 2


def test_events_published_by_handlers_carry_cause_and_correlation(clean_events):
    widget_id = uuid.uuid4()
    with schema_context("acme"), transaction.atomic():
        publish(WidgetStatusChanged(widget_id=widget_id, from_status="draft", to_status="live"))
    relay.drain()
    cause = OutboxEvent.objects.get(event_type="testing.widget.status_changed")
    effect = OutboxEvent.objects.get(payload__note="chained")
    assert effect.causation_id == cause.event_id
    assert effect.correlation_id == cause.correlation_id
    assert (
        effect.trace_context["traceparent"].split("-")[1]
        == cause.trace_context["traceparent"].split("-")[1]
    )


def test_projection_ignores_stale_versions(clean_events):
    widget = _change("v1")
    _change("v2", widget.id)
    relay.drain()
    older = OutboxEvent.objects.get(payload__note="v1")
    from apps.events.envelope import StoredEvent
    from apps.index.handlers import AggregateActivityProjection

    stale = StoredEvent.from_row(OutboxEvent.objects.filter(position=older.position).values().get())
    with schema_context("acme"):
        AggregateActivityProjection().apply(stale)
        assert AggregateActivity.objects.get(aggregate_id=str(widget.id)).source_version == 2


def test_rebuild_projections_restores_the_read_model(clean_events, capsys):
    for note in ("a", "b", "c"):
        _change(note)
    relay.drain()
    with schema_context("acme"):
        before = sorted(AggregateActivity.objects.values_list("aggregate_id", "source_version"))
        AggregateActivity.objects.all().delete()
    call_command("rebuild_projections", tenant="acme", projection="aggregate_activity")
    out = capsys.readouterr().out
    assert "acme" in out and "Rebuilt 1 projection(s) for 1 tenant(s)" in out
    with schema_context("acme"):
        assert (
            sorted(AggregateActivity.objects.values_list("aggregate_id", "source_version"))
            == before
        )


def test_prune_deletes_only_old_dispatched_events_nobody_needs(clean_events, rds, settings):
    rds.set("test:always_fail:kept", 1)
    _change("old")
    _change("kept")
    relay.drain()
    _change("pending")
    OutboxEvent.objects.update(dispatched_at=timezone.now() - timedelta(days=31))
    assert services.outbox_prune() == 1
    assert sorted(OutboxEvent.objects.values_list("payload__note", flat=True)) == [
        "kept",
        "pending",
    ]


def test_drain_refuses_to_run_inside_a_transaction(db):
    with pytest.raises(RuntimeError, match="inside a transaction"):
        relay.drain()


def _login(client):
    response = client.post(
        "/admin/login/?next=/admin/", {"username": "admin@acme.test", "password": ADMIN_PASSWORD}
    )
    assert response.status_code == 302


def test_backpressure_refuses_writes_and_loses_nothing(clean_events, settings):
    settings.EVENTS = {**settings.EVENTS, "BACKLOG_HIGH_WATER": 3, "BACKPRESSURE_CHECK_SECONDS": 0}
    client = Client(HTTP_HOST="acme.localhost")
    _login(client)  # logging in is exempt
    for n in range(3):
        _change(f"backlog-{n}")
    response = client.post(
        "/admin/auth/group/add/", {"name": "Refused"}, HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 503
    assert int(response["Retry-After"]) >= 1
    assert response.json()["code"] == "backpressure"
    assert client.get("/admin/auth/group/").status_code == 200  # reads go on
    with schema_context("acme"):
        from django.contrib.auth.models import Group

        assert not Group.objects.filter(name="Refused").exists()
    assert OutboxEvent.objects.filter(status="pending").count() == 3
    relay.drain()
    assert _effects() == [("backlog-0", 1), ("backlog-1", 1), ("backlog-2", 1)]
    accepted = f"Accepted {uuid.uuid4().hex[:8]}"
    response = client.post("/admin/auth/group/add/", {"name": accepted})
    assert response.status_code == 302
    with schema_context("acme"):
        from django.contrib.auth.models import Group

        assert Group.objects.filter(name=accepted).delete()[0] == 1
    connection.set_schema_to_public()


def test_replaying_old_events_does_not_trip_backpressure_by_their_age(clean_events, settings):
    from apps.events.backpressure import check_backpressure
    from apps.events.selectors import reset_health_cache

    settings.EVENTS = {**settings.EVENTS, "OLDEST_AGE_HIGH_WATER_SECONDS": 600}
    _change("old-news")
    relay.drain()
    OutboxEvent.objects.update(occurred_at=timezone.now() - timedelta(hours=2))
    services.events_replay(event_types=["testing.widget.changed"])
    reset_health_cache()
    check_backpressure()  # the replayed row is pending since now, not since two hours ago


def test_operators_are_not_refused_under_backpressure(clean_events, settings):
    settings.EVENTS = {**settings.EVENTS, "BACKLOG_HIGH_WATER": 1, "BACKPRESSURE_CHECK_SECONDS": 0}
    _change("backlog")
    StaffFactory(username="ops", is_superuser=True, password="ops-password-1")
    client = Client(HTTP_HOST="localhost")
    assert client.login(username="ops", password="ops-password-1")
    response = client.post("/admin/auth/group/add/", {"name": f"ops-{uuid.uuid4().hex[:6]}"})
    assert response.status_code == 302
    from django.contrib.auth.models import Group

    Group.objects.filter(name__startswith="ops-").delete()


def test_a_full_first_batch_asks_for_help_once(clean_events, settings):
    settings.EVENTS = {**settings.EVENTS, "BATCH_SIZE": 2}
    for n in range(5):
        _change(f"busy-{n}")
    calls = []
    stats = relay.drain(on_backlog=lambda: calls.append(1))
    assert stats.handled == 5 and calls == [1]
    _change("quiet")
    calls.clear()
    relay.drain(on_backlog=lambda: calls.append(1))
    assert calls == []


def test_retries_are_looked_for_at_the_start_and_the_end_of_a_drain_only(clean_events, settings):
    from django.test.utils import CaptureQueriesContext

    settings.EVENTS = {**settings.EVENTS, "BATCH_SIZE": 2}
    for n in range(6):
        _change(f"steady-{n}")
    with CaptureQueriesContext(connection) as captured:
        stats = relay.drain()
    assert stats.handled == 6
    retry_claims = [
        q for q in captured.captured_queries if "UPDATE public.events_delivery d" in q["sql"]
    ]
    assert len(retry_claims) == 2
