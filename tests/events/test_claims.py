"""Claims after a burst, and leases of claimers that died, got stuck or were asked to stop."""

from __future__ import annotations

import os
import signal
import threading
import uuid
from datetime import timedelta

import psycopg
import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.events import relay
from apps.events.models import OutboxEvent
from apps.tenancy.models import Tenant
from tests.conftest import subprocess_database_url
from tests.eventapp.models import Effect
from tests.eventapp.services import widget_change
from tests.events.conftest import wait_for

BURST_SQL = """
INSERT INTO public.events_outbox (
    event_id, event_type, schema_version, tenant_id, schema_name, actor, aggregate_type,
    aggregate_id, aggregate_version, correlation_id, causation_id, trace_context, occurred_at,
    payload, status, claims, lease_owner
)
SELECT gen_random_uuid(), 'testing.widget.changed', 1, %(tenant)s, 'acme', NULL, 'widget',
       w.id::text, v.n, 'burst', NULL, '{}'::jsonb, clock_timestamp(),
       jsonb_build_object('widget_id', w.id, 'version', v.n, 'note', 'burst'),
       'pending', 0, ''
FROM generate_series(1, %(versions)s) AS v(n),
     unnest(%(widgets)s::uuid[]) AS w(id)
ORDER BY v.n, w.id
"""


def _burst(widgets: int, versions: int) -> list[uuid.UUID]:
    """``widgets * versions`` pending events in one statement, into an outbox analyzed empty."""
    ids = [uuid.uuid4() for _ in range(widgets)]
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) public.events_outbox")
        cursor.execute(
            BURST_SQL,
            {"tenant": Tenant.objects.get(slug="acme").pk, "versions": versions, "widgets": ids},
        )
    return ids


def _plan(sql: str, params: dict) -> dict:
    with connection.cursor() as cursor:
        cursor.execute("BEGIN")
        try:
            cursor.execute(relay.PIN_CLAIM_PLAN_SQL)
            cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params)
            return cursor.fetchone()[0][0]["Plan"]
        finally:
            cursor.execute("ROLLBACK")


def _nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def _scans(plan: dict) -> list[tuple[str, str | None, int]]:
    return [
        (node["Node Type"], node.get("Index Name"), node["Actual Rows"])
        for node in _nodes(plan)
        if "Scan" in node["Node Type"]
    ]


def test_a_claim_after_a_burst_into_a_quiet_outbox_reads_only_what_it_needs(clean_events):
    _burst(widgets=200, versions=25)  # 5,000 events; the statistics still say "empty"
    assert OutboxEvent.objects.filter(status="pending").count() == 5000

    scan = _plan(relay.PENDING_SCAN_SQL, {"after": 0, "window": 200})
    assert _scans(scan) == [("Index Scan", "outbox_pending_idx", 200)]
    assert not [node for node in _nodes(scan) if node["Node Type"] == "Sort"]
    first = list(OutboxEvent.objects.order_by("position").values_list("position", flat=True)[:100])
    update = _plan(
        relay.CLAIM_EVENTS_SQL,
        {"positions": first, "first": first[0], "last": first[-1], "owner": "x", "lock": 1,
         "lease": 60},
    )  # fmt: skip
    assert _scans(update) == [("Index Scan", "events_outbox_pkey", 100)]

    claim = relay.claim_batch("owner", limit=100, lease_seconds=60, lock=None)
    assert (len(claim.events), claim.scanned) == (100, 200)  # one window: the batch and 100
    # Another claimer walks past the 100 leased rows, and no further than it must.
    second = relay.claim_batch("other", limit=100, lease_seconds=60, lock=None)
    assert len(second.events) == 100 and second.scanned <= 300
    assert not {e.position for e in claim.events} & {e.position for e in second.events}


def test_events_behind_a_leased_one_wait_and_other_aggregates_go(clean_events):
    (busy,) = _burst(widgets=1, versions=3)
    free = uuid.uuid4()
    with schema_context("acme"):
        widget_change(widget_id=free, note="free")
    (first,) = relay.claim_events("stuck", limit=1, lease_seconds=60)
    assert first.aggregate_id == str(busy) and first.payload["version"] == 1

    taken = relay.claim_events("next", limit=10, lease_seconds=60)
    assert [e.aggregate_id for e in taken] == [str(free)]


class Claimer:
    """A relay in another session: holds a claimer lock and leases, and can die or hang."""

    def __init__(self) -> None:
        self.conn = psycopg.connect(subprocess_database_url(), autocommit=True)
        self.key = 424242
        assert self.conn.execute(
            "SELECT pg_try_advisory_lock(%s, %s)", [relay.CLAIMER_LOCK_CLASS, self.key]
        ).fetchone()[0]

    def claim(self, limit: int, lease_seconds: float = 60) -> list[int]:
        """Lease the first ``limit`` pending events (all one aggregate's in these tests)."""
        rows = self.conn.execute(
            "UPDATE public.events_outbox SET lease_owner = 'elsewhere', lease_lock = %s, "
            "lease_expires_at = now() + make_interval(secs => %s), claims = claims + 1 "
            "WHERE position IN (SELECT position FROM public.events_outbox "
            "WHERE status = 'pending' ORDER BY position LIMIT %s) RETURNING position",
            [self.key, lease_seconds, limit],
        ).fetchall()
        return sorted(row[0] for row in rows)

    def die(self) -> None:
        self.conn.close()


def _effects() -> list[tuple[str, int]]:
    with schema_context("acme"):
        return list(Effect.objects.order_by("seq").values_list("note", "version"))


def test_leases_of_a_claimer_whose_session_is_gone_come_back_at_once(clean_events):
    _burst(widgets=1, versions=4)
    claimer = Claimer()
    try:
        leased = claimer.claim(limit=2)
        assert relay.drain().claimed == 0  # alive: its lease holds the aggregate
    finally:
        claimer.die()
    rows = OutboxEvent.objects.filter(position__in=leased)
    assert all(row.lease_expires_at > timezone.now() + timedelta(seconds=30) for row in rows)

    stats = relay.drain()  # long before the lease would expire
    assert (stats.handled, stats.reclaimed) == (4, 2)
    assert [version for _, version in _effects()] == [1, 2, 3, 4]
    assert list(rows.values_list("claims", flat=True)) == [2, 2]


def test_a_stuck_claimer_holds_its_aggregate_until_its_lease_expires(clean_events):
    _burst(widgets=1, versions=2)
    other = uuid.uuid4()
    claimer = Claimer()
    try:
        claimer.claim(limit=1)
        with schema_context("acme"):
            widget_change(widget_id=other, note="other")
        stats = relay.drain()
        assert (stats.handled, stats.reclaimed) == (1, 0)
        assert _effects() == [("other", 1)]

        OutboxEvent.objects.filter(lease_owner="elsewhere").update(
            lease_expires_at=timezone.now() - timedelta(seconds=1)
        )
        stats = relay.drain()  # an expired lease is not a takeover: nobody is known dead
        assert (stats.handled, stats.reclaimed) == (2, 0)
        assert _effects()[1:] == [("burst", 1), ("burst", 2)]
    finally:
        claimer.die()


class Interrupted(BaseException):
    """Stands for whatever can stop a batch midway (a lost connection, KeyboardInterrupt)."""


def _interrupt_handlers(execute, sql, params, many, context):
    if "INSERT INTO events_processed" in sql:
        raise Interrupted
    return execute(sql, params, many, context)


def test_a_batch_stopped_midway_gives_its_leases_back(clean_events):
    _burst(widgets=3, versions=1)
    with pytest.raises(Interrupted), connection.execute_wrapper(_interrupt_handlers):
        relay.relay_batch("owner", lock=None)
    assert OutboxEvent.objects.filter(status="pending").count() == 3
    assert not OutboxEvent.objects.filter(lease_expires_at__isnull=False).exists()
    assert relay.drain().handled == 3


def test_a_stop_request_ends_the_drain_after_its_batch(clean_events):
    _burst(widgets=10, versions=3)
    seen = []

    def stop_after_first(total):
        seen.append(total.handled)
        relay.request_stop()

    try:
        stats = relay.drain(max_batches=None, on_batch=stop_after_first, time_budget=None)
    finally:
        relay.clear_stop()
    assert stats.more and seen == [stats.handled]
    assert not OutboxEvent.objects.filter(lease_expires_at__isnull=False).exists()
    assert relay.drain().handled == 30 - stats.handled


def test_sigterm_during_a_drain_stops_it_after_its_batch_then_takes_effect(clean_events):
    _burst(widgets=10, versions=3)
    caught = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: caught.append(signum))
    try:
        stats = relay.drain(on_batch=lambda total: signal.raise_signal(signal.SIGTERM))
    finally:
        signal.signal(signal.SIGTERM, previous)
        relay.clear_stop()
    assert stats.more and stats.batches == 1
    assert caught == [signal.SIGTERM]  # handed on to the handler in place before the drain
    assert not OutboxEvent.objects.filter(lease_expires_at__isnull=False).exists()


def test_concurrent_drains_split_a_burst_without_doubling(clean_events, settings):
    settings.EVENTS = {**settings.EVENTS, "BATCH_SIZE": 50}
    _burst(widgets=40, versions=10)
    barrier = threading.Barrier(3)
    results: list[relay.DrainStats] = []
    errors: list[BaseException] = []

    def run():
        try:
            barrier.wait()
            results.append(relay.drain())
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sum(r.handled for r in results) == 400
    effects = _effects()
    assert len(effects) == 400
    by_widget: dict[str, list[int]] = {}
    with schema_context("acme"):
        for widget_id, version in Effect.objects.order_by("seq").values_list(
            "widget_id", "version"
        ):
            by_widget.setdefault(str(widget_id), []).append(version)
    assert len(by_widget) == 40
    assert all(versions == list(range(1, 11)) for versions in by_widget.values())


# -- real workers ---------------------------------------------------------------------

SLOW_WORKER = {
    "EVENTS_BATCH_SIZE": "10", "EVENTS_MAX_BATCH_SIZE": "10", "EVENTS_LEASE_SECONDS": "120"
}  # fmt: skip


def _publish(count: int) -> None:
    with schema_context("acme"):
        for n in range(count):
            widget_change(widget_id=uuid.uuid4(), note=f"w{n}")


def _leased() -> list[OutboxEvent]:
    return list(OutboxEvent.objects.filter(status="pending", lease_expires_at__isnull=False))


def _claimer_locks_held(keys: set[int]) -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT objid::int FROM pg_locks WHERE locktype = 'advisory' AND classid = %s "
            "AND objsubid = 2 AND objid::int = ANY(%s)",
            [relay.CLAIMER_LOCK_CLASS, sorted(keys)],
        )
        return {row[0] for row in cursor.fetchall()}


def _frozen_holding_a_batch(proc) -> bool:
    """Stop the worker's processes (SIGSTOP) while it holds a batch: stopped between two
    batches, it goes on (SIGCONT) and the caller asks again."""
    os.killpg(proc.pid, signal.SIGSTOP)
    if _leased():
        return True
    os.killpg(proc.pid, signal.SIGCONT)
    return False


def _each_event_handled_once(count: int) -> None:
    with schema_context("acme"):
        event_ids = list(Effect.objects.values_list("event_id", flat=True))
    assert len(event_ids) == len(set(event_ids)) == count
    assert OutboxEvent.objects.filter(status="dispatched").count() == count


@pytest.mark.integration
def test_a_killed_workers_leases_are_taken_over_without_waiting_for_them(workers, rds):
    rds.set("test:sleep_ms", 30)
    victim = workers.start(**SLOW_WORKER)
    _publish(60)
    wait_for(lambda: len(_effects()) >= 5 and _frozen_holding_a_batch(victim), message=workers.logs)
    workers.kill(victim, signal.SIGKILL)
    leased = _leased()
    assert leased, "the kill should land while the worker holds a batch"
    assert all(row.lease_expires_at > timezone.now() + timedelta(seconds=60) for row in leased)
    keys = {row.lease_lock for row in leased}
    wait_for(lambda: not _claimer_locks_held(keys), message="the killed sessions stay")
    rds.delete("test:sleep_ms")

    stats = relay.drain()
    assert stats.reclaimed == len(leased)
    assert not OutboxEvent.objects.filter(status="pending").exists()
    _each_event_handled_once(60)


def _stopped_with_leases_released(workers, rds, stop) -> None:
    rds.set("test:sleep_ms", 30)
    proc = workers.start(**SLOW_WORKER)
    _publish(200)  # 6 s of work: far more than is done by the time the worker stops
    wait_for(lambda: len(_effects()) >= 5, message=workers.logs)
    stop(proc)
    proc.wait(timeout=30)
    assert not _leased(), "a stopped worker keeps no lease"
    left = OutboxEvent.objects.filter(status="pending").count()
    assert left > 100, "the drain should have stopped after its batch, not run to the end"
    handled = len(_effects())
    assert handled == 200 - left
    rds.delete("test:sleep_ms")
    assert relay.drain().handled == left
    _each_event_handled_once(200)


@pytest.mark.integration
def test_sigterm_to_the_worker_releases_its_leases(workers, rds):
    """As a deploy or a container runtime stops it: SIGTERM to the main process only."""
    _stopped_with_leases_released(workers, rds, lambda proc: proc.send_signal(signal.SIGTERM))


@pytest.mark.integration
def test_sigterm_to_the_workers_process_group_releases_its_leases(workers, rds):
    """As systemd stops it: SIGTERM to every process of the worker."""
    _stopped_with_leases_released(workers, rds, lambda proc: workers.kill(proc, signal.SIGTERM))
