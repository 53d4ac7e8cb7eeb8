"""The relay, run in-process against committed data: effects, idempotency, order, failures."""

import json
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.events import relay, services
from apps.events.errors import Backpressure
from apps.events.models import Delivery, OutboxEvent
from apps.events.publisher import publish
from apps.events.registry import Subscriber
from apps.index.models import AggregateActivity
from apps.tenancy.models import Tenant
from tests.conftest import ADMIN_PASSWORD
from tests.eventapp.events import WidgetLabelled, WidgetStatusChanged
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


def test_the_ledger_gives_back_exactly_the_pairs_it_had_not_seen(acme):
    a, b, c = (Subscriber(name, frozenset(), print) for name in ("t.a", "t.b", "t.c"))
    first, second = (SimpleNamespace(event_id=uuid.uuid4()) for _ in range(2))
    work = [(first, a), (first, b), (second, a), (second, c)]
    with schema_context("acme"), transaction.atomic():
        assert relay._mark_processed([(first, a), (second, c)]) is relay.ALL_NEW
        assert relay._mark_processed(work) == {("t.b", first.event_id), ("t.a", second.event_id)}
        assert relay._mark_processed(work) == set()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT unnest(handlers), event_id FROM events_processed WHERE event_id = ANY(%s)",
                [[first.event_id, second.event_id]],
            )
            assert set(cursor.fetchall()) == {(s.name, e.event_id) for e, s in work}


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
    # Nothing is left that could run the handler again: a drain finds no event and no retry.
    quiet = relay.drain()
    assert (quiet.claimed, quiet.retried, quiet.failed) == (0, 0, 0)
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


def _stored_row(schema: str, event_type: str, schema_version: int, payload: dict) -> OutboxEvent:
    """An outbox row as an older release wrote it, inserted as it is (publish() writes the latest)."""
    tenant = Tenant.objects.get(schema_name=schema)
    return OutboxEvent.objects.create(
        event_id=uuid.uuid4(), event_type=event_type, schema_version=schema_version,
        tenant=tenant, schema_name=schema, aggregate_type="widget",
        aggregate_id=payload["widget_id"], aggregate_version=payload["version"],
        correlation_id=uuid.uuid4().hex, occurred_at=timezone.now() - timedelta(days=400),
        payload=payload,
    )  # fmt: skip


def test_a_stored_v1_event_reaches_its_handler_upcast_to_v2(clean_events):
    old_widget, new_widget = uuid.uuid4(), uuid.uuid4()
    v1 = {"widget_id": str(old_widget), "version": 3, "text": "Written long ago"}
    stored = _stored_row("acme", "testing.widget.labelled", 1, v1)
    with schema_context("acme"), transaction.atomic():  # and one of today, for comparison
        publish(WidgetLabelled(widget_id=new_widget, version=1, label="Neu", label_locale="de"))
    stats = relay.drain()
    assert (stats.handled, stats.failed) == (2, 0)
    with schema_context("acme"):
        received = {
            effect.widget_id: (effect.event_id, json.loads(effect.note))
            for effect in Effect.objects.filter(handler="test.label_recorder")
        }
    assert received == {
        old_widget: (
            stored.event_id,
            {"schema_version": 2, "widget_id": str(old_widget), "version": 3,
             "label": "Written long ago", "label_locale": "en"},
        ),
        new_widget: (
            OutboxEvent.objects.get(aggregate_id=str(new_widget)).event_id,
            {"schema_version": 2, "widget_id": str(new_widget), "version": 1,
             "label": "Neu", "label_locale": "de"},
        ),
    }  # fmt: skip
    assert not Delivery.objects.exists()
    # Upcasting happens on read: the stored row keeps its version and payload.
    stored.refresh_from_db()
    assert (stored.status, stored.schema_version, stored.payload) == ("dispatched", 1, v1)


def _all_at_once(count: int, work: Callable[[int], object]) -> list:
    """Run ``work(0..count-1)`` in threads on their own connections, released together by a barrier."""
    barrier = threading.Barrier(count)
    results: list = [None] * count
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            connection.ensure_connection()  # connect before the barrier, not in the race
            barrier.wait(timeout=30)
            results[index] = work(index)
        except BaseException as error:  # reported by the test thread, below
            errors.append(error)
            barrier.abort()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a claiming thread hung"
    assert not errors, errors
    return results


def test_events_of_one_aggregate_are_not_split_between_concurrent_claims(clean_events):
    """Eight claims at the same moment, four events each, over eight aggregates of six events.

    Each claim must take the first four events of one aggregate: the fifth is
    held back by the four leased before it, for every claimer.
    """
    aggregates = [uuid.uuid4() for _ in range(8)]
    for widget_id in aggregates:
        for n in range(6):
            _change(f"e{n}", widget_id)
    positions = defaultdict(list)
    for row in OutboxEvent.objects.order_by("position"):
        positions[row.aggregate_id].append(row.position)
    owners = [f"claimer-{n}" for n in range(len(aggregates))]

    claims = _all_at_once(
        len(owners),
        lambda n: relay.claim_events(owners[n], limit=4, lease_seconds=60),
    )

    claimed = [event.position for batch in claims for event in batch]
    assert len(claimed) == len(set(claimed)), "an event was claimed twice"
    by_aggregate = defaultdict(list)
    for owner, batch in zip(owners, claims, strict=True):
        assert len(batch) == 4 and len({event.aggregate_id for event in batch}) == 1, batch
        for event in batch:
            by_aggregate[event.aggregate_id].append((owner, event.position))
    for aggregate, taken in by_aggregate.items():
        assert len({owner for owner, _ in taken}) == 1, f"{aggregate} split between {taken}"
        # In order: the aggregate's oldest events, none skipped.
        assert sorted(position for _, position in taken) == positions[aggregate][:4]
    assert set(by_aggregate) == {str(widget_id) for widget_id in aggregates}
    # The outbox says the same: one claim and one owner per leased row, the rest untouched.
    leased = dict(OutboxEvent.objects.filter(claims=1).values_list("position", "lease_owner"))
    assert leased == {
        event.position: owner
        for owner, batch in zip(owners, claims, strict=True)
        for event in batch
    }
    assert OutboxEvent.objects.filter(claims=0, lease_owner="").count() == 8 * 2


def test_concurrent_relay_batches_handle_every_event_once_in_aggregate_order(
    clean_events, settings
):
    """Six threads relay batches of three until the outbox is empty, all starting together."""
    settings.EVENTS = {**settings.EVENTS, "LEASE_SECONDS": 60}  # no lease runs out mid-test
    widgets = [uuid.uuid4() for _ in range(6)]
    for round_ in range(10):
        for widget_id in widgets:
            _change(f"r{round_}", widget_id)
    total = len(widgets) * 10

    def relay_until_empty(n: int) -> int:
        owner, handled = f"relay-{n}", 0
        while True:
            batch = relay.relay_batch(owner, limit=3)
            if not batch.claimed:  # all left is leased to others (who go on), or nothing is
                return handled
            assert (batch.lost_leases, batch.failed) == (0, 0)
            handled += batch.handled

    handled = _all_at_once(len(widgets), relay_until_empty)

    assert sum(handled) == total
    assert not OutboxEvent.objects.filter(status="pending").exists()
    assert set(OutboxEvent.objects.values_list("claims", flat=True)) == {1}, "claimed twice"
    with schema_context("acme"):
        effects = list(Effect.objects.order_by("seq"))
    assert len({effect.event_id for effect in effects}) == len(effects) == total
    versions = defaultdict(list)
    for effect in effects:
        versions[effect.widget_id].append(effect.version)
    assert dict(versions) == {widget_id: list(range(1, 11)) for widget_id in widgets}


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
    two_hours_ago = timezone.now() - timedelta(hours=2)
    OutboxEvent.objects.update(occurred_at=two_hours_ago, pending_since=two_hours_ago)
    replayed_at = timezone.now()
    assert services.events_replay(event_types=["testing.widget.changed"]) == 1
    replayed = OutboxEvent.objects.get()
    assert replayed.status == "pending" and replayed.occurred_at == two_hours_ago
    assert replayed.pending_since >= replayed_at  # pending since the replay, not since it happened
    reset_health_cache()
    assert check_backpressure() is None
    # The same row, had it waited since it happened, is past the limit: the check would refuse.
    OutboxEvent.objects.update(pending_since=two_hours_ago)
    reset_health_cache()
    with pytest.raises(Backpressure, match="oldest waiting event"):
        check_backpressure()


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


def test_a_backlog_is_claimed_in_growing_batches(clean_events, settings):
    settings.EVENTS = {**settings.EVENTS, "BATCH_SIZE": 2, "MAX_BATCH_SIZE": 8}
    for n in range(19):
        _change(f"backlog-{n}")
    claimed: list[int] = []
    stats = relay.drain(on_batch=lambda total: claimed.append(total.claimed))
    assert stats.handled == 19 and len(_effects()) == 19
    assert claimed == [2, 6, 14, 19]  # claims of 2, 4 and 8 events, then what was left
    _change("steady")
    claimed.clear()
    relay.drain(on_batch=lambda total: claimed.append(total.claimed))
    assert claimed == [1]


def test_a_claim_grows_only_after_a_full_clean_batch_handled_well_within_the_lease(settings):
    settings.EVENTS = {
        **settings.EVENTS, "BATCH_SIZE": 500, "MAX_BATCH_SIZE": 2000, "LEASE_SECONDS": 60
    }  # fmt: skip
    size = relay.next_claim_size
    assert size(500, relay.DrainStats(claimed=500), 0.2) == 1000
    assert size(1000, relay.DrainStats(claimed=1000), 0.4) == 2000
    assert size(2000, relay.DrainStats(claimed=2000), 0.8) == 2000  # MAX_BATCH_SIZE
    assert size(1000, relay.DrainStats(claimed=999), 0.4) == 500  # the backlog is over
    for trouble in ("failed", "blocked", "lost_leases"):
        assert size(1000, relay.DrainStats(claimed=1000, **{trouble: 1}), 0.4) == 500
    # 2,000 events at this pace would take 16 s, more than a quarter of the lease.
    assert size(1000, relay.DrainStats(claimed=1000), 8.0) == 1000
    # This batch itself took more than a quarter of the lease.
    assert size(1000, relay.DrainStats(claimed=1000), 16.0) == 500
    settings.EVENTS = {**settings.EVENTS, "MAX_BATCH_SIZE": 0}  # claims that never grow
    assert size(500, relay.DrainStats(claimed=500), 0.2) == 500


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
