"""Faults the platform must survive: Redis away, PostgreSQL restarted, receivers that fail.

The scenarios of ``bench/chaos.py --scenario redis|postgres|receivers``. Each prints its
figures, then one PASS or FAIL line per requirement. They run against servers of their
own (``bench/private_servers.py``): a private Redis always (stopped and started at
will), and for ``postgres`` a private PostgreSQL cluster, migrated for the run.

Writers commit one event per transaction (an UPDATE of the tenant administrator's
name and ``publish()``, as a service does) at a steady rate shared by one thread per
tenant; a failed commit is counted and the schedule goes on. Exactly-once is checked
against the database afterwards: every event a writer saw committed is in the outbox
and dispatched, each event's ledger row names the projection once (none missing, none
twice), and the projection shows each aggregate's last version.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test import Client, RequestFactory
from django_tenants.utils import schema_context, tenant_context

from apps.core import health
from apps.events.backpressure import check_backpressure
from apps.events.errors import Backpressure
from apps.events.publisher import publish
from apps.events.services import events_replay
from apps.tenancy.models import Tenant
from apps.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from bench.outbox import (
    HANDLED_KEY,
    PROJECTION_HANDLER,
    BenchPinged,
    BenchTouched,
    Worker,
    delete_bench_events,
    drain_everything_pending,
    ensure_tenants,
    insert_backlog,
    kick_tasks,
    log,
    quantile,
    rds,
    reset_bench_schemas,
    scalar,
    sql,
    vacuum_outbox,
    verify_drain,
)
from bench.private_servers import PrivatePostgres, PrivateRedis
from bench.report import machine

# -- verdicts ----------------------------------------------------------------------------


@dataclass
class Verdicts:
    """One PASS or FAIL line per requirement, printed as it is decided and again at the end."""

    lines: list[str] = field(default_factory=list)
    failed: int = 0

    def check(self, requirement: str, ok: bool, figures: str) -> None:
        line = f"{'PASS' if ok else 'FAIL'}  {requirement}: {figures}"
        self.failed += not ok
        self.lines.append(line)
        log(line)

    def print(self) -> None:
        log("")
        for line in self.lines:
            log(line)


def ms(values: list[float]) -> str:
    if not values:
        return "no samples"
    return (
        f"p50 {quantile(values, 0.5) * 1000:.0f} ms, p99 {quantile(values, 0.99) * 1000:.0f} ms, "
        f"max {max(values) * 1000:.0f} ms (n={len(values)})"
    )


def db_clock() -> float:
    return scalar("SELECT extract(epoch FROM clock_timestamp())::float8")


def reconnect() -> None:
    """This thread's connection, after the server went away under it, made anew."""
    with contextlib.suppress(Exception):
        connection.close()


def wait_for(condition: Callable[[], bool], timeout: float, step: float = 0.1) -> float | None:
    """Seconds until ``condition()`` held (database errors count as not yet), None on timeout."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            if condition():
                return time.monotonic() - started
        except DatabaseError:
            reconnect()
        time.sleep(step)
    return None


# -- writers -----------------------------------------------------------------------------


@dataclass
class WriterThread:
    tenant: Tenant
    index: int
    step: int
    rate: float
    event: str
    aggregates: int
    stop: threading.Event
    started: float = 0.0
    committed: dict[str, float] = field(default_factory=dict)  # event id -> time after COMMIT
    commit_seconds: list[float] = field(default_factory=list)
    failures: Counter = field(default_factory=Counter)
    late: int = 0
    error: BaseException | None = None

    def run(self) -> None:
        try:
            self._run()
        except BaseException as error:  # reported by the caller
            self.error = error
        finally:
            reconnect()

    def _run(self) -> None:
        users = get_user_model().objects
        with tenant_context(self.tenant):
            admin_pk = (
                users.filter(is_superuser=True).order_by("pk").values_list("pk", flat=True)[0]
            )
            target = users.filter(pk=admin_pk)
            n = 0
            for seq in range(self.index, 10**9, self.step):
                if self.stop.is_set():
                    return
                pause = self.started + seq / self.rate - time.perf_counter()
                if pause > 0:
                    time.sleep(pause)
                elif pause < -0.005:
                    self.late += 1
                if self.event == "touched":
                    event = BenchTouched(
                        item_id=n % self.aggregates, version=n // self.aggregates + 1, note="w"
                    )
                else:
                    event = BenchPinged(item_id=n % 1000, seq=seq)
                n += 1
                begun = time.perf_counter()
                try:
                    with transaction.atomic():
                        target.update(first_name=f"w{seq % 1000}")
                        row = publish(event)
                except DatabaseError as error:
                    self.failures[type(error).__name__] += 1
                    reconnect()
                    continue
                self.committed[str(row.event_id)] = time.time()
                self.commit_seconds.append(time.perf_counter() - begun)


class Writers:
    """``rate`` events/s in total, one thread per tenant sharing the schedule."""

    def __init__(self, tenants: list[Tenant], rate: float, *, event: str, aggregates: int = 100):
        self.stop_flag = threading.Event()
        self.loops = [
            WriterThread(t, i, len(tenants), rate, event, aggregates, self.stop_flag)
            for i, t in enumerate(tenants)
        ]
        self.threads: list[threading.Thread] = []
        self.started = self.stopped = 0.0

    def start(self) -> None:
        self.started = time.perf_counter() + 0.05
        for loop in self.loops:
            loop.started = self.started
            thread = threading.Thread(target=loop.run, name=f"writer-{loop.index}", daemon=True)
            self.threads.append(thread)
            thread.start()

    def stop(self) -> None:
        self.stop_flag.set()
        for thread in self.threads:
            thread.join(timeout=30)
        self.stopped = self.stopped or time.perf_counter()
        for loop in self.loops:
            if loop.error is not None:
                raise loop.error

    @property
    def committed(self) -> dict[str, float]:
        return {key: at for loop in self.loops for key, at in loop.committed.items()}

    @property
    def failures(self) -> Counter:
        total: Counter = Counter()
        for loop in self.loops:
            total.update(loop.failures)
        return total

    def summary(self) -> str:
        seconds = (self.stopped or time.perf_counter()) - self.started
        committed = len(self.committed)
        commit = [s for loop in self.loops for s in loop.commit_seconds]
        failures = self.failures
        late = sum(loop.late for loop in self.loops)
        return (
            f"{committed:,} commits in {seconds:.1f} s ({committed / seconds:.0f}/s), "
            f"{sum(failures.values()):,} failed{f' {dict(failures)}' if failures else ''}, "
            f"{late} sent late; "
            f"commit {ms(commit)}"
        )


# -- exactly once --------------------------------------------------------------------------


def verify_exactly_once(tenants: list[Tenant], committed: set[str]) -> tuple[bool, str]:
    """Every committed event dispatched once: in the outbox, one ledger row, projection current."""
    rows = sql(
        "SELECT event_id::text, schema_name, status, aggregate_id, aggregate_version "
        "FROM public.events_outbox WHERE event_type = %s",
        [BenchTouched.event_type],
    )
    in_outbox = {row[0] for row in rows}
    statuses = Counter(row[2] for row in rows)
    lost = len(committed - in_outbox)
    in_doubt = len(in_outbox - committed)  # committed, though the writer saw an error
    missing = doubled = stale = 0
    for tenant in tenants:
        quoted = connection.ops.quote_name(tenant.schema_name)
        mine = [row for row in rows if row[1] == tenant.schema_name]
        ledger = dict(
            sql(
                f"SELECT p.event_id::text, count(*) FROM {quoted}.events_processed p, "  # noqa: S608
                "unnest(p.handlers) AS h(name) WHERE h.name = %s "
                "AND p.event_id = ANY(%s::uuid[]) GROUP BY 1",
                [PROJECTION_HANDLER, [row[0] for row in mine]],
            )
        )
        missing += sum(1 for row in mine if row[0] not in ledger)
        doubled += sum(1 for count in ledger.values() if count > 1)
        last: dict[str, int] = {}
        for row in mine:
            last[row[3]] = max(last.get(row[3], 0), row[4])
        shown = dict(
            sql(
                f"SELECT aggregate_id, source_version FROM {quoted}.index_aggregate_activity "  # noqa: S608
                "WHERE aggregate_type = 'bench_item'"
            )
        )
        stale += sum(1 for aggregate, version in last.items() if shown.get(aggregate) != version)
    pending = len(rows) - statuses.get("dispatched", 0)
    ok = not (lost or missing or doubled or stale or pending)
    return ok, (
        f"{len(committed):,} committed as seen by the writers, {in_doubt} more committed though "
        f"the writer saw an error; {lost} lost, {pending} not dispatched {dict(statuses)}, "
        f"{missing} not in the ledger, {doubled} in it twice, {stale} aggregates not at their "
        f"last version"
    )


def pending_bench(up_to_position: int | None = None) -> int:
    query = "SELECT count(*) FROM public.events_outbox WHERE status = 'pending' AND event_type = %s"
    params: list = [BenchTouched.event_type]
    if up_to_position is not None:
        query += " AND position <= %s"
        params.append(up_to_position)
    return scalar(query, params)


def last_position() -> int:
    return scalar("SELECT coalesce(max(position), 0) FROM public.events_outbox")


def first_dispatch_after(moment: float) -> float | None:
    """Seconds from ``moment`` (database clock) to the first acknowledgement after it."""
    return scalar(
        "SELECT extract(epoch FROM min(dispatched_at))::float8 - %s FROM public.events_outbox "
        "WHERE event_type = %s AND dispatched_at >= to_timestamp(%s)",
        [moment, BenchTouched.event_type, moment],
    )


def fresh_start(tenants: list[Tenant]) -> None:
    """No bench event, ledger row or projection row left; what else was pending relayed first
    (new tenants' own events), so that its ledger rows do not count."""
    drain_everything_pending()
    delete_bench_events([t.schema_name for t in tenants])
    reset_bench_schemas(tenants)
    vacuum_outbox()


def readiness() -> tuple[int, str, str]:
    """/health/ready as a load balancer sees it: (HTTP status, overall, Redis's check)."""
    response = health.ready(RequestFactory().get("/health/ready"))
    body = json.loads(response.content)
    return response.status_code, body["status"], body["checks"]["redis"]["status"]


# -- 1. Redis away -------------------------------------------------------------------------


def scenario_redis(args: argparse.Namespace, redis_server: PrivateRedis, log_dir: Path) -> Verdicts:
    verdicts = Verdicts()
    tenants = ensure_tenants(args.tenants)
    fresh_start(tenants)
    log(machine(f"private Redis {redis_server.url}, writers at {args.rate:g} events/s"))
    worker = Worker(args.concurrency, log_dir, beat=True)
    writers = Writers(tenants, args.rate, event="touched")
    try:
        worker.start()
        worker.wait_idle(rds())
        before = readiness()
        writers.start()
        time.sleep(args.warmup)
        log(f"Redis stopped for {args.outage:g} s ({pending_bench()} pending)")
        redis_server.stop()
        down = time.monotonic()
        polls: list[tuple[int, str, str]] = []
        backlog_max = refused = 0
        while time.monotonic() - down < args.outage:
            polls.append(readiness())
            backlog_max = max(backlog_max, pending_bench())
            try:
                check_backpressure()
            except Backpressure:
                refused += 1
            time.sleep(0.5)
        watermark = last_position()
        redis_server.start()
        back_db = db_clock()
        log(f"Redis back; {pending_bench():,} events pending")
        caught_up = wait_for(lambda: pending_bench(watermark) == 0, args.catch_up_timeout)
        first = first_dispatch_after(back_db)
        ready_again = wait_for(lambda: readiness()[2] == "ok", 30)
        time.sleep(args.after)
        writers.stop()
        log(f"writers: {writers.summary()}")
        settled = wait_for(lambda: pending_bench() == 0, args.catch_up_timeout)
        ok, summary = verify_exactly_once(tenants, set(writers.committed))
    except BaseException:
        writers.stop_flag.set()
        log(f"worker log (tail):\n{worker.tail()}")
        raise
    finally:
        worker.stop()
    high_water = settings.EVENTS["BACKLOG_HIGH_WATER"]
    failures = sum(writers.failures.values())
    verdicts.check(
        f"no write fails while Redis is away ({args.rate:g} events/s for {args.outage:g} s)",
        failures == 0 and not writers.loops[0].error,
        f"{writers.summary()}; backlog peaked at {backlog_max:,} (high-water {high_water:,}), "
        f"the backpressure check refused {refused} of {len(polls)} probes",
    )
    degraded = sum(
        1
        for status, overall, redis in polls
        if (status, overall, redis) == (200, "degraded", "fail")
    )
    verdicts.check(
        "readiness shows Redis down and the platform degraded (200) during the outage",
        before[2] == "ok" and polls and degraded == len(polls) and ready_again is not None,
        f"before: {before}; during: {degraded} of {len(polls)} probes degraded/redis fail; "
        f"Redis ok again {ready_again if ready_again is None else f'{ready_again:.1f} s'} after "
        "it returned (the overall status also counts the other checks: the card gateway is "
        "not running in this bench)",
    )
    verdicts.check(
        "no event lost or doubled",
        ok and settled is not None,
        summary,
    )
    verdicts.check(
        "the relay catches up within 30 s of Redis returning",
        caught_up is not None and caught_up <= 30,
        f"every event committed during the outage dispatched "
        f"{'never' if caught_up is None else f'{caught_up:.1f} s'} after Redis returned; first "
        f"acknowledgement {'-' if first is None else f'{first:.1f} s'} after",
    )
    delete_bench_events([t.schema_name for t in tenants])
    return verdicts


# -- 2. PostgreSQL restarted ---------------------------------------------------------------


@dataclass
class Probe:
    at: float
    path: str
    status: int
    retry_after: str | None
    traceback: bool


class WebProbe:
    """Requests through the whole middleware stack (a logged-in editor's admin page, the API,
    the readiness probe) every ``interval`` seconds, in a thread of its own."""

    PATHS = ("/admin/", "/api/v1/nodes/", "/health/ready")

    def __init__(self, tenant: Tenant, interval: float = 0.1) -> None:
        self.tenant = tenant
        self.interval = interval
        self.probes: list[Probe] = []
        self.stop_flag = threading.Event()
        self.client = Client(
            HTTP_HOST=f"{tenant.slug}.{settings.TENANT_BASE_DOMAIN}", raise_request_exception=False
        )
        self.thread = threading.Thread(target=self._run, name="web-probe", daemon=True)

    def start(self) -> None:
        with schema_context(self.tenant.schema_name):
            admin = get_user_model().objects.filter(is_superuser=True).order_by("pk").first()
            self.client.force_login(admin)
        self.thread.start()

    def _run(self) -> None:
        try:
            while not self.stop_flag.is_set():
                for path in self.PATHS:
                    response = self.client.get(path)
                    body = response.content
                    self.probes.append(
                        Probe(
                            time.monotonic(), path, response.status_code,
                            response.get("Retry-After"), b"Traceback" in body,
                        )
                    )  # fmt: skip
                time.sleep(self.interval)
        finally:
            reconnect()

    def stop(self) -> None:
        self.stop_flag.set()
        self.thread.join(timeout=30)

    def during(self, windows: list[tuple[float, float]]) -> list[Probe]:
        return [p for p in self.probes if any(a <= p.at <= b for a, b in windows)]


def restart(postgres: PrivatePostgres, down_seconds: float) -> tuple[float, float, float]:
    """Stop the server (fast shutdown: every session ends), wait, start it; returns the
    monotonic times it went down and came back, and the database clock at its return."""
    postgres.stop("fast")
    down = time.monotonic()
    reconnect()
    time.sleep(down_seconds)
    postgres.start()
    back = time.monotonic()
    reconnect()
    return down, back, db_clock()


def scenario_postgres(
    args: argparse.Namespace, postgres: PrivatePostgres, redis_server: PrivateRedis, log_dir: Path
) -> Verdicts:
    verdicts = Verdicts()
    # Each 503 is logged twice (the middleware, django.request): the probe's tally is enough.
    for name in ("django.request", "apps.core.unavailable"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    started = time.monotonic()
    call_command("migrate_schemas", interactive=False, verbosity=0)
    tenants = ensure_tenants(args.tenants)
    log(
        f"private PostgreSQL migrated, {len(tenants)} tenants made in {time.monotonic() - started:.0f} s"
    )
    log(machine(f"private PostgreSQL and Redis, writers at {args.rate:g} events/s"))
    fresh_start(tenants)
    worker = Worker(args.concurrency, log_dir, beat=True)
    probe = WebProbe(tenants[0])
    windows: list[tuple[float, float]] = []
    try:
        worker.start()
        worker.wait_idle(rds())
        probe.start()

        # a) during a drain: a backlog, the server restarted when a fifth of it is done
        insert_backlog(tenants, args.events, args.aggregates)
        sql("ANALYZE public.events_outbox")
        kick_tasks(args.concurrency)()
        wait_for(lambda: pending_bench() <= args.events * 0.8, 120, step=0.02)
        left = pending_bench()
        down, back, back_db = restart(postgres, args.down)
        windows.append((down, back))
        log(
            f"restart during a drain: down {back - down:.1f} s with {left:,} of {args.events:,} pending"
        )
        wait_for(lambda: first_dispatch_after(back_db) is not None, 60, step=0.05)
        resumed_drain = first_dispatch_after(back_db)
        drained = wait_for(lambda: pending_bench() == 0, args.catch_up_timeout)
        try:
            drain_verified = verify_drain(tenants, args.events, args.aggregates)
            drain_ok = drained is not None
        except SystemExit as failure:
            drain_verified, drain_ok = str(failure), False
        log(f"  {drain_verified}")
        fresh_start(tenants)

        # b) during writes
        writers = Writers(tenants, args.rate, event="touched")
        writers.start()
        time.sleep(args.warmup)
        down, back, back_db = restart(postgres, args.down)
        windows.append((down, back))
        log(f"restart during writes: down {back - down:.1f} s")
        wait_for(lambda: first_dispatch_after(back_db) is not None, 60, step=0.05)
        resumed_writes = first_dispatch_after(back_db)
        time.sleep(args.after)
        writers.stop()
        log(f"writers: {writers.summary()}")
        settled = wait_for(lambda: pending_bench() == 0, args.catch_up_timeout)
        writes_ok, writes_summary = verify_exactly_once(tenants, set(writers.committed))
    except BaseException:
        log(f"worker log (tail):\n{worker.tail()}")
        raise
    finally:
        probe.stop()
        worker.stop()

    outage = probe.during(windows)
    pages = [p for p in outage if p.path != "/health/ready"]
    by_status = Counter((p.path, p.status) for p in outage)
    errors = [p for p in probe.probes if p.status >= 500 and p.status != 503]
    # The readiness probe is for load balancers: its 503 carries no Retry-After.
    bare_503 = [p for p in probe.probes if p.status == 503 and not p.retry_after and p in pages]
    tracebacks = [p for p in probe.probes if p.traceback]
    verdicts.check(
        "web answers 503 with Retry-After while PostgreSQL is down, never a 500 or a traceback",
        bool(pages) and all(p.status == 503 for p in pages) and not errors and not bare_503
        and not tracebacks,
        f"{len(probe.probes)} requests in all, {len(outage)} during the outages: "
        f"{dict(sorted(by_status.items()))}; {len(errors)} 5xx other than 503 in the whole run, "
        f"{len(bare_503)} 503 without Retry-After, {len(tracebacks)} tracebacks (DEBUG={settings.DEBUG})",
    )  # fmt: skip
    for label, first in (("during a drain", resumed_drain), ("during writes", resumed_writes)):
        verdicts.check(
            f"the relay resumes within 10 s of the database returning ({label})",
            first is not None and first <= 10,
            f"first acknowledgement {'never' if first is None else f'{first:.1f} s'} after the "
            f"server was back (down {args.down:g} s)",
        )
    verdicts.check("nothing lost or doubled (restart during a drain)", drain_ok, drain_verified)
    verdicts.check(
        "nothing lost or doubled (restart during writes)", writes_ok and settled is not None,
        writes_summary,
    )  # fmt: skip
    return verdicts


# -- 3. receivers and the payment gateway failing -------------------------------------------


class FaultyServer:
    """A local HTTP server whose answer per path prefix the bench chooses: ``ok`` (``on_ok``
    answers), ``500``, or ``hang`` (no answer for ``hang_seconds``, then the connection is
    closed)."""

    def __init__(self, on_ok: Callable[[str, dict, bytes], tuple[int, bytes]], hang_seconds: float):
        self.modes: dict[str, str] = {}
        self.hits: Counter = Counter()
        self.hang_seconds = hang_seconds
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                prefix = "/".join(self.path.split("/")[:3])
                server.hits[prefix] += 1
                mode = server.modes.get(prefix, "ok")
                if mode == "hang":
                    time.sleep(server.hang_seconds)
                    self.close_connection = True
                    return
                status, answer = (
                    (500, b"{}") if mode == "500" else on_ok(self.path, dict(self.headers), body)
                )
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@dataclass
class Receipts:
    """What the webhook receiver took (2xx): (tenant slug, event id) -> times received."""

    received: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, path: str, headers: dict, body: bytes) -> tuple[int, bytes]:
        slug = path.rstrip("/").split("/")[-1]
        event_id = json.loads(body)["id"]
        with self.lock:
            self.received.setdefault((slug, event_id), []).append(time.time())
        return 204, b""


def pending_pinged() -> int:
    return scalar(
        "SELECT count(*) FROM public.events_outbox WHERE status = 'pending' AND event_type = %s",
        [BenchPinged.event_type],
    )


def webhook_statuses(tenant: Tenant) -> Counter:
    with schema_context(tenant.schema_name):
        return Counter(WebhookDelivery.objects.values_list("status", flat=True))


def wipe_webhooks(tenants: list[Tenant]) -> None:
    for tenant in tenants:
        with schema_context(tenant.schema_name):
            WebhookAttempt.objects.all().delete()
            WebhookDelivery.objects.all().delete()
            WebhookEndpoint.objects.all().delete()


def relay_latency(committed: dict[str, float], handled: dict[str, float], window) -> list[float]:
    a, b = window
    return [handled[e] - at for e, at in committed.items() if a <= at <= b and e in handled]


def webhook_latency(
    slug: str, committed: dict[str, float], receipts: Receipts, window
) -> list[float]:
    a, b = window
    return [
        min(receipts.received[(slug, e)]) - at
        for e, at in committed.items()
        if a <= at <= b and (slug, e) in receipts.received
    ]


def charge(provider, reference: str, card: str = "4242424242424242"):
    from apps.commerce.payments.base import ChargeRequest, clean_card

    started = time.perf_counter()
    result = provider.charge(
        ChargeRequest(
            reference=reference, amount=Decimal("12.50"), currency="EUR",
            idempotency_key=f"bench-{reference}",
            card=clean_card({"number": card, "exp_month": 12, "exp_year": 2099, "cvc": "123"}),
        )
    )  # fmt: skip
    return result, time.perf_counter() - started


def scenario_receivers(args: argparse.Namespace, log_dir: Path) -> Verdicts:
    from apps.commerce.payments import fake_gateway
    from apps.commerce.payments.test_card import BREAKER, TestCardProvider
    from apps.core.breakers import all_breakers
    from apps.webhooks.services import delivery_redeliver, endpoint_create, endpoint_enable

    verdicts = Verdicts()
    if args.tenants < 3:
        raise SystemExit("the receivers scenario needs at least 3 tenants")
    tenants = ensure_tenants(args.tenants)
    failing, hanging, healthy = tenants[0], tenants[1], tenants[2:]
    fresh_start(tenants)
    wipe_webhooks(tenants)
    receipts = Receipts()
    receiver = FaultyServer(receipts.take, hang_seconds=args.hang)
    for tenant in tenants:
        with tenant_context(tenant):
            endpoint_create(url=f"{receiver.url}/hooks/{tenant.slug}", event_types=["bench.*"])

    gateway, _ = fake_gateway.start()
    gateway_url = f"http://127.0.0.1:{gateway.server_address[1]}"

    def forward(path: str, headers: dict, body: bytes) -> tuple[int, bytes]:
        answer = requests.post(
            gateway_url + path[len("/gw") :], data=body, timeout=10,
            headers={"Content-Type": "application/json", "Idempotency-Key": headers.get("Idempotency-Key", "")},
        )  # fmt: skip
        return answer.status_code, answer.content

    proxy = FaultyServer(forward, hang_seconds=args.hang)
    settings.TEST_CARD_GATEWAY_URL = f"{proxy.url}/gw"
    settings.TEST_CARD_GATEWAY_TIMEOUT = args.gateway_timeout
    settings.TEST_CARD_BREAKER_RESET_SECONDS = args.breaker_reset
    all_breakers().pop(BREAKER, None)
    card_provider = TestCardProvider()

    webhook_env = {
        "WEBHOOKS_READ_TIMEOUT_SECONDS": str(args.webhook_timeout),
        "WEBHOOKS_CONNECT_TIMEOUT_SECONDS": "1",
        "WEBHOOKS_BREAKER_FAILURES": str(args.breaker_failures),
    }
    relay_worker = Worker(args.concurrency, log_dir, beat=True, extra_env=webhook_env)
    webhook_worker = Worker(4, log_dir, queues="webhooks", extra_env=webhook_env)
    client = rds()
    client.delete(HANDLED_KEY)
    writers = Writers(tenants, args.rate, event="pinged")
    log(machine(
        f"private Redis; writers at {args.rate:g} events/s over {len(tenants)} tenants; "
        f"webhook worker -Q webhooks --concurrency 4, read timeout {args.webhook_timeout:g} s, "
        f"breaker after {args.breaker_failures} failures"
    ))  # fmt: skip
    phases: dict[str, tuple[float, float]] = {}
    gateway_log: dict[str, list] = {}
    try:
        relay_worker.start()
        webhook_worker.start()
        relay_worker.wait_idle(client)
        writers.start()
        t0 = time.time()
        time.sleep(args.phase)
        phases["baseline"] = (t0, time.time())

        # the faults: one tenant's receiver answers 500, another's hangs; the gateway both
        receiver.modes[f"/hooks/{failing.slug}"] = "500"
        receiver.modes[f"/hooks/{hanging.slug}"] = "hang"
        t1 = time.time()
        for mode in ("500", "hang"):
            proxy.modes["/gw/v1"] = mode
            hits_before = proxy.hits["/gw/v1"]
            calls = [charge(card_provider, f"{mode}-{n}") for n in range(args.charges)]
            gateway_log[mode] = [calls, proxy.hits["/gw/v1"] - hits_before]
            time.sleep(args.breaker_reset + 0.5)  # the breaker lets a trial call through again
        remaining = args.phase * 2 - (time.time() - t1)
        if remaining > 0:
            time.sleep(remaining)
        phases["faults"] = (t1, time.time())

        # they recover; the operator enables the two endpoints and sends again what failed
        # (what is still pending follows its retry schedule)
        receiver.modes.clear()
        proxy.modes.clear()
        t2 = time.time()
        time.sleep(args.breaker_reset + 0.5)
        retried = [
            charge(card_provider, f"{mode}-{n}")
            for mode in ("500", "hang")
            for n in range(args.charges)
        ]
        time.sleep(max(0.0, args.phase - (time.time() - t2)))
        writers.stop()
        phases["healed"] = (t2, time.time())
        log(f"writers: {writers.summary()}")
        # The runbook's steps: enable the endpoint, deliver again what failed, and replay the
        # events of the time it was off (they made no delivery) through webhooks.deliveries
        # (one delivery per endpoint and event: what exists is not made twice).
        disabled = {}
        replayed = requeued = 0
        for tenant in (failing, hanging):
            with tenant_context(tenant):
                endpoint = WebhookEndpoint.objects.get()
                disabled[tenant.slug] = (endpoint.is_active, endpoint.disabled_reason)
                off_since = endpoint.disabled_at
                if not endpoint.is_active:
                    endpoint_enable(endpoint_id=endpoint.pk)
                failed = list(
                    endpoint.deliveries.filter(status="failed").values_list("pk", flat=True)
                )
                for delivery_id in failed:
                    delivery_redeliver(delivery_id=delivery_id)
                replayed += len(failed)
            if off_since is not None:
                requeued += events_replay(
                    tenant_id=tenant.pk, since=off_since - timedelta(seconds=1),
                    handler="webhooks.deliveries",
                )  # fmt: skip

        def all_delivered() -> bool:
            statuses: Counter = Counter()
            for tenant in tenants:
                statuses.update(webhook_statuses(tenant))
            return (
                statuses["delivered"] >= len(writers.committed)
                and set(statuses) == {"delivered"}
                and pending_pinged() == 0
            )

        delivered_in = wait_for(all_delivered, args.catch_up_timeout, step=0.5)
        log(f"{replayed} failed deliveries sent again, {requeued} events replayed: all delivered "
            f"{'never' if delivered_in is None else f'in {delivered_in:.1f} s'}")  # fmt: skip
    except BaseException:
        writers.stop_flag.set()
        log(f"relay worker log (tail):\n{relay_worker.tail()}")
        log(f"webhook worker log (tail):\n{webhook_worker.tail()}")
        raise
    finally:
        relay_worker.stop()
        webhook_worker.stop()
        receiver.close()
        proxy.close()
        gateway.shutdown()

    handled = {k.decode(): float(v) for k, v in client.hgetall(HANDLED_KEY).items()}
    client.delete(HANDLED_KEY)
    per_tenant = {loop.tenant.slug: loop.committed for loop in writers.loops}
    healthy_committed = {e: at for t in healthy for e, at in per_tenant[t.slug].items()}
    for name, window in phases.items():
        relay = relay_latency(healthy_committed, handled, window)
        hooks = [
            x
            for t in healthy
            for x in webhook_latency(t.slug, per_tenant[t.slug], receipts, window)
        ]
        log(
            f"{name:<9} healthy tenants: commit -> handled {ms(relay)}; commit -> webhook received {ms(hooks)}"
        )
    base_relay = relay_latency(healthy_committed, handled, phases["baseline"])
    fault_relay = relay_latency(healthy_committed, handled, phases["faults"])
    base_hooks = [
        x
        for t in healthy
        for x in webhook_latency(t.slug, per_tenant[t.slug], receipts, phases["baseline"])
    ]
    fault_hooks = [
        x
        for t in healthy
        for x in webhook_latency(t.slug, per_tenant[t.slug], receipts, phases["faults"])
    ]

    verdicts.check(
        "the webhook breakers open (endpoints of the failing and the hanging receiver disabled)",
        all(not active for active, _ in disabled.values()),
        "; ".join(f"{slug}: {'disabled: ' + reason if not active else 'still active'}" for slug, (active, reason) in disabled.items()),
    )  # fmt: skip
    fail_max = settings.TEST_CARD_BREAKER_FAIL_MAX
    gateway_figures = []
    gateway_ok = True
    for mode, (calls, hits) in gateway_log.items():
        fast = [seconds for result, seconds in calls[fail_max:]]
        gateway_figures.append(
            f"{mode}: {len(calls)} charges, {hits} reached the gateway, the rest refused by the "
            f"open breaker in {ms(fast)}"
        )
        gateway_ok &= hits <= fail_max and all(r.outcome == "failed" for r, _ in calls)
        gateway_ok &= bool(fast) and max(fast) < 0.05
    verdicts.check(
        "the payment gateway's breaker opens (500 and hang) and later charges fail fast",
        gateway_ok, "; ".join(gateway_figures),
    )  # fmt: skip
    p99_base, p99_fault = quantile(base_relay, 0.99), quantile(fault_relay, 0.99)
    verdicts.check(
        "other tenants' events are not delayed (relay commit -> handled p99 within 2x the baseline + 50 ms)",
        bool(fault_relay) and p99_fault <= 2 * p99_base + 0.05,
        f"baseline {ms(base_relay)}; during the faults {ms(fault_relay)}",
    )  # fmt: skip
    hook_base, hook_fault = quantile(base_hooks, 0.99), quantile(fault_hooks, 0.99)
    verdicts.check(
        "other tenants' webhooks are not delayed (p99 within 2x the baseline + 250 ms)",
        bool(fault_hooks) and hook_fault <= 2 * hook_base + 0.25,
        f"baseline {ms(base_hooks)}; during the faults {ms(fault_hooks)}",
    )  # fmt: skip
    expected = {(loop.tenant.slug, e) for loop in writers.loops for e in loop.committed}
    got = set(receipts.received)
    doubled = sum(1 for key in expected if len(receipts.received.get(key, [])) > 1)
    verdicts.check(
        "everything is delivered once they recover",
        delivered_in is not None and expected <= got,
        f"{len(expected):,} events x 1 endpoint each; {len(expected & got):,} received, "
        f"{len(expected - got)} missing, {doubled} received twice (at-least-once; receivers dedupe "
        f"on webhook-id), {replayed} failed deliveries sent again and {requeued} events of the endpoints' off time "
        f"replayed by the operator",
    )
    charged = {
        ref: gateway.gateway.charges_for(ref)
        for ref in (f"{m}-{n}" for m in ("500", "hang") for n in range(args.charges))
    }
    verdicts.check(
        "every charge goes through once the gateway recovers, none twice",
        all(r.outcome == "approved" for r, _ in retried) and all(len(c) == 1 for c in charged.values()),
        f"{sum(r.outcome == 'approved' for r, _ in retried)} of {len(retried)} retried charges approved "
        f"(same idempotency keys); charges per reference: {Counter(len(c) for c in charged.values())}",
    )  # fmt: skip
    wipe_webhooks(tenants)
    delete_bench_events([t.schema_name for t in tenants])
    return verdicts
