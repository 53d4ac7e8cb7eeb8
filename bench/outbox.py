"""Throughput and latency of the transactional outbox, on the dev database.

Three measurements, side by side in one run:

1. publish -- commits/s of a service-style write (one transaction that UPDATEs the
   first name of tenant ``acme``'s admin) with and without ``publish()`` of one
   ``bench.outbox.touched`` event, in interleaved rounds. The event's on-commit
   wake-up (a Redis ``SET NX``, and a Celery message when it wins) is part of the
   cost. Two more variants give the SQL floor: the same UPDATE, and the UPDATE
   plus a plain INSERT of an outbox row, through one cursor. No worker runs; the
   events are deleted afterwards.
2. drain -- events/s from a backlog of ``--events`` events over ``--tenants``
   tenants (``bench-01`` ...; created if missing) and ``--aggregates`` aggregates
   per tenant, handled by the relay into the ``AggregateActivity`` projection:
   a raw ``DELETE ... RETURNING *`` loop (the floor), ``relay.drain()`` in this
   process, and a Celery worker with 2 pool processes, kicked once with two
   ``events.drain`` tasks and once with ``wakeup.request_drain()``. Every run gets
   an identical backlog (inserted in one statement after a VACUUM); afterwards
   every event must be dispatched, without deliveries, with one ledger row each
   and the projection at each aggregate's last version. The two-task worker drain
   runs twice: after an ``ANALYZE`` of the backlog, and as a burst (drained at
   once, the statistics still those of the empty outbox), as production sees it.
3. latency -- commit-to-handled p50/p99 at a steady ``--rate`` events/s for
   ``--seconds`` with the worker running. ``--publishers`` processes (each updating
   the admin of its own tenant: acme, globex, ...) share the schedule and commit
   one ``bench.outbox.pinged`` event per transaction, noting the time right
   after COMMIT; the subscriber ``bench.latency`` (bench/outbox_events.py) notes
   when the relay's transaction around the event committed.

Each phase reports the machine's CPU use by process (this script, the worker,
PostgreSQL, Redis, others) from ``/proc``; a row whose window saw other
processes use more than 5 % of the CPU says so. A drain that another relay
(someone's worker or ``drain_outbox``) shared is discarded and repeated.

    python bench/outbox.py [--events 50000] [--tenants 20] [--rate 200] [--seconds 20]
    python bench/outbox.py --quick     # a smoke run of a few seconds
    python bench/outbox.py --parts latency --publishers 1
    python bench/outbox.py --parts latency --rate 1000 --production   # DEBUG off, as served
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import json
import multiprocessing
import os
import platform
import random
import re
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# --production: this script, its publishers and its worker with the production settings (DEBUG
# off, so no process keeps a log of its queries), as `make run` serves; decided before Django
# is set up. Plain logs: the script reads the worker's.
if "--production" in sys.argv:
    os.environ.update(DJANGO_SETTINGS_MODULE="config.settings.prod", LOG_FORMAT="plain")
    os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(40))
    os.environ.setdefault("METRICS_TOKEN", secrets.token_urlsafe(20))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
# The benches' own events (the relay's backlog) are loaded with the apps.
from bench.start import with_bench_events  # noqa: E402

EXTRA_MODULE = with_bench_events()

import django  # noqa: E402

django.setup()

from apps.core import gc_tuning  # noqa: E402

# This process publishes and drains as a web or pool process does: with their collector.
gc_tuning.tune()

import redis  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django_tenants.utils import tenant_context  # noqa: E402
from uuid6 import uuid7  # noqa: E402

from apps.core import context  # noqa: E402
from apps.events import relay, wakeup  # noqa: E402
from apps.events.publisher import publish  # noqa: E402
from apps.events.tasks import drain as drain_task  # noqa: E402
from apps.tenancy.models import Tenant  # noqa: E402
from apps.tenancy.services import tenant_create  # noqa: E402
from bench.outbox_events import HANDLED_KEY, BenchPinged, BenchTouched  # noqa: E402
from bench.report import log, percentile, scalar, sql  # noqa: E402

PUBLISH_TENANT = "acme"
BENCH_TYPES = (BenchTouched.event_type, BenchPinged.event_type)
PROJECTION_HANDLER = "projection.aggregate_activity"
CELERY_QUEUE = "celery"
DRAINED_RE = re.compile(r"drained (\d+) events")

TARGET_OVERHEAD = 1.3
TARGET_PUBLISH_OVER_FLOOR = 1.25
PUBLISH_SEED = 16
TARGET_DRAIN = 2000.0
TARGET_P50_MS = 50.0
TARGET_P99_MS = 500.0
TARGET_PROJECTION_RATIO = 0.25


# -- small helpers -------------------------------------------------------------


def rds() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


class Interference(RuntimeError):
    """Another relay (a worker or ``drain_outbox`` of someone else) took some of the backlog."""


class CpuMeter:
    """CPU use between ``start()`` and ``stop()``: machine-wide and by process group (``/proc``)."""

    TICK = os.sysconf("SC_CLK_TCK")

    def __init__(self, worker_pgid: int | None = None) -> None:
        self.worker_pgid = worker_pgid
        self._machine: list[int] = []
        self._procs: dict[int, tuple[str, float]] = {}
        self.foreign = 0.0  # share of the machine's CPU used by processes outside the benchmark

    @staticmethod
    def _machine_now() -> list[int]:
        with open("/proc/stat") as stat:
            return [int(value) for value in stat.readline().split()[1:]]

    def _group(self, pid: int, comm: str, ppid: int, pgid: int) -> str:
        if self.worker_pgid is not None and pgid == self.worker_pgid:
            return "worker"
        if os.getpid() in (pid, ppid):  # this script and its publisher processes
            return "bench"
        if comm.startswith("postgres"):
            return "postgres"
        if comm.startswith("redis"):
            return "redis"
        return "other"

    def _procs_now(self) -> dict[int, tuple[str, float]]:
        """pid -> (group, CPU seconds); PostgreSQL and the worker with their ended children."""
        found = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    head, tail = stat.read().rsplit(")", 1)
            except OSError:
                continue
            fields = tail.split()
            comm = head.split("(", 1)[1]
            group = self._group(int(entry), comm, int(fields[1]), int(fields[2]))
            # utime stime, plus cutime cstime (ended children) for the server, the worker and
            # this script (its publisher processes)
            last = 15 if group in ("postgres", "worker", "bench") else 13
            ticks = sum(int(value) for value in fields[11:last])
            found[int(entry)] = (group, ticks / self.TICK)
        return found

    def disturbed(self) -> str:
        """A note for the table when others used more than 5 % of the machine meanwhile."""
        return f"; others used {self.foreign:.0%} of the CPU" if self.foreign > 0.05 else ""

    def start(self) -> CpuMeter:
        self._machine = self._machine_now()
        self._procs = self._procs_now()
        return self

    def stop(self) -> str:
        delta = [b - a for a, b in zip(self._machine, self._machine_now(), strict=False)]
        total = sum(delta[:8]) or 1
        busy = (total - delta[3] - delta[4] - delta[7]) / total  # not idle, iowait or steal
        now = self._procs_now()
        groups: dict[str, float] = {}
        for pid, (group, seconds) in now.items():
            before = self._procs.get(pid, (group, 0.0))[1]
            groups[group] = groups.get(group, 0.0) + seconds - before
        # A process that ended in between (a database backend closed at CONN_MAX_AGE) shows
        # up in its parent's children time for its whole life: take off what it had before.
        for pid, (group, seconds) in self._procs.items():
            if pid not in now and group in ("postgres", "worker", "bench"):
                groups[group] = groups.get(group, 0.0) - seconds
        # Whatever else ran (other users' short-lived processes, the kernel) and is gone.
        busy_seconds = (total - delta[3] - delta[4] - delta[7]) / self.TICK
        groups["unattributed"] = max(0.0, busy_seconds - sum(groups.values()))
        capacity = sum(delta[:8]) / self.TICK or 1.0
        self.foreign = (groups.get("other", 0.0) + groups["unattributed"]) / capacity
        by_group = ", ".join(
            f"{name} {seconds:.1f}"
            for name, seconds in sorted(groups.items(), key=lambda item: -item[1])
            if seconds >= 0.05
        )
        return (
            f"CPU busy {busy:.0%} of {os.cpu_count()} cores (steal {delta[7] / total:.0%}); "
            f"CPU s by process: {by_group}"
        )


@dataclass
class Row:
    """One line of the final table."""

    part: str
    label: str
    value: float
    unit: str
    target: str = ""
    ok: bool | None = None
    note: str = ""


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)

    def add(self, *args, **kwargs) -> None:
        self.rows.append(Row(*args, **kwargs))

    def print(self) -> None:
        header = f"{'part':<8} {'measure':<56} {'value':>10} {'unit':<9} {'target':<10} ok"
        log(header)
        log("-" * len(header))
        for row in self.rows:
            ok = "" if row.ok is None else ("yes" if row.ok else "NO")
            value = f"{row.value:,.0f}" if row.value >= 100 else f"{row.value:,.2f}"
            log(
                f"{row.part:<8} {row.label:<56} {value:>10} {row.unit:<9} {row.target:<10} {ok}"
                + (f"  ({row.note})" if row.note else "")
            )


# -- tenants and clean-up ------------------------------------------------------------


def ensure_tenants(count: int) -> list[Tenant]:
    tenants = []
    for number in range(1, count + 1):
        slug = f"bench-{number:02d}"
        tenant = Tenant.objects.filter(slug=slug).first()
        if tenant is None:
            created = tenant_create(
                slug=slug, name=f"Bench {number:02d}", admin_email=f"admin@{slug}.test"
            )
            tenant = created.tenant
            log(f"created tenant {slug} in {created.seconds:.1f} s")
        tenants.append(tenant)
    return tenants


def delete_bench_events(schemas: list[str]) -> int:
    """Delete the bench's outbox rows, their deliveries, ledger rows and projection rows."""
    with transaction.atomic():
        for schema in schemas:
            quoted = connection.ops.quote_name(schema)
            sql(
                f"DELETE FROM {quoted}.events_processed p USING public.events_outbox o "  # noqa: S608
                "WHERE o.event_id = p.event_id AND o.event_type = ANY(%s)",
                [list(BENCH_TYPES)],
            )
            sql(
                f"DELETE FROM {quoted}.index_aggregate_activity "  # noqa: S608
                "WHERE aggregate_type IN ('bench_item', 'bench_ping')"
            )
        sql(
            "DELETE FROM public.events_delivery d USING public.events_outbox o "
            "WHERE d.event_id = o.position AND o.event_type = ANY(%s)",
            [list(BENCH_TYPES)],
        )
        with connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM public.events_outbox WHERE event_type = ANY(%s)", [list(BENCH_TYPES)]
            )
            deleted = cursor.rowcount
    return deleted


def vacuum_outbox() -> None:
    sql("VACUUM (ANALYZE) public.events_outbox, public.events_delivery")


def reset_bench_schemas(tenants: list[Tenant]) -> None:
    """Empty the projection and the ledger of the bench tenants: every run starts alike."""
    tables = []
    for tenant in tenants:
        quoted = connection.ops.quote_name(tenant.schema_name)
        tables += [f"{quoted}.index_aggregate_activity", f"{quoted}.events_processed"]
    sql(f"TRUNCATE {', '.join(tables)}")


def pending_count() -> int:
    return scalar("SELECT count(*) FROM public.events_outbox WHERE status = 'pending'")


def drain_everything_pending() -> int:
    """Relay whatever is pending before the measurements (e.g. new tenants' events)."""
    handled = 0
    for _ in range(1000):
        stats = relay.drain()
        handled += stats.handled
        if not stats.claimed:
            break
    return handled


# -- 1. publish ----------------------------------------------------------------


@dataclass
class Timed:
    label: str
    samples_ns: list[int] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return len(self.samples_ns) / (sum(self.samples_ns) / 1e9)

    def ms(self, q: float) -> float:
        return percentile(self.samples_ns, q) / 1e6


FLOOR_UPDATE_SQL = "UPDATE auth_user SET first_name = %s WHERE id = %s"
FLOOR_TRACE = json.dumps({"traceparent": f"00-{'1' * 32}-{'2' * 16}-01"})
FLOOR_INSERT_SQL = """
INSERT INTO public.events_outbox (
    event_id, event_type, schema_version, tenant_id, schema_name, actor, aggregate_type,
    aggregate_id, aggregate_version, correlation_id, causation_id, trace_context, occurred_at,
    payload, status, claims, lease_owner
) VALUES (%s, %s, 1, %s, %s, NULL, 'bench_item', %s, %s, %s, NULL, %s, now(), %s, 'pending', 0, '')
"""


def run_publish(args: argparse.Namespace, report: Report) -> None:
    """UPDATE-only against UPDATE + publish(), and the same two statements in plain SQL."""
    tenant = Tenant.objects.get(slug=PUBLISH_TENANT)
    user_model = get_user_model()
    sequence = iter(range(10**9))

    # The writes run as in a request: one event context (correlation id, trace), as the
    # request middleware sets it, so publish() pays for what it does for every request's
    # events and not for making up a context, which only a shell or a command lacks.
    request = context.EventContext(
        correlation_id="bench-outbox", traceparent=context.new_traceparent()
    )
    with tenant_context(tenant), context.use(request):
        admin = user_model.objects.filter(is_superuser=True).order_by("pk").first()
        if admin is None:
            raise SystemExit(f"tenant {PUBLISH_TENANT} has no admin user to update")
        original = admin.first_name
        users = user_model.objects.filter(pk=admin.pk)

        def plain() -> None:
            n = next(sequence)
            with transaction.atomic():
                users.update(first_name=f"bench {n}")

        def with_event() -> None:
            n = next(sequence)
            with transaction.atomic():
                users.update(first_name=f"bench {n}")
                publish(BenchTouched(item_id=n % 1000, version=n + 1, note=f"bench {n}"))

        def sql_plain() -> None:
            n = next(sequence)
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(FLOOR_UPDATE_SQL, [f"bench {n}", admin.pk])

        def sql_with_insert() -> None:
            n = next(sequence)
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(FLOOR_UPDATE_SQL, [f"bench {n}", admin.pk])
                cursor.execute(
                    FLOOR_INSERT_SQL,
                    [
                        uuid7(), BenchTouched.event_type, tenant.pk, tenant.schema_name,
                        str(n % 1000), n + 1, "bench-outbox", FLOOR_TRACE,
                        json.dumps({"item_id": n % 1000, "version": n + 1, "note": f"bench {n}"}),
                    ],
                )  # fmt: skip

        variants = [
            (Timed("UPDATE only (ORM)"), plain),
            (Timed("UPDATE + publish() (ORM)"), with_event),
            (Timed("SQL floor: UPDATE only"), sql_plain),
            (Timed("SQL floor: UPDATE + INSERT outbox row, no wake-up"), sql_with_insert),
        ]
        try:
            for _, func in variants:
                for _ in range(args.warmup):
                    func()
            per_round = max(1, args.publish_count // args.rounds)
            cpu = CpuMeter().start()
            # One commit of each variant in turn, in a new random order each time: a drift of
            # the machine or of the outbox's indexes weighs on every variant alike.
            shuffler = random.Random(PUBLISH_SEED)
            order = list(variants)
            for number in range(1, args.rounds + 1):
                for _ in range(per_round):
                    shuffler.shuffle(order)
                    for timed, func in order:
                        started = time.perf_counter_ns()
                        func()
                        timed.samples_ns.append(time.perf_counter_ns() - started)
                log(f"publish round {number}/{args.rounds} done ({per_round} commits per variant)")
            log(f"publish: {cpu.stop()}")
        finally:
            users.update(first_name=original)

    published = scalar(
        "SELECT count(*) FROM public.events_outbox WHERE event_type = %s",
        [BenchTouched.event_type],
    )
    deleted = delete_bench_events([PUBLISH_TENANT])
    log(f"published {published} bench events, deleted {deleted} again")

    base, pub, sql_base, sql_insert = (timed for timed, _ in variants)
    for timed in (base, pub, sql_base, sql_insert):
        report.add(
            "publish",
            f"{timed.label}: commits/s (1 client)",
            timed.rate,
            "commits/s",
            note=f"p50 {timed.ms(0.5):.2f} ms, p99 {timed.ms(0.99):.2f} ms per commit",
        )
    ratio = base.rate / pub.rate
    added_us = added_p50_us(pub, base)
    report.add(
        "publish",
        "overhead: UPDATE-only rate / with-publish rate",
        ratio,
        "x",
        f"<= {TARGET_OVERHEAD}",
        ratio <= TARGET_OVERHEAD,
        note=f"+{added_us:.0f} µs per commit at p50{cpu.disturbed()}",
    )
    floor = sql_base.rate / sql_insert.rate
    floor_us = added_p50_us(sql_insert, sql_base)
    report.add(
        "publish",
        "SQL floor overhead: one extra INSERT per transaction",
        floor,
        "x",
        note=f"+{floor_us:.0f} µs per commit at p50",
    )
    over_floor = added_us / floor_us if floor_us > 0 else float("inf")
    report.add(
        "publish",
        "publish()'s added time / the floor's added time (p50)",
        over_floor,
        "x",
        f"<= {TARGET_PUBLISH_OVER_FLOOR}",
        over_floor <= TARGET_PUBLISH_OVER_FLOOR,
        note=f"+{added_us:.0f} µs against +{floor_us:.0f} µs",
    )


def added_p50_us(timed: Timed, base: Timed) -> float:
    """What ``timed``'s commits take more than ``base``'s, at the median, in µs."""
    return (statistics.median(timed.samples_ns) - statistics.median(base.samples_ns)) / 1000


# -- 2. drain ------------------------------------------------------------------

INSERT_BACKLOG_SQL = """
INSERT INTO public.events_outbox (
    event_id, event_type, schema_version, tenant_id, schema_name, actor,
    aggregate_type, aggregate_id, aggregate_version, correlation_id, causation_id,
    trace_context, occurred_at, payload, status, claims, lease_owner, lease_expires_at,
    dispatched_at
)
SELECT t.event_id, %(event_type)s, 1,
       (%(tenant_ids)s::bigint[])[(k.n %% %(tenants)s::int + 1)::int],
       (%(schemas)s::text[])[(k.n %% %(tenants)s::int + 1)::int],
       NULL, 'bench_item', ((k.n / %(tenants)s::int) %% %(aggregates)s::int)::text,
       k.n / (%(tenants)s::int * %(aggregates)s::int) + 1,
       'bench-outbox', NULL, '{}'::jsonb, clock_timestamp(),
       jsonb_build_object(
           'item_id', (k.n / %(tenants)s::int) %% %(aggregates)s::int,
           'version', k.n / (%(tenants)s::int * %(aggregates)s::int) + 1,
           'note', 'backlog'
       ),
       'pending', 0, '', NULL, NULL
FROM unnest(%(event_ids)s::uuid[]) WITH ORDINALITY AS t(event_id, ord),
     LATERAL (SELECT t.ord - 1 AS n) k
ORDER BY t.ord
"""

RAW_DRAIN_SQL = """
DELETE FROM public.events_outbox
WHERE position IN (
    SELECT position FROM public.events_outbox
    WHERE status = 'pending' ORDER BY position LIMIT %s
)
RETURNING *
"""


def insert_backlog(tenants: list[Tenant], events: int, aggregates: int) -> float:
    """Insert ``events`` pending events in one transaction; returns the seconds it took.

    Event ``n`` goes to tenant ``n % T``, aggregate ``(n // T) % A``, version
    ``n // (T * A) + 1``: tenants interleave in position order, as in a mixed stream.
    """
    event_ids = [uuid7() for _ in range(events)]
    started = time.perf_counter()
    with transaction.atomic():
        sql(
            INSERT_BACKLOG_SQL,
            {
                "event_type": BenchTouched.event_type,
                "tenant_ids": [t.pk for t in tenants],
                "schemas": [t.schema_name for t in tenants],
                "tenants": len(tenants),
                "aggregates": aggregates,
                "event_ids": event_ids,
            },
        )
    return time.perf_counter() - started


def expected_versions(tenants: int, events: int, aggregates: int) -> dict[tuple[int, str], int]:
    """(tenant index, aggregate id) -> the last version the projection must show."""
    last: dict[tuple[int, str], int] = {}
    for n in range(events):
        key = (n % tenants, str((n // tenants) % aggregates))
        last[key] = n // (tenants * aggregates) + 1
    return last


def verify_drain(tenants: list[Tenant], events: int, aggregates: int) -> str:
    """Check that every backlog event was handled; returns a summary, raises on a mismatch."""
    rows = dict(
        sql(
            "SELECT status, count(*) FROM public.events_outbox WHERE event_type = %s GROUP BY 1",
            [BenchTouched.event_type],
        )
    )
    deliveries = scalar(
        "SELECT count(*) FROM public.events_delivery d JOIN public.events_outbox o "
        "ON o.position = d.event_id WHERE o.event_type = %s",
        [BenchTouched.event_type],
    )
    expected = expected_versions(len(tenants), events, aggregates)
    ledger = 0
    wrong = 0
    projected = 0
    for index, tenant in enumerate(tenants):
        quoted = connection.ops.quote_name(tenant.schema_name)
        ledger += scalar(
            f"SELECT count(*) FROM {quoted}.events_processed WHERE %s = ANY(handlers)",  # noqa: S608
            [PROJECTION_HANDLER],
        )
        found = dict(
            sql(
                f"SELECT aggregate_id, source_version FROM {quoted}.index_aggregate_activity "  # noqa: S608
                "WHERE aggregate_type = 'bench_item'"
            )
        )
        projected += len(found)
        want = {agg: v for (i, agg), v in expected.items() if i == index}
        wrong += sum(1 for agg, version in want.items() if found.get(agg) != version)
        wrong += len(set(found) - set(want))
    problems = []
    if rows.get("pending", 0):
        problems.append(f"{rows['pending']} still pending")
    if rows.get("dispatched", 0) != events:
        problems.append(f"{rows.get('dispatched', 0)} dispatched, expected {events}")
    if deliveries:
        problems.append(f"{deliveries} deliveries")
    if ledger != events:
        problems.append(f"{ledger} ledger rows, expected {events}")
    if wrong or projected != len(expected):
        problems.append(
            f"projection: {projected} rows, expected {len(expected)}, {wrong} not at the last version"
        )
    if problems:
        raise SystemExit("drain verification failed: " + "; ".join(problems))
    return (
        f"verified: {events} dispatched, 0 pending, 0 deliveries, {ledger} ledger rows, "
        f"{projected} projection rows at their last version"
    )


def fresh_backlog(
    tenants: list[Tenant], args: argparse.Namespace, *, analyze: bool = True
) -> float:
    """An identical backlog for every run, inserted into an outbox vacuumed and analyzed empty.

    ``analyze=False`` is a burst as production sees it: the planner's statistics
    still describe the quiet outbox when the drain starts.
    """
    delete_bench_events([t.schema_name for t in tenants])
    reset_bench_schemas(tenants)
    vacuum_outbox()
    seconds = insert_backlog(tenants, args.events, args.aggregates)
    if analyze:
        sql("ANALYZE public.events_outbox")
    return seconds


def drain_raw(batch: int) -> tuple[int, float]:
    total = 0
    started = time.perf_counter()
    with connection.cursor() as cursor:
        while True:
            cursor.execute(RAW_DRAIN_SQL, [batch])
            rows = cursor.fetchall()
            if not rows:
                break
            total += len(rows)
    return total, time.perf_counter() - started


def drain_in_process() -> tuple[int, float, relay.DrainStats]:
    started = time.perf_counter()
    stats = relay.drain()
    return stats.handled, time.perf_counter() - started, stats


def db_now() -> float:
    return scalar("SELECT extract(epoch FROM clock_timestamp())::float8")


def drain_with_workers(
    kick: Callable[[], None], events: int, timeout: float
) -> tuple[float, float, int]:
    """Kick the workers, wait until no backlog event is pending; returns (seconds, waited, left).

    ``seconds`` runs on the database clock, from just before the kick to the last
    acknowledgement (``max(dispatched_at)``), so the polling interval does not count.
    """
    started = db_now()
    kicked = time.monotonic()
    kick()
    deadline = kicked + timeout
    left = events
    while time.monotonic() < deadline:
        time.sleep(0.1)
        left = scalar(
            "SELECT count(*) FROM (SELECT 1 FROM public.events_outbox "
            "WHERE status = 'pending' AND event_type = %s LIMIT 1) s",
            [BenchTouched.event_type],
        )
        if not left:
            break
    finished = scalar(
        "SELECT extract(epoch FROM max(dispatched_at))::float8 FROM public.events_outbox "
        "WHERE event_type = %s",
        [BenchTouched.event_type],
    )
    if left:
        left = scalar(
            "SELECT count(*) FROM public.events_outbox WHERE status = 'pending' AND event_type = %s",
            [BenchTouched.event_type],
        )
    return (finished or started) - started, time.monotonic() - kicked, left


def kick_tasks(count: int) -> Callable[[], None]:
    def kick() -> None:
        for _ in range(count):
            drain_task.apply_async()

    return kick


def kick_request_drain() -> None:
    if not wakeup.request_drain():  # a flag left by an earlier commit: clear it, ask again
        wakeup.clear()
        if not wakeup.request_drain():
            raise SystemExit("request_drain() sent no task (Redis unreachable?)")


# -- workers -------------------------------------------------------------------


class Worker:
    """One ``celery worker --concurrency 2`` started for the benchmark, in its own process group."""

    def __init__(
        self,
        concurrency: int,
        log_dir: Path,
        *,
        beat: bool = False,
        queues: str | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.concurrency = concurrency
        self.beat = beat  # run beat inside the worker (its sweep), as production does
        self.queues = queues  # -Q (the default: the default queue)
        self.extra_env = extra_env or {}
        self.log_path = log_dir / (f"worker-{queues}.log" if queues else "worker.log")
        self.proc: subprocess.Popen | None = None
        self._log_file = None

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            DJANGO_SETTINGS_MODULE=os.environ["DJANGO_SETTINGS_MODULE"],
            EVENTS_EXTRA_MODULES=EXTRA_MODULE,
            DATABASE_URL=settings.DATABASE_URL,
            REDIS_URL=settings.REDIS_URL,
            PYTHONPATH=str(ROOT),
        )
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = 60) -> None:
        if self.proc is not None and self.proc.poll() is None:
            return
        # The log is appended to across restarts: only a "ready." written from here on counts.
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        command = [
            sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel", "INFO",
            "--concurrency", str(self.concurrency),
            "-n", f"bench-outbox-{os.getpid()}{'-' + self.queues if self.queues else ''}@%h",
        ]  # fmt: skip
        if self.queues:
            command += ["-Q", self.queues]
        if self.beat:
            command += ["--beat", "--schedule", str(self.log_path.with_name("beat-schedule"))]
        self._log_file = self.log_path.open("a")
        self.proc = subprocess.Popen(
            command, cwd=ROOT, env=self.env(), stdout=self._log_file,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if "ready." in self.log_path.read_text()[offset:]:
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise SystemExit(f"the Celery worker did not start:\n{self.tail()}")

    def wait_idle(self, client: redis.Redis, timeout: float = 30) -> None:
        """Until the broker queue is empty and stays so for a second (stale drain tasks ran)."""
        deadline = time.monotonic() + timeout
        quiet_since = None
        while time.monotonic() < deadline:
            if client.llen(CELERY_QUEUE) == 0:
                quiet_since = quiet_since or time.monotonic()
                if time.monotonic() - quiet_since >= 1.0:
                    return
            else:
                quiet_since = None
            time.sleep(0.1)
        raise SystemExit("the worker did not empty the Celery queue")

    def drained_lines(self) -> list[str]:
        return [line for line in self.log_path.read_text().splitlines() if DRAINED_RE.search(line)]

    def tasks_received(self) -> int:
        """Drain tasks the worker ran: its log has a line for each that ended (the "received"
        lines are not logged at the worker's level)."""
        return sum(
            "Task events.drain[" in line and (" succeeded in " in line or " raised " in line)
            for line in self.log_path.read_text().splitlines()
        )

    @property
    def pgid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text()[-chars:] if self.log_path.exists() else ""

    def stop(self) -> None:
        """Warm shutdown of the worker's process group, then SIGKILL to whatever is left."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=15)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)
        if self._log_file is not None:
            self._log_file.close()


def other_workers() -> list[str]:
    from config.celery import app

    replies = app.control.ping(timeout=1.0) or []
    return [name for reply in replies for name in reply]


def attempts(label: str, run: Callable[[], None], tries: int = 3) -> None:
    """Run one measurement; again (up to ``tries`` times) when another relay interfered."""
    for attempt in range(1, tries + 1):
        try:
            run()
            return
        except Interference as error:
            log(f"  {label}: {error}; attempt {attempt}/{tries} discarded")
    raise SystemExit(f"{label}: another relay kept draining the dev outbox; stop it and rerun")


def run_drain(
    args: argparse.Namespace, tenants: list[Tenant], worker: Worker, report: Report
) -> None:
    n = args.events
    label_backlog = f"{n:,} events, {len(tenants)} tenants x {args.aggregates} aggregates"
    timeout = max(120.0, n / 200)

    def raw() -> None:
        seconds = fresh_backlog(tenants, args)
        log(f"backlog inserted: {n} rows in {seconds:.2f} s ({n / seconds:,.0f} rows/s)")
        cpu = CpuMeter().start()
        total, seconds = drain_raw(args.batch)
        if total != n:
            raise Interference(f"the raw drain removed {total} rows, expected {n}")
        log(f"raw drain: {n / seconds:,.0f} events/s; {cpu.stop()}")
        report.add(
            "drain",
            f"raw DELETE ... RETURNING * loop, batches of {args.batch}",
            n / seconds,
            "events/s",
            note=f"{seconds:.2f} s, no handlers{cpu.disturbed()}",
        )

    def in_process() -> None:
        fresh_backlog(tenants, args)
        cpu = CpuMeter().start()
        handled, seconds, stats = drain_in_process()
        if handled != n:
            raise Interference(f"relay.drain() here handled {handled} of {n} events")
        log(
            f"in-process drain: {handled} handled in {seconds:.2f} s, {stats.batches} batches; "
            f"{cpu.stop()}"
        )
        log("  " + verify_drain(tenants, n, args.aggregates))
        report.add(
            "drain",
            "relay.drain() in this process (1 process)",
            n / seconds,
            "events/s",
            f">= {TARGET_DRAIN:,.0f}",
            n / seconds >= TARGET_DRAIN,
            note=f"{seconds:.2f} s, {stats.batches} batches, {label_backlog}{cpu.disturbed()}",
        )

    def with_workers(
        label: str, kick: Callable[[], None], *, analyze: bool = True
    ) -> Callable[[], None]:
        def run() -> None:
            fresh_backlog(tenants, args, analyze=analyze)
            worker.wait_idle(client)
            if pending_count() != n:
                raise Interference("pending rows differ from the backlog before the kick")
            before = len(worker.drained_lines())
            cpu = CpuMeter(worker.pgid).start()
            seconds, _, left = drain_with_workers(kick, n, timeout)
            if left:
                raise SystemExit(
                    f"{left} events still pending after {timeout:.0f} s\n{worker.tail()}"
                )
            usage = cpu.stop()
            worker.wait_idle(client)
            tasks = worker.drained_lines()[before:]
            handled = sum(int(DRAINED_RE.search(line).group(1)) for line in tasks)
            if handled != n:
                raise Interference(f"the bench worker handled {handled} of {n} events")
            log(
                f"worker drain ({label}): {seconds:.2f} s, {len(tasks)} drain tasks with work; {usage}"
            )
            for line in tasks:
                log("  " + line[line.find("/") + 1 :].strip())
            log("  " + verify_drain(tenants, n, args.aggregates))
            report.add(
                "drain",
                f"Celery worker, {label}",
                n / seconds,
                "events/s",
                f">= {TARGET_DRAIN:,.0f}",
                n / seconds >= TARGET_DRAIN,
                note=f"{seconds:.2f} s from kick to last ack, {len(tasks)} tasks with work"
                f"{cpu.disturbed()}",
            )

        return run

    attempts("raw drain", raw)
    attempts("in-process drain", in_process)
    worker.start()
    client = rds()
    worker.wait_idle(client)
    tasks = f"{args.concurrency} pool processes, {args.concurrency} events.drain tasks"
    kicks = [
        (f"{tasks}, after ANALYZE", kick_tasks(args.concurrency), True),
        (f"{tasks}, burst (no ANALYZE)", kick_tasks(args.concurrency), False),
        (f"{args.concurrency} pool processes, kicked by request_drain()", kick_request_drain, True),
    ]
    for label, kick, analyze in kicks:
        attempts(label, with_workers(label, kick, analyze=analyze))
    delete_bench_events([t.schema_name for t in tenants])
    reset_bench_schemas(tenants)


# -- 2b. drain into the real projections -----------------------------------------------

REAL_TYPES = ("content.node.updated", "commerce.product.updated")
REAL_HANDLERS_NOTE = (
    "content and product listings with their search vectors, and every other subscriber"
)

# Event n goes to tenant n % T; within a tenant, runs of ``burst`` consecutive events
# belong to one aggregate (an editor saving a node a few times in a row), aggregates in
# turn over the tenant's nodes, then its products. Each event is the one the service
# writes for an edit: ``content.node.updated`` or ``commerce.product.updated`` with the
# aggregate's next version, and ``changed`` naming the title.
INSERT_REAL_BACKLOG_SQL = """
INSERT INTO public.events_outbox (
    event_id, event_type, schema_version, tenant_id, schema_name, actor,
    aggregate_type, aggregate_id, aggregate_version, correlation_id, causation_id,
    trace_context, occurred_at, payload, status, claims, lease_owner
)
SELECT t.event_id,
       CASE WHEN a.kind = 'node' THEN 'content.node.updated' ELSE 'commerce.product.updated' END,
       1, k.tenant_id, k.schema_name, NULL, a.kind, a.id, k.version, 'bench-outbox', NULL,
       '{}'::jsonb, clock_timestamp(),
       CASE WHEN a.kind = 'node'
            THEN jsonb_build_object('node_id', a.id, 'kind', 'post', 'version', k.version,
                                    'changed', jsonb_build_array('title'))
            ELSE jsonb_build_object('product_id', a.id, 'version', k.version,
                                    'changed', jsonb_build_array('title'))
       END,
       'pending', 0, ''
FROM unnest(%(event_ids)s::uuid[]) WITH ORDINALITY AS t(event_id, ord),
     LATERAL (
         SELECT ((t.ord - 1) %% %(tenants)s)::int AS tenant,
                ((t.ord - 1) / %(tenants)s / %(burst)s) %% %(aggregates)s AS slot,
                (t.ord - 1) / %(tenants)s / %(burst)s / %(aggregates)s * %(burst)s
                    + ((t.ord - 1) / %(tenants)s) %% %(burst)s + 1000 AS version
     ) n,
     LATERAL (
         SELECT (%(tenant_ids)s::bigint[])[n.tenant + 1] AS tenant_id,
                (%(schemas)s::text[])[n.tenant + 1] AS schema_name,
                n.version
     ) k,
     LATERAL (
         SELECT (%(kinds)s::text[])[n.slot::int + 1] AS kind,
                (%(ids)s::text[])[n.tenant * %(aggregates)s + n.slot::int + 1] AS id
     ) a
ORDER BY t.ord
"""


def ensure_catalogue(tenants: list[Tenant], nodes: int, products: int) -> dict[int, list[tuple]]:
    """Each tenant's first ``nodes`` published posts and ``products`` active products, made
    through the services on first use (they stay): tenant id -> [(kind, id), ...]."""
    from apps.blog import services as blog
    from apps.blog.services import TranslationInput
    from apps.commerce import services as commerce
    from apps.commerce.models import Product
    from apps.commerce.services import ProductInput, VariantInput
    from apps.content.models import Node

    body = "<p>" + " ".join(f"word{n} of the bench body text" for n in range(60)) + "</p>"
    found: dict[int, list[tuple]] = {}
    for tenant in tenants:
        with tenant_context(tenant):
            have = list(Node.objects.filter(kind="post").order_by("created_at", "pk")[:nodes])
            for number in range(len(have), nodes):
                node = blog.post_create(
                    translations=[
                        TranslationInput(
                            locale="en", title=f"Bench post {number}", slug=f"bench-{number}",
                            excerpt="", body=body,
                        )
                    ],
                    tag_names=[f"tag-{number % 7}"],
                )  # fmt: skip
                have.append(blog.post_publish(post_id=node.pk))
            made = list(Product.objects.order_by("created_at", "pk")[:products])
            if len(made) < products:
                commerce.store_settings_update(default_currency="USD", enabled_currencies=["USD"])
            for number in range(len(made), products):
                product = commerce.product_create(
                    data=ProductInput(
                        title=f"Bench product {number}", handle=f"bench-product-{number}",
                        description=f"A product of the bench. {body[:400]}", vendor="Bench",
                    )
                )  # fmt: skip
                variant = commerce.variant_create(
                    product_id=product.pk, data=VariantInput(sku=f"B-{number}")
                )
                commerce.price_set(variant_id=variant.pk, currency="USD", amount="9.50")
                made.append(commerce.product_transition(product_id=product.pk, action="activate"))
            found[tenant.pk] = [("node", str(n.pk)) for n in have] + [
                ("product", str(p.pk)) for p in made
            ]
        log(f"catalogue of {tenant.slug}: {nodes} posts, {products} products")
    return found


def reset_real_schemas(tenants: list[Tenant], catalogue: dict[int, list[tuple]]) -> None:
    """Empty the activity projection and the ledger of the bench tenants, and take the
    backlog's aggregates out of the listings (the drain must write them all again)."""
    tables = []
    for tenant in tenants:
        quoted = connection.ops.quote_name(tenant.schema_name)
        tables += [f"{quoted}.index_aggregate_activity", f"{quoted}.events_processed"]
    sql(f"TRUNCATE {', '.join(tables)}")
    for tenant in tenants:
        quoted = connection.ops.quote_name(tenant.schema_name)
        for kind, table, column in (
            ("node", "index_content_listing", "node_id"),
            ("product", "index_product_listing", "product_id"),
        ):
            ids = [pk for what, pk in catalogue[tenant.pk] if what == kind]
            sql(f"DELETE FROM {quoted}.{table} WHERE {column} = ANY(%s::uuid[])", [ids])  # noqa: S608


def rebuild_listings(tenants: list[Tenant]) -> None:
    """Both listings of the bench tenants rebuilt from the write model: rows of posts and
    products outside the backlog (an earlier, larger run's) are then as the check expects."""
    from apps.index.projections import projections

    for tenant in tenants:
        with tenant_context(tenant):
            for name in ("content_listing", "product_listing"):
                projections()[name].rebuild()


def delete_real_events() -> None:
    sql(
        "DELETE FROM public.events_delivery d USING public.events_outbox o "
        "WHERE d.event_id = o.position AND o.correlation_id = 'bench-outbox' "
        "AND o.event_type = ANY(%s)",
        [list(REAL_TYPES)],
    )
    sql(
        "DELETE FROM public.events_outbox WHERE correlation_id = 'bench-outbox' "
        "AND event_type = ANY(%s)",
        [list(REAL_TYPES)],
    )


def fresh_real_backlog(
    tenants: list[Tenant], catalogue: dict[int, list[tuple]], args: argparse.Namespace
) -> float:
    delete_real_events()
    reset_real_schemas(tenants, catalogue)
    vacuum_outbox()
    per_tenant = len(next(iter(catalogue.values())))
    started = time.perf_counter()
    with transaction.atomic():
        sql(
            INSERT_REAL_BACKLOG_SQL,
            {
                "event_ids": [uuid7() for _ in range(args.real_events)],
                "tenant_ids": [t.pk for t in tenants],
                "schemas": [t.schema_name for t in tenants],
                "tenants": len(tenants),
                "burst": args.burst,
                "aggregates": per_tenant,
                "kinds": [kind for kind, _ in catalogue[tenants[0].pk]],
                "ids": [pk for t in tenants for _, pk in catalogue[t.pk]],
            },
        )
    # The write model as the edits the backlog records left it: each aggregate at the version
    # of its last event (a drain that reads a post once it is behind reads it at that version).
    for tenant in tenants:
        quoted = connection.ops.quote_name(tenant.schema_name)
        for kind, table in (("node", "content_node"), ("product", "commerce_product")):
            sql(
                f"UPDATE {quoted}.{table} a SET version = last.version "  # noqa: S608
                "FROM (SELECT aggregate_id::uuid AS id, max(aggregate_version) AS version "
                "FROM public.events_outbox WHERE correlation_id = 'bench-outbox' "
                "AND schema_name = %s AND aggregate_type = %s GROUP BY 1) last "
                "WHERE a.id = last.id",
                [tenant.schema_name, kind],
            )
    sql("ANALYZE public.events_outbox")
    return time.perf_counter() - started


def verify_real_drain(tenants: list[Tenant], events: int) -> str:
    """Every event dispatched, no deliveries, a ledger row per subscriber and event, and both
    listings equal to what the write model says (the consistency check)."""
    from apps.events.registry import subscribers_for
    from apps.index.consistency import check_content_listing, check_product_listing

    rows = dict(
        sql(
            "SELECT status, count(*) FROM public.events_outbox WHERE correlation_id = "
            "'bench-outbox' AND event_type = ANY(%s) GROUP BY 1",
            [list(REAL_TYPES)],
        )
    )
    by_type = dict(
        sql(
            "SELECT event_type, count(*) FROM public.events_outbox WHERE correlation_id = "
            "'bench-outbox' AND event_type = ANY(%s) GROUP BY 1",
            [list(REAL_TYPES)],
        )
    )
    expected_ledger = sum(count * len(subscribers_for(kind)) for kind, count in by_type.items())
    deliveries = scalar(
        "SELECT count(*) FROM public.events_delivery d JOIN public.events_outbox o "
        "ON o.position = d.event_id WHERE o.correlation_id = 'bench-outbox'"
    )
    ledger = 0
    problems = []
    listed = 0
    for tenant in tenants:
        quoted = connection.ops.quote_name(tenant.schema_name)
        ledger += scalar(
            f"SELECT coalesce(sum(cardinality(handlers)), 0) FROM {quoted}.events_processed"  # noqa: S608
        )
        with tenant_context(tenant):
            for report in (check_content_listing(), check_product_listing()):
                listed += report.rows
                if not report.ok:
                    problems.append(
                        f"{tenant.slug} {report.projection}: {report.differences} differences"
                    )
    if rows.get("pending", 0) or rows.get("dispatched", 0) != events:
        problems.append(f"{rows} (expected {events} dispatched)")
    if deliveries:
        problems.append(f"{deliveries} deliveries")
    if ledger != expected_ledger:
        problems.append(f"{ledger} handlers in the ledger, expected {expected_ledger}")
    if problems:
        raise SystemExit("projection drain verification failed: " + "; ".join(problems))
    return (
        f"verified: {events} dispatched, 0 deliveries, {ledger} handlers in the ledger, {listed} listing "
        "rows equal to the write model"
    )


def run_projections(
    args: argparse.Namespace, tenants: list[Tenant], worker: Worker, report: Report
) -> None:
    """The drain into the real projections: raw floor, the relay event by event and with the
    batch handlers in this process, and the worker; all on identical backlogs."""
    catalogue = ensure_catalogue(tenants, args.real_nodes, args.real_products)
    drained = drain_everything_pending()
    if drained:
        log(f"relayed {drained} events of the catalogue's set-up")
    rebuild_listings(tenants)
    n = args.real_events
    aggregates = len(tenants) * (args.real_nodes + args.real_products)
    label_backlog = (
        f"{n:,} events, {len(tenants)} tenants x {args.real_nodes} posts + "
        f"{args.real_products} products, runs of {args.burst} per aggregate"
    )
    log(f"projection drain backlog: {label_backlog} ({aggregates} aggregates)")
    floor = {}

    def raw() -> None:
        fresh_real_backlog(tenants, catalogue, args)
        cpu = CpuMeter().start()
        total, seconds = drain_raw(args.batch)
        if total != n:
            raise Interference(f"the raw drain removed {total} rows, expected {n}")
        log(f"raw drain (projection backlog): {n / seconds:,.0f} events/s; {cpu.stop()}")
        floor["rate"] = n / seconds
        report.add(
            "project", f"raw DELETE ... RETURNING * loop, batches of {args.batch}", n / seconds,
            "events/s", note=f"{seconds:.2f} s, no handlers{cpu.disturbed()}",
        )  # fmt: skip

    def in_process(batched: bool) -> Callable[[], None]:
        def run() -> None:
            fresh_real_backlog(tenants, catalogue, args)
            settings.EVENTS["BATCH_HANDLERS"] = batched
            try:
                cpu = CpuMeter().start()
                handled, seconds, stats = drain_in_process()
                usage = cpu.stop()
            finally:
                settings.EVENTS["BATCH_HANDLERS"] = True
            if handled != n:
                raise Interference(f"relay.drain() here handled {handled} of {n} events")
            how = "batch handlers" if batched else "event by event"
            log(f"in-process drain into the projections ({how}): {seconds:.2f} s; {usage}")
            log("  " + verify_real_drain(tenants, n))
            ratio = n / seconds / floor["rate"]
            report.add(
                "project", f"relay.drain(), 1 process, {how}", n / seconds, "events/s",
                f">= {TARGET_PROJECTION_RATIO}x raw" if batched else "",
                ratio >= TARGET_PROJECTION_RATIO if batched else None,
                note=f"{ratio:.2f}x raw; {seconds:.2f} s, {stats.batches} batches{cpu.disturbed()}",
            )  # fmt: skip

        return run

    def with_workers() -> None:
        fresh_real_backlog(tenants, catalogue, args)
        worker.wait_idle(client)
        if pending_count() != n:
            raise Interference("pending rows differ from the backlog before the kick")
        cpu = CpuMeter(worker.pgid).start()
        started = db_now()
        kick_tasks(args.concurrency)()
        deadline = time.monotonic() + max(120.0, n / 200)
        while time.monotonic() < deadline and scalar(
            "SELECT count(*) FROM (SELECT 1 FROM public.events_outbox WHERE status = 'pending' "
            "AND correlation_id = 'bench-outbox' LIMIT 1) s"
        ):
            time.sleep(0.1)
        finished = scalar(
            "SELECT extract(epoch FROM max(dispatched_at))::float8 FROM public.events_outbox "
            "WHERE correlation_id = 'bench-outbox' AND event_type = ANY(%s)",
            [list(REAL_TYPES)],
        )
        usage = cpu.stop()
        worker.wait_idle(client)
        seconds = finished - started
        log(f"worker drain into the projections: {seconds:.2f} s; {usage}")
        log("  " + verify_real_drain(tenants, n))
        ratio = n / seconds / floor["rate"]
        report.add(
            "project", f"Celery worker, {args.concurrency} processes, batch handlers",
            n / seconds, "events/s", f">= {TARGET_PROJECTION_RATIO}x raw",
            ratio >= TARGET_PROJECTION_RATIO,
            note=f"{ratio:.2f}x raw; {seconds:.2f} s from kick to last ack{cpu.disturbed()}",
        )  # fmt: skip

    attempts("raw drain (projections)", raw)
    if not args.skip_event_by_event:
        attempts("in-process drain, event by event", in_process(False))
    attempts("in-process drain, batch handlers", in_process(True))
    worker.start()
    client = rds()
    worker.wait_idle(client)
    attempts("worker drain (projections)", with_workers)
    delete_real_events()
    reset_real_schemas(tenants, catalogue)
    rebuild_listings(tenants)


# -- 3. latency ----------------------------------------------------------------


@dataclass
class PublisherLoop:
    """One process committing its share of a steady event stream, each commit timed."""

    tenant: Tenant
    index: int
    count: int
    rate: float
    step: int = 1
    started: float = 0.0
    committed: dict[str, float] = field(default_factory=dict)
    commit_ns: list[int] = field(default_factory=list)
    late: int = 0
    error: str | None = None

    def run_in_child(self, channel: Connection) -> None:
        """The child's body: ready, then the loop from the start time the parent sends, on a
        connection of its own; its figures go back on ``channel``."""
        try:
            Tenant.objects.filter(pk=self.tenant.pk).exists()  # connected before the start
            channel.send("ready")
            self.started = channel.recv()
            self._run()
        except BaseException:  # reported by the parent
            self.error = traceback.format_exc()
        finally:
            connection.close()
        channel.send((self.committed, self.commit_ns, self.late, self.error))
        channel.close()

    def start(self) -> tuple[multiprocessing.Process, Connection]:
        """A new interpreter (spawned: a forked child would inherit this process's broker
        connection, and kombu's after-fork clean-up blocks on it), waiting for its start."""
        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe()
        process = context.Process(
            target=self.run_in_child, args=(theirs,), name=f"publisher-{self.index}"
        )
        process.start()
        theirs.close()
        if not ours.poll(120) or ours.recv() != "ready":
            process.kill()
            raise SystemExit(f"publisher {self.index} did not start")
        return process, ours

    def collect(self, process: multiprocessing.Process, channel: Connection) -> None:
        self.committed, self.commit_ns, self.late, self.error = channel.recv()
        process.join()

    def _run(self) -> None:
        user_model = get_user_model()
        with tenant_context(self.tenant):
            admin = user_model.objects.filter(is_superuser=True).order_by("pk").first()
            if admin is None:
                raise SystemExit(f"tenant {self.tenant.slug} has no admin user to update")
            original = admin.first_name
            users = user_model.objects.filter(pk=admin.pk)
            try:
                for seq in range(self.index, self.count, self.step):
                    pause = self.started + seq / self.rate - time.time()
                    if pause > 0:
                        time.sleep(pause)
                    elif pause < -0.005:
                        self.late += 1
                    holder: dict[str, str] = {}
                    begun = time.perf_counter_ns()
                    with transaction.atomic():
                        users.update(first_name=f"ping {seq}")
                        # Registered before publish()'s callbacks: it runs right after COMMIT.
                        transaction.on_commit(
                            lambda h=holder: self.committed.__setitem__(h["id"], time.time())
                        )
                        row = publish(BenchPinged(item_id=seq % 1000, seq=seq))
                        holder["id"] = str(row.event_id)
                    self.commit_ns.append(time.perf_counter_ns() - begun)
            finally:
                users.update(first_name=original)


def publisher_tenants(count: int) -> list[Tenant]:
    """Each publisher updates the admin of its own tenant, so they never wait on a row lock."""
    slugs = [PUBLISH_TENANT, "globex", *(f"bench-{n:02d}" for n in range(1, 100))][:count]
    found = {t.slug: t for t in Tenant.objects.filter(slug__in=slugs)}
    missing = [slug for slug in slugs if slug not in found]
    if missing:
        raise SystemExit(f"--publishers {count} needs the tenants {', '.join(missing)}")
    return [found[slug] for slug in slugs]


def run_latency(args: argparse.Namespace, worker: Worker, report: Report) -> None:
    client = rds()
    client.delete(HANDLED_KEY)
    vacuum_outbox()
    worker.start()
    worker.wait_idle(client)
    total = int(args.rate * args.seconds)
    tenants = publisher_tenants(args.publishers)
    loops = [
        PublisherLoop(tenant, index, total, args.rate, step=len(tenants))
        for index, tenant in enumerate(tenants)
    ]
    # Processes, not threads: one interpreter's lock held the publishers to about 640 events/s.
    # The schedule is on the wall clock, which every process shares.
    children = [loop.start() for loop in loops]
    tasks_before = worker.tasks_received()
    cpu = CpuMeter(worker.pgid).start()
    started = time.time() + 0.05
    for _, channel in children:
        channel.send(started)
    for loop, (process, channel) in zip(loops, children, strict=True):
        loop.collect(process, channel)
    publish_seconds = time.time() - started
    usage = cpu.stop()
    for loop in loops:
        if loop.error is not None:
            raise SystemExit(f"publisher {loop.index} failed:\n{loop.error}")
    committed = {key: at for loop in loops for key, at in loop.committed.items()}
    commit_ns = [ns for loop in loops for ns in loop.commit_ns]
    late = sum(loop.late for loop in loops)
    publisher_schemas = [t.schema_name for t in tenants]

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and client.hlen(HANDLED_KEY) < total:
        time.sleep(0.1)
    handled = {key.decode(): float(value) for key, value in client.hgetall(HANDLED_KEY).items()}
    client.delete(HANDLED_KEY)
    worker.wait_idle(client)
    tasks = worker.tasks_received() - tasks_before
    latencies = [
        (handled[event_id] - at) * 1000 for event_id, at in committed.items() if event_id in handled
    ]
    missing = total - len(latencies)
    if not latencies:
        raise SystemExit(f"no event was handled\n{worker.tail()}")
    p50, p90, p99 = (percentile(latencies, q) for q in (0.5, 0.9, 0.99))
    rate = total / publish_seconds
    commit_p50 = percentile(commit_ns, 0.5) / 1e6
    commit_p99 = percentile(commit_ns, 0.99) / 1e6
    log(
        f"latency: {total} events in {publish_seconds:.1f} s ({rate:.0f}/s, {late} sent late), "
        f"{missing} not handled within 60 s; p50 {p50:.1f} ms, p90 {p90:.1f} ms, "
        f"p99 {p99:.1f} ms, max {max(latencies):.1f} ms; {tasks} drain tasks received; "
        f"publisher transaction p50 {commit_p50:.2f} ms, p99 {commit_p99:.2f} ms; {usage}"
    )
    pending = scalar(
        "SELECT count(*) FROM public.events_outbox WHERE status = 'pending' AND event_type = %s",
        [BenchPinged.event_type],
    )
    report.add(
        "latency", f"publisher rate achieved ({args.publishers} processes, 1 event per commit)", rate,
        "events/s",
        f">= {args.rate * 0.95:.0f}", rate >= args.rate * 0.95,
        note=f"{total} events in {publish_seconds:.1f} s; transaction p50 {commit_p50:.2f} ms, "
        f"p99 {commit_p99:.2f} ms; {late} sent late{cpu.disturbed()}",
    )  # fmt: skip
    report.add(
        "latency", "commit -> handled p50", p50, "ms", f"<= {TARGET_P50_MS:.0f}", p50 <= TARGET_P50_MS
    )  # fmt: skip
    report.add("latency", "commit -> handled p90", p90, "ms")
    report.add(
        "latency", "commit -> handled p99", p99, "ms", f"<= {TARGET_P99_MS:.0f}", p99 <= TARGET_P99_MS
    )  # fmt: skip
    report.add(
        "latency", "commit -> handled max", max(latencies), "ms",
        note=f"{missing} not handled, {pending} still pending",
    )  # fmt: skip
    report.add(
        "latency", "events.drain tasks run per event", tasks / total, "tasks",
        note=f"{tasks} tasks for {total} events; {usage}",
    )  # fmt: skip
    delete_bench_events(publisher_schemas)


# -- main ------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50000, help="backlog size for the drain")
    parser.add_argument("--tenants", type=int, default=20, help="bench tenants of the backlog")
    parser.add_argument("--aggregates", type=int, default=1000, help="aggregates per tenant")
    parser.add_argument("--batch", type=int, default=500, help="raw drain batch size")
    parser.add_argument("--rate", type=float, default=200, help="latency run: events/s")
    parser.add_argument("--seconds", type=float, default=20, help="latency run: duration")
    parser.add_argument(
        "--publishers",
        type=int,
        default=2,
        help="latency run: publisher processes sharing the rate",
    )
    parser.add_argument("--publish-count", type=int, default=5000, help="commits per variant")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved publish rounds")
    parser.add_argument("--warmup", type=int, default=200, help="untimed commits per variant")
    parser.add_argument(
        "--real-events", type=int, default=20000, help="projection drain: backlog size"
    )
    parser.add_argument(
        "--real-nodes", type=int, default=100, help="projection drain: posts per tenant"
    )
    parser.add_argument(
        "--real-products", type=int, default=50, help="projection drain: products per tenant"
    )
    parser.add_argument(
        "--burst", type=int, default=4, help="projection drain: consecutive events per aggregate"
    )
    parser.add_argument(
        "--skip-event-by-event", action="store_true",
        help="projection drain: leave out the event-by-event run (the slowest, for reference)",
    )  # fmt: skip
    parser.add_argument("--concurrency", type=int, default=2, help="worker pool processes")
    parser.add_argument(
        "--parts", default="publish,drain,projections,latency", help="comma-separated parts to run"
    )
    parser.add_argument("--quick", action="store_true", help="a small smoke run")
    parser.add_argument(
        "--production", action="store_true",
        help="the production settings (DEBUG off) for this script and the worker",
    )  # fmt: skip
    args = parser.parse_args()
    if args.quick:
        args.events, args.tenants, args.aggregates = 2000, 2, 100
        args.seconds, args.publish_count, args.rounds, args.warmup = 3, 500, 2, 20
        args.real_events, args.real_nodes, args.real_products = 2000, 20, 10
    if min(args.events, args.tenants, args.aggregates, args.publish_count, args.rounds) < 1:
        parser.error("sizes must be positive")
    if args.publishers < 1:
        parser.error("need at least one publisher")
    if args.tenants > 99 or args.rate <= 0 or args.seconds <= 0:
        parser.error("need 1..99 tenants and a positive rate and duration")
    args.parts = {part.strip() for part in args.parts.split(",") if part.strip()}
    if not args.parts or args.parts - {"publish", "drain", "projections", "latency"}:
        parser.error("--parts takes publish, drain, projections and latency")
    return args


def git_revision() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT, capture_output=True, text=True,
        ).stdout.strip()  # fmt: skip
    except OSError:
        return "unknown"
    return f"{head}{' (modified)' if dirty else ''}" if head else "unknown"


def print_environment(args: argparse.Namespace) -> None:
    db = connection.settings_dict
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    log(
        f"{os.cpu_count()} CPUs ({cpu}); Python {platform.python_version()}, "
        f"Django {django.get_version()}, django-tenants {importlib.metadata.version('django-tenants')}, "
        f"psycopg {importlib.metadata.version('psycopg')}, Celery {importlib.metadata.version('celery')}, "
        f"PostgreSQL {scalar('SHOW server_version')}, Redis {rds().info()['redis_version']}\n"
        f"commit {git_revision()}, load average {os.getloadavg()[0]:.2f}; "
        f"settings {os.environ['DJANGO_SETTINGS_MODULE']} (DEBUG={settings.DEBUG}), "
        f"database {db['HOST'] or 'socket'}:{db['PORT'] or '-'}/{db['NAME']}, "
        f"EVENTS BATCH_SIZE={settings.EVENTS['BATCH_SIZE']}, "
        f"DRAIN_TIME_BUDGET_SECONDS={settings.EVENTS['DRAIN_TIME_BUDGET_SECONDS']}\n"
        f"publish: {args.publish_count} commits per variant in {args.rounds} rounds; "
        f"drain: {args.events} events, {args.tenants} tenants x {args.aggregates} aggregates; "
        f"latency: {args.rate:g}/s for {args.seconds:g} s\n"
    )


def main() -> None:
    args = parse_args()
    print_environment(args)
    others = other_workers()
    if others:
        raise SystemExit(f"other Celery workers are consuming the queue: {others}; stop them first")
    report = Report()
    tenants = ensure_tenants(args.tenants)
    bench_schemas = list(
        dict.fromkeys(
            [PUBLISH_TENANT, *(t.schema_name for t in publisher_tenants(args.publishers))]
            + [t.schema_name for t in tenants]
        )
    )
    delete_bench_events(bench_schemas)
    handled = drain_everything_pending()
    if handled:
        log(f"relayed {handled} events that were pending before the benchmark")
    with tempfile.TemporaryDirectory(prefix="bench-outbox-") as log_dir:
        worker = Worker(args.concurrency, Path(log_dir))
        try:
            if "publish" in args.parts:
                run_publish(args, report)
            if "drain" in args.parts:
                run_drain(args, tenants, worker, report)
            if "projections" in args.parts:
                run_projections(args, tenants, worker, report)
            if "latency" in args.parts:
                run_latency(args, worker, report)
        except BaseException:
            log(f"worker log (tail):\n{worker.tail()}")
            raise
        finally:
            worker.stop()
            connection.set_schema_to_public()
            left = delete_bench_events(bench_schemas)
            rds().delete(HANDLED_KEY)
            vacuum_outbox()
            log(f"cleaned up: {left} bench outbox rows deleted")
    log("")
    report.print()


if __name__ == "__main__":
    main()
