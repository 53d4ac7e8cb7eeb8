"""What the integrators' features cost: the webhooks subscriber in the relay, the event feed's
page, and the API's idempotency keys, ETags and cursors, each beside a run without it.

**1. Relay drain with the webhooks subscriber.** A backlog of ``--events`` pending
``bench.outbox.touched`` events (``bench/outbox_events.py``) of tenant ``intbench-01`` over
``--aggregates`` aggregates is inserted in one statement into an outbox vacuumed first, then
analyzed, and drained by ``relay.drain()`` in this process; events/s is the backlog over the
drain's wall time. The event's subscribers are the ``AggregateActivity`` projection and
``webhooks.deliveries`` (both take every type). Four variants, interleaved in ``--rounds``
rounds:

- **baseline**: ``webhooks.deliveries`` unsubscribed in this process only (the registry's entry
  is taken out for the run and put back);
- **baseline + a no-op subscriber**: in its place, a subscriber of every type that does
  nothing: what the relay pays for any subscriber (a ledger row per event, the call);
- **no endpoint**: the tenant has no webhook endpoint (the subscriber reads the active
  endpoints, finds none);
- **one endpoint**: one active endpoint wanting ``*`` (created for the run, deleted after):
  every event writes one ``WebhookDelivery`` and, on the relay's commit, enqueues one
  ``webhooks.deliver`` task in the broker. No webhook worker runs, so nothing is sent; the
  tasks the run added are removed from the head of the broker's ``webhooks`` list afterwards.

After each drain every event must be dispatched, with one ledger row per event and
subscriber, one delivery per event (or none), and as many tasks enqueued as deliveries
written. Beside the rate, the CPU time per event of this process and of its PostgreSQL backend
(``/proc``: the server runs on this host), which other load on the machine inflates far less.

**2. The event feed's page.** ``--feed-events`` events of ``--feed-tenants`` tenants
(``intbench-01`` ...), interleaved in position order, are inserted as dispatched rows in
transactions of 1,000, then analyzed. Their feed clock is the inserting snapshot's xmin
rather than the column's default (its xmax), so the rows are final at once whatever other
sessions of the server hold open; order and indexes are those of real rows. A page of
``--limit`` events of ``intbench-01`` is read at the start of its feed, in the middle and at
its end (the last full page), three ways, interleaved in ``--rounds`` rounds of
``--reads`` reads each:

- ``selectors.feed_page`` (what ``GET /api/v1/events/`` calls: one query, then the events
  built with their JSON decoded);
- its SQL alone (``feed.FEED_SQL``, rows fetched, nothing built);
- **baseline**: ``WHERE tenant_id = %s AND position > %s ORDER BY position LIMIT %s`` with the
  same columns, rows fetched.

The three must return the same events. ``EXPLAIN (ANALYZE, BUFFERS)`` of the middle page shows
each query's plan, rows removed by filters and buffers.

**3. API requests** through Django's test ``Client`` in this process (every middleware, the
tenant resolved from the host), with a secret API key (``commerce:read``, ``commerce:write``)
of ``intbench-01``'s administrator, throttling limits set to 10^9 a minute (so throttling still
counts every request in Redis but never refuses). Two phases, each in ``--rounds`` rounds of
``--requests`` requests per scenario after 5 untimed ones:

- writes: a product create ``POST`` without ``Idempotency-Key``, with a new key, and the
  keyed ``POST`` replayed (same key, same body: the stored answer, ``Idempotent-Replayed``);
- reads, on a catalog of ``--products`` products (created once, kept; the first has a priced
  variant): one product's ``GET`` answering 200, the same with ``If-None-Match`` answering
  304, and a list page of 20 ordered by title in the middle and at the end of the catalog,
  by cursor and by the deprecated ``?page=``. Cursor and page must list the same products.

Queries per request are counted in one more untimed request per scenario, right after
another (so the backpressure check, made at most once a second, is not among them). Beside the
latencies: the CPU time per request of this process and of its PostgreSQL backend, and the full
(generation 2) garbage collections of this process that fell in the timed requests
(``gc.callbacks``), which make most of the p99 of a request that allocates a lot.

The tenants ``intbench-01`` ... are created once and kept. At the start and at the end the
script relays whatever is pending (start only), deletes the bench tenants' outbox rows and
their ledger, projection, delivery and endpoint rows, the stored idempotent answers, the
bench's API keys and the products its POSTs made. ``DEBUG`` is off while it measures.

    python bench/integrators.py [--events 3000] [--aggregates 100] [--feed-events 100000]
        [--feed-tenants 10] [--limit 100] [--reads 100] [--products 1000] [--requests 100]
        [--rounds 3] [--parts drain,feed,api]
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
# The benches' own events (the relay's backlog) are loaded with the apps.
from bench.start import with_bench_events  # noqa: E402

with_bench_events()

import django  # noqa: E402

django.setup()

import redis  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django_tenants.utils import schema_context  # noqa: E402
from uuid6 import uuid7  # noqa: E402

from apps.api.models import IdempotentResponse  # noqa: E402
from apps.commerce import services as commerce  # noqa: E402
from apps.commerce.models import Product  # noqa: E402
from apps.commerce.services import ProductInput, VariantInput  # noqa: E402
from apps.events import registry, relay, selectors  # noqa: E402
from apps.events.feed import FEED_SQL  # noqa: E402
from apps.index.models import AggregateActivity  # noqa: E402
from apps.people import services as people  # noqa: E402
from apps.people.models import ApiKey  # noqa: E402
from apps.tenancy.models import Tenant  # noqa: E402
from apps.tenancy.services import tenant_create  # noqa: E402
from apps.webhooks import services as webhooks  # noqa: E402
from apps.webhooks.handlers import make_deliveries  # noqa: E402
from apps.webhooks.models import WebhookDelivery, WebhookEndpoint  # noqa: E402
from bench.outbox_events import BenchTouched  # noqa: E402
from bench.report import log, machine, percentile, print_table, scalar, sql  # noqa: E402

TENANT_PREFIX = "intbench"
WEBHOOKS_SUBSCRIBER = "webhooks.deliveries"
WEBHOOKS_QUEUE = "webhooks"
NOOP_SUBSCRIBER = "bench.noop"
ENDPOINT_URL = "http://127.0.0.1:9/integrators-bench"  # never contacted: no webhook worker runs
ENDPOINT_DESCRIPTION = "integrators bench"
KEY_NAME = "Integrators bench"
CATALOG_TITLE = "Catalog item"
POSTED_TITLE = "Posted item"
PRODUCTS = "/api/v1/commerce/products/"
JSON = "application/json"
PAGE_SIZE = 20
WARMUP = 5
FEED_BATCH = 1000
NOTE = (
    "A note as long as a small product change's payload is: a title, a handle and a few "
    "changed field names, give or take"
)


def ms(seconds: float) -> str:
    return f"{1000 * seconds:.2f}"


# -- CPU time of this process and of its PostgreSQL backend ------------------------------------


def _backend_pid() -> int:
    return scalar("SELECT pg_backend_pid()")


def _backend_cpu(pid: int) -> float | None:
    """CPU seconds (user + system) of a PostgreSQL backend of this host; None if not here."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Cpu:
    """CPU seconds spent in timed blocks: this process and its database backend."""

    python: float = 0.0
    server: float | None = 0.0

    @contextlib.contextmanager
    def measure(self) -> Iterator[None]:
        pid = _backend_pid()  # a connection may have been reopened since the last block
        before, server_before = time.process_time(), _backend_cpu(pid)
        try:
            yield
        finally:
            self.python += time.process_time() - before
            server_after = _backend_cpu(pid)
            if self.server is None or server_before is None or server_after is None:
                self.server = None
            else:
                self.server += server_after - server_before

    def per(self, count: int, scale: float = 1000.0) -> tuple[str, str]:
        """(this process, PostgreSQL) CPU per operation, in ms (scale 1000) or µs (10^6)."""
        python = f"{scale * self.python / count:.2f}" if count else "-"
        server = "-" if self.server is None or not count else f"{scale * self.server / count:.2f}"
        return python, server


class FullCollections:
    """Full (generation 2) garbage collections of this process and the time they took."""

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0
        self._started = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.count += 1
            self.seconds += time.perf_counter() - self._started


COLLECTIONS = FullCollections()


# -- tenants and clean-up ----------------------------------------------------------------------


def ensure_tenants(count: int) -> list[Tenant]:
    """``intbench-01`` ... ``intbench-NN``, created on first use and kept."""
    tenants = []
    for number in range(1, count + 1):
        slug = f"{TENANT_PREFIX}-{number:02d}"
        tenant = Tenant.objects.filter(slug=slug).first()
        if tenant is None:
            created = tenant_create(
                slug=slug, name=f"Integrators bench {number:02d}", admin_email=f"admin@{slug}.test"
            )
            tenant = created.tenant
            log(f"created tenant {slug} in {created.seconds:.1f} s")
        tenants.append(tenant)
    return tenants


def bench_tenants() -> list[Tenant]:
    return list(Tenant.objects.filter(slug__startswith=f"{TENANT_PREFIX}-").order_by("slug"))


def drain_everything_pending() -> int:
    """Relay what is pending before the measurements (a new tenant's events, say)."""
    handled = 0
    for _ in range(1000):
        stats = relay.drain()
        handled += stats.handled
        if not stats.claimed:
            break
    return handled


def clean_drain_rows(tenant: Tenant) -> int:
    """The drain's traces in ``tenant``: its outbox rows, ledger, projection and deliveries."""
    with schema_context(tenant.schema_name):
        tables = [
            "events_processed",
            AggregateActivity._meta.db_table,
            WebhookDelivery._meta.db_table,
        ]
        sql(f"TRUNCATE {', '.join(tables)} CASCADE")
        WebhookEndpoint.objects.filter(description=ENDPOINT_DESCRIPTION).delete()
    return delete_outbox_rows([tenant])


def delete_outbox_rows(tenants: list[Tenant]) -> int:
    ids = [tenant.pk for tenant in tenants]
    with transaction.atomic():
        sql(
            "DELETE FROM public.events_delivery d USING public.events_outbox o "
            "WHERE d.event_id = o.position AND o.tenant_id = ANY(%s)",
            [ids],
        )
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM public.events_outbox WHERE tenant_id = ANY(%s)", [ids])
            return cursor.rowcount


def clean_api_rows(tenant: Tenant) -> None:
    with schema_context(tenant.schema_name):
        sql(f"TRUNCATE {IdempotentResponse._meta.db_table}")
        ApiKey.objects.filter(name=KEY_NAME).delete()
        Product.objects.filter(title__startswith=POSTED_TITLE).delete()


def clean_up(tenants: list[Tenant]) -> int:
    """Every trace of the bench in its tenants; how many outbox rows went."""
    deleted = sum(clean_drain_rows(tenant) for tenant in tenants)
    clean_api_rows(tenants[0])
    deleted += delete_outbox_rows(tenants)
    sql("VACUUM (ANALYZE) public.events_outbox, public.events_delivery")
    return deleted


# -- 1. the relay's drain with the webhooks subscriber -----------------------------------------

INSERT_BACKLOG_SQL = """
INSERT INTO public.events_outbox (
    event_id, event_type, schema_version, tenant_id, schema_name, actor,
    aggregate_type, aggregate_id, aggregate_version, correlation_id, causation_id,
    trace_context, occurred_at, payload, status, claims, lease_owner
)
SELECT t.event_id, %(event_type)s, 1, %(tenant_id)s, %(schema)s, NULL,
       'bench_item', ((t.ord - 1) %% %(aggregates)s)::text,
       (t.ord - 1) / %(aggregates)s + 1, 'bench-integrators', NULL, '{}'::jsonb,
       clock_timestamp(),
       jsonb_build_object(
           'item_id', (t.ord - 1) %% %(aggregates)s,
           'version', (t.ord - 1) / %(aggregates)s + 1,
           'note', 'backlog'
       ),
       'pending', 0, ''
FROM unnest(%(event_ids)s::uuid[]) WITH ORDINALITY AS t(event_id, ord)
ORDER BY t.ord
"""


@dataclass
class DrainVariant:
    label: str
    subscribed: bool
    endpoint: bool
    noop: bool = False  # a subscriber of every type that does nothing, in webhooks' place
    rates: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    cpu: Cpu = field(default_factory=Cpu)
    events: int = 0
    checks: list[str] = field(default_factory=list)


@contextlib.contextmanager
def without_subscriber(name: str) -> Iterator[None]:
    """``name`` out of the registry in this process only, put back afterwards.

    The registry has no unsubscribe (subscribers are fixed at start-up in production);
    the bench takes the entry out of its two tables and puts it back.
    """
    taken = registry._subscribers.pop(name)
    registry._by_type.clear()
    try:
        yield
    finally:
        registry._subscribers[name] = taken
        registry._by_type.clear()


@contextlib.contextmanager
def with_subscriber(name: str, func: Callable) -> Iterator[None]:
    """``func`` subscribed to every type as ``name`` in this process, for the block only."""
    registry.subscribe(name, registry.ALL, func)
    try:
        yield
    finally:
        registry._subscribers.pop(name, None)
        registry._by_type.clear()


def do_nothing(event) -> None:
    """The no-op subscriber: what the relay pays for any subscriber (its ledger row, the call)."""


def broker() -> redis.Redis:
    return redis.Redis.from_url(settings.CELERY_BROKER_URL)


def insert_backlog(tenant: Tenant, events: int, aggregates: int) -> None:
    with transaction.atomic():
        sql(
            INSERT_BACKLOG_SQL,
            {
                "event_type": BenchTouched.event_type,
                "tenant_id": tenant.pk,
                "schema": tenant.schema_name,
                "aggregates": aggregates,
                "event_ids": [uuid7() for _ in range(events)],
            },
        )


def verify_drain(tenant: Tenant, variant: DrainVariant, events: int, enqueued: int) -> str:
    rows = dict(
        sql(
            "SELECT status, count(*) FROM public.events_outbox WHERE tenant_id = %s "
            "AND event_type = %s GROUP BY 1",
            [tenant.pk, BenchTouched.event_type],
        )
    )
    # Called while the variant's subscribers are in place (the baseline's without webhooks).
    names = {s.name for s in registry.subscribers_for(BenchTouched.event_type)}
    if (WEBHOOKS_SUBSCRIBER in names) != variant.subscribed:
        raise SystemExit(f"drain ({variant.label}): the subscribers were {sorted(names)}")
    expected_subscribers = len(names)
    with schema_context(tenant.schema_name):
        ledger = scalar("SELECT coalesce(sum(cardinality(handlers)), 0) FROM events_processed")
        deliveries = WebhookDelivery.objects.count()
    problems = []
    if rows.get("dispatched", 0) != events or len(rows) != 1:
        problems.append(f"outbox rows by status {rows}, expected {events} dispatched")
    if ledger != events * expected_subscribers:
        problems.append(
            f"{ledger} handlers in the ledger, expected {events * expected_subscribers}"
        )
    if deliveries != (events if variant.endpoint else 0):
        problems.append(f"{deliveries} webhook deliveries")
    if enqueued != deliveries:
        problems.append(f"{enqueued} deliver tasks enqueued for {deliveries} deliveries")
    if problems:
        raise SystemExit(f"drain ({variant.label}) verification failed: " + "; ".join(problems))
    return (
        f"{events} dispatched, {ledger} handlers in the ledger ({expected_subscribers} per event), "
        f"{deliveries} deliveries, {enqueued} deliver tasks enqueued"
    )


def drain_once(tenant: Tenant, variant: DrainVariant, args: argparse.Namespace) -> None:
    clean_drain_rows(tenant)
    sql("VACUUM public.events_outbox, public.events_delivery")
    insert_backlog(tenant, args.events, args.aggregates)
    sql("ANALYZE public.events_outbox")
    queue = broker()
    with contextlib.ExitStack() as stack:
        if not variant.subscribed:
            stack.enter_context(without_subscriber(WEBHOOKS_SUBSCRIBER))
        if variant.noop:
            stack.enter_context(with_subscriber(NOOP_SUBSCRIBER, do_nothing))
        if variant.endpoint:
            with schema_context(tenant.schema_name):
                webhooks.endpoint_create(
                    url=ENDPOINT_URL, event_types=["*"], description=ENDPOINT_DESCRIPTION
                )
        queued_before = queue.llen(WEBHOOKS_QUEUE)
        with variant.cpu.measure():
            started = time.perf_counter()
            stats = relay.drain()
            took = time.perf_counter() - started
        # The relay enqueues on commit with LPUSH: what this drain added is at the list's head.
        enqueued = queue.llen(WEBHOOKS_QUEUE) - queued_before
        if stats.failed or stats.handled < args.events:
            raise SystemExit(f"drain ({variant.label}): {stats}")
        variant.checks.append(verify_drain(tenant, variant, args.events, enqueued))
        if enqueued > 0:
            queue.lpop(WEBHOOKS_QUEUE, enqueued)
    variant.rates.append(args.events / took)
    variant.seconds.append(took)
    variant.events += args.events


def run_drain(tenant: Tenant, args: argparse.Namespace) -> list[DrainVariant]:
    variants = [
        DrainVariant("baseline: without the webhooks subscriber", subscribed=False, endpoint=False),
        DrainVariant("baseline + a no-op subscriber of every type", subscribed=False, endpoint=False,
                     noop=True),
        DrainVariant("webhooks subscriber, tenant without endpoint", subscribed=True, endpoint=False),
        DrainVariant("webhooks subscriber, one endpoint wanting *", subscribed=True, endpoint=True),
    ]  # fmt: skip
    if WEBHOOKS_SUBSCRIBER not in {s.name for s in registry.all_subscribers()}:
        raise SystemExit(f"no subscriber {WEBHOOKS_SUBSCRIBER}: is apps.webhooks installed?")
    if registry.subscriber(WEBHOOKS_SUBSCRIBER).func is not make_deliveries:
        raise SystemExit(f"{WEBHOOKS_SUBSCRIBER} is not webhooks.handlers.make_deliveries")
    for number in range(1, args.rounds + 1):
        for variant in variants:
            drain_once(tenant, variant, args)
            log(
                f"drain round {number}/{args.rounds}: {variant.label}: "
                f"{variant.rates[-1]:,.0f} events/s ({variant.checks[-1]})"
            )
    clean_drain_rows(tenant)
    return variants


def print_drain(variants: list[DrainVariant], args: argparse.Namespace) -> None:
    subscribers = ", ".join(s.name for s in registry.subscribers_for(BenchTouched.event_type))
    print(
        f"1. Relay drain: {args.events:,} events of 1 tenant over {args.aggregates} aggregates, "
        f"relay.drain() in this process, BATCH_SIZE={settings.EVENTS['BATCH_SIZE']}; "
        f"{args.rounds} rounds, median (min-max); subscribers of the event: {subscribers}"
    )
    header = (
        f"{'variant':<48} {'events/s':>9} {'min-max':>15} {'µs/event':>9} {'vs base':>8} "
        f"{'CPU µs/event: python':>21} {'PostgreSQL':>10}"
    )
    base = statistics.median(variants[0].rates)

    def row(variant: DrainVariant) -> str:
        rate = statistics.median(variant.rates)
        spread = f"{min(variant.rates):,.0f}-{max(variant.rates):,.0f}"
        python, server = variant.cpu.per(variant.events, scale=1e6)
        return (
            f"{variant.label:<48} {rate:>9,.0f} {spread:>15} {1e6 / rate:>9.0f} "
            f"{rate / base:>8.2f} {python:>21} {server:>10}"
        )

    print_table(header, (row(variant) for variant in variants))
    for variant in variants[1:]:
        added = 1e6 / statistics.median(variant.rates) - 1e6 / base
        print(f"{variant.label}: {added:+.0f} µs per event against the baseline (wall time)")


# -- 2. the event feed -------------------------------------------------------------------------

INSERT_FEED_SQL = """
INSERT INTO public.events_outbox (
    event_id, event_type, schema_version, tenant_id, schema_name, actor,
    aggregate_type, aggregate_id, aggregate_version, correlation_id, causation_id,
    trace_context, occurred_at, payload, status, claims, lease_owner, dispatched_at, feed_clock
)
SELECT t.event_id, %(event_type)s, 1,
       (%(tenant_ids)s::bigint[])[((%(first)s + t.ord - 1) %% %(tenants)s + 1)::int],
       (%(schemas)s::text[])[((%(first)s + t.ord - 1) %% %(tenants)s + 1)::int],
       %(actor)s::jsonb, 'bench_item', ((%(first)s + t.ord - 1) / %(tenants)s %% 500)::text,
       (%(first)s + t.ord - 1) / (%(tenants)s * 500) + 1, 'bench-integrators', NULL,
       '{}'::jsonb, clock_timestamp(),
       jsonb_build_object(
           'item_id', (%(first)s + t.ord - 1) / %(tenants)s %% 500,
           'version', (%(first)s + t.ord - 1) / (%(tenants)s * 500) + 1,
           'note', %(note)s::text
       ),
       'dispatched', 1, '', clock_timestamp(),
       pg_snapshot_xmin(pg_current_snapshot())::text::bigint
FROM unnest(%(event_ids)s::uuid[]) WITH ORDINALITY AS t(event_id, ord)
ORDER BY t.ord
"""

FEED_COLUMNS = (
    "e.position, e.feed_clock, e.event_id, e.event_type, e.schema_version, e.occurred_at, "
    "e.aggregate_type, e.aggregate_id, e.aggregate_version, e.correlation_id, e.causation_id, "
    "e.actor, e.payload"
)
PLAIN_PAGE_SQL = f"""
SELECT {FEED_COLUMNS} FROM public.events_outbox e
WHERE e.tenant_id = %s AND e.position > %s ORDER BY e.position LIMIT %s
"""  # noqa: S608 (constant column list)


def insert_feed(tenants: list[Tenant], events: int) -> float:
    started = time.perf_counter()
    actor = json.dumps({"kind": "api_key", "id": "1", "label": "Shop sync",
                        "owner": {"kind": "user", "id": "1", "label": "integrator@example.com"}})  # fmt: skip
    for first in range(0, events, FEED_BATCH):
        with transaction.atomic():
            sql(
                INSERT_FEED_SQL,
                {
                    "event_type": BenchTouched.event_type,
                    "tenant_ids": [t.pk for t in tenants],
                    "schemas": [t.schema_name for t in tenants],
                    "tenants": len(tenants),
                    "first": first,
                    "actor": actor,
                    "note": NOTE,
                    "event_ids": [uuid7() for _ in range(min(FEED_BATCH, events - first))],
                },
            )
    sql("ANALYZE public.events_outbox")
    return time.perf_counter() - started


@dataclass
class FeedCell:
    place: str
    way: str
    samples: list[float] = field(default_factory=list)


def _ids_of_rows(rows: list[tuple], first_column: int) -> list:
    return [row[first_column + 2] for row in rows if row[first_column] is not None]


def run_feed(
    tenants: list[Tenant], args: argparse.Namespace
) -> tuple[list[FeedCell], list[str], str]:
    tenant = tenants[0]
    delete_outbox_rows(tenants)
    log(f"feed: inserting {args.feed_events:,} events of {len(tenants)} tenants ...")
    inserted = insert_feed(tenants, args.feed_events)
    places = sql(
        "SELECT feed_clock, position FROM public.events_outbox WHERE tenant_id = %s "
        "ORDER BY feed_clock, position",
        [tenant.pk],
    )
    per_tenant = len(places)
    if per_tenant < 2 * args.limit:
        raise SystemExit(f"{tenant.slug} has {per_tenant} feed events: too few for --limit")
    # Where each page starts: (feed cursor before it, position before it).
    starts = {
        "start": (None, 0),
        "middle": (selectors.FeedCursor(*places[per_tenant // 2 - 1]), places[per_tenant // 2 - 1][1]),
        "end": (selectors.FeedCursor(*places[per_tenant - args.limit - 1]),
                places[per_tenant - args.limit - 1][1]),
    }  # fmt: skip

    def feed_page(after, _position):
        return [
            e.event_id
            for e in selectors.feed_page(tenant_id=tenant.pk, after=after, limit=args.limit).events
        ]

    def feed_sql(after, _position):
        start = after or selectors.FeedCursor(0, 0)
        rows = sql(FEED_SQL.format(types=""),
                   [tenant.pk, tenant.pk, start.clock, start.position, args.limit])  # fmt: skip
        return _ids_of_rows(rows, 3)

    def plain(_after, position):
        return _ids_of_rows(sql(PLAIN_PAGE_SQL, [tenant.pk, position, args.limit]), 0)

    ways: list[tuple[str, Callable]] = [
        ("selectors.feed_page", feed_page),
        ("its SQL alone (FEED_SQL, rows fetched)", feed_sql),
        ("baseline: position > x ORDER BY position", plain),
    ]
    # The three read the same events at every place (also a warm-up).
    for place, (after, position) in starts.items():
        answers = [func(after, position) for _, func in ways]
        if len(answers[0]) != args.limit or any(answer != answers[0] for answer in answers):
            raise SystemExit(
                f"feed at the {place}: the three reads disagree ({[len(a) for a in answers]})"
            )
    cells = {(place, way): FeedCell(place, way) for place in starts for way, _ in ways}
    cpu = {way: Cpu() for way, _ in ways}
    for number in range(1, args.rounds + 1):
        for place, (after, position) in starts.items():
            for way, func in ways:
                samples = cells[(place, way)].samples
                with cpu[way].measure():
                    for _ in range(args.reads):
                        before = time.perf_counter()
                        func(after, position)
                        samples.append(time.perf_counter() - before)
        log(f"feed round {number}/{args.rounds} done")
    plans = []
    after, position = starts["middle"]
    for way, statement, params in (
        ("FEED_SQL", FEED_SQL.format(types=""),
         [tenant.pk, tenant.pk, after.clock, after.position, args.limit]),
        ("baseline", PLAIN_PAGE_SQL, [tenant.pk, position, args.limit]),
    ):  # fmt: skip
        plans.append(f"{way}: {explain(statement, params)}")
    summary = (
        f"2. Event feed: {args.feed_events:,} events of {len(tenants)} tenants in the outbox "
        f"({per_tenant:,} of {tenant.slug}; inserted in {inserted:.1f} s), a page of "
        f"{args.limit}; {args.rounds} rounds x {args.reads} reads per cell"
    )
    cpu_note = "; ".join(
        f"{way}: {cpu[way].per(args.rounds * args.reads * len(starts))[0]} ms python, "
        f"{cpu[way].per(args.rounds * args.reads * len(starts))[1]} ms PostgreSQL"
        for way, _ in ways
    )
    delete_outbox_rows(tenants)
    return list(cells.values()), [*plans, f"CPU per page: {cpu_note}"], summary


REMOVED_BY = ("Rows Removed by Filter", "Rows Removed by Index Recheck")


def explain(statement: str, params: list) -> str:
    """The plan's scans, the rows its filters removed, its buffers and its execution time."""
    plan = sql(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {statement}", params)[0][0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    top = plan[0]
    scans, removed = [], 0

    def walk(node: dict) -> None:
        nonlocal removed
        if "Scan" in node["Node Type"] and node.get("Relation Name") == "events_outbox":
            scans.append(f"{node['Node Type']} {node.get('Index Name', '')} "
                         f"({node['Actual Rows']} rows)".replace("  ", " "))  # fmt: skip
        removed += sum(node.get(name, 0) for name in REMOVED_BY)
        for child in node.get("Plans", []):
            walk(child)

    walk(top["Plan"])
    hits = top["Plan"].get("Shared Hit Blocks", 0) + top["Plan"].get("Shared Read Blocks", 0)
    return (
        f"{'; '.join(scans)}; {removed} rows removed by filters; {hits} buffers; "
        f"{top['Execution Time']:.2f} ms"
    )


def print_feed(cells: list[FeedCell], notes: list[str], summary: str) -> None:
    print(summary)
    header = f"{'place':<7} {'read':<42} {'p50 ms':>7} {'p99 ms':>7}"
    print_table(
        header,
        (
            f"{cell.place:<7} {cell.way:<42} {ms(percentile(cell.samples, 0.5)):>7} "
            f"{ms(percentile(cell.samples, 0.99)):>7}"
            for cell in cells
        ),
    )
    for note in notes:
        print(note)


# -- 3. the API --------------------------------------------------------------------------------


@dataclass
class Scenario:
    label: str
    call: Callable[[], object]
    before: Callable[[], object] | None = None  # untimed, before each block of requests
    samples: list[float] = field(default_factory=list)
    cpu: Cpu = field(default_factory=Cpu)
    queries: int = 0
    collections: int = 0  # full garbage collections during the timed requests
    collection_seconds: float = 0.0


class Api:
    """Requests of one API key to ``intbench-01``, each checked for what it must answer."""

    def __init__(self, tenant: Tenant, secret: str) -> None:
        self.client = Client(HTTP_HOST=f"{tenant.slug}.{settings.TENANT_BASE_DOMAIN}")
        self.auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
        self.sequence = iter(range(10**9))
        self.run_id = uuid.uuid4().hex[:8]
        self.keyed: list[tuple[str, str, bytes]] = []  # (key, body, first answer) to replay
        self.replays = iter(())

    @staticmethod
    def expect(response, status: int, what: str):
        if response.status_code != status:
            raise SystemExit(
                f"{what}: {response.status_code}, expected {status}: {response.content[:300]!r}"
            )
        return response

    def _body(self) -> str:
        return json.dumps({"title": f"{POSTED_TITLE} {self.run_id}-{next(self.sequence):06d}"})

    def post(self) -> None:
        response = self.client.post(PRODUCTS, self._body(), content_type=JSON, **self.auth)
        self.expect(response, 201, "POST")

    def post_keyed(self) -> None:
        key, body = f"bench-{self.run_id}-{next(self.sequence)}", self._body()
        response = self.client.post(
            PRODUCTS, body, content_type=JSON, HTTP_IDEMPOTENCY_KEY=key, **self.auth
        )
        self.keyed.append((key, body, self.expect(response, 201, "POST with a key").content))

    def start_replays(self) -> None:
        self.replays = iter(list(self.keyed))
        self.keyed.clear()

    def replay(self) -> None:
        key, body, first = next(self.replays)
        response = self.client.post(
            PRODUCTS, body, content_type=JSON, HTTP_IDEMPOTENCY_KEY=key, **self.auth
        )
        self.expect(response, 201, "replayed POST")
        if response.headers.get("Idempotent-Replayed") != "true" or response.content != first:
            raise SystemExit(f"a replayed POST did not get the first answer: {response.headers}")

    def get(self, url: str, status: int = 200, **headers):
        return self.expect(self.client.get(url, **headers, **self.auth), status, f"GET {url}")


def ensure_catalog(tenant: Tenant, count: int) -> uuid.UUID:
    """``count`` products titled in order; the first with a variant priced in EUR. Made once."""
    with schema_context(tenant.schema_name):
        commerce.store_settings_update(default_currency="EUR", enabled_currencies=["EUR"])
        have = set(
            Product.objects.filter(title__startswith=CATALOG_TITLE).values_list("title", flat=True)
        )
        missing = [f"{CATALOG_TITLE} {n:04d}" for n in range(count)]
        missing = [title for title in missing if title not in have]
        if missing:
            log(f"api: creating {len(missing)} catalog products ...")
        for title in missing:
            product = commerce.product_create(data=ProductInput(title=title, description=NOTE))
            if title.endswith(" 0000"):
                variant = commerce.variant_create(
                    product_id=product.pk, data=VariantInput(sku="INTBENCH-0000")
                )
                commerce.price_set(variant_id=variant.pk, currency="EUR", amount="19.90")
        total = Product.objects.filter(title__startswith=CATALOG_TITLE).count()
        if total != count:
            raise SystemExit(f"{tenant.slug} holds {total} catalog products, not {count}: "
                             f"pass --products {total} or remove them")  # fmt: skip
        return Product.objects.get(title=f"{CATALOG_TITLE} 0000").pk


def make_key(tenant: Tenant) -> str:
    with schema_context(tenant.schema_name):
        admin = get_user_model().objects.filter(is_superuser=True).order_by("pk").first()
        _, secret = people.api_key_create(
            owner_id=admin.pk, name=KEY_NAME, kind="secret",
            scopes=["commerce:read", "commerce:write"],
        )  # fmt: skip
    return secret


def timed_rounds(scenarios: list[Scenario], args: argparse.Namespace, phase: str) -> None:
    for number in range(1, args.rounds + 1):
        for scenario in scenarios:
            if scenario.before is not None:
                scenario.before()
            collections, collecting = COLLECTIONS.count, COLLECTIONS.seconds
            with scenario.cpu.measure():
                for _ in range(args.requests):
                    before = time.perf_counter()
                    scenario.call()
                    scenario.samples.append(time.perf_counter() - before)
            scenario.collections += COLLECTIONS.count - collections
            scenario.collection_seconds += COLLECTIONS.seconds - collecting
        log(f"api {phase} round {number}/{args.rounds} done")


def count_queries(scenario: Scenario) -> None:
    """The queries of one request, right after another (the backpressure check's two, made
    at most once a second per process, are then not among them)."""
    if scenario.before is not None:
        scenario.before()
    scenario.call()
    with CaptureQueriesContext(connection) as captured:
        scenario.call()
    scenario.queries = len(captured)


def run_api(tenant: Tenant, args: argparse.Namespace) -> list[Scenario]:
    product_id = ensure_catalog(tenant, args.products)
    clean_api_rows(tenant)
    api = Api(tenant, make_key(tenant))
    settings.API_THROTTLE_RATES = {"client": 10**9, "tenant": 10**9}

    writes = [
        Scenario("POST product, no Idempotency-Key", api.post),
        Scenario("POST product, new Idempotency-Key", api.post_keyed),
        Scenario("replayed POST (same key, same body)", api.replay, before=api.start_replays),
    ]
    for _ in range(WARMUP):
        api.post()
        api.post_keyed()
    api.start_replays()
    for _ in range(WARMUP):
        api.replay()
    timed_rounds(writes, args, "writes")
    for scenario in writes:
        count_queries(scenario)
    with schema_context(tenant.schema_name):
        Product.objects.filter(title__startswith=POSTED_TITLE).delete()

    detail = f"{PRODUCTS}{product_id}/"
    etag = api.get(detail).headers["ETag"]
    pages = -(-args.products // PAGE_SIZE)
    middle, end = (pages + 1) // 2, pages
    listing = f"{PRODUCTS}?ordering=title&page_size={PAGE_SIZE}"
    cursors = {1: listing}
    url = listing
    for page in range(2, end + 1):  # walk the cursors, as a client would
        url = api.get(url).json()["next"]
        cursors[page] = url
    for page in (middle, end):
        by_cursor = [p["id"] for p in api.get(cursors[page]).json()["results"]]
        by_number = [p["id"] for p in api.get(f"{listing}&page={page}").json()["results"]]
        if by_cursor != by_number or not by_cursor:
            raise SystemExit(f"page {page}: the cursor and ?page= list different products")
    reads = [
        Scenario("GET product, 200 with ETag", lambda: api.get(detail)),
        Scenario("GET product, If-None-Match: 304", lambda: api.get(detail, 304, HTTP_IF_NONE_MATCH=etag)),
        Scenario(f"list page {middle}/{pages} by cursor", lambda: api.get(cursors[middle])),
        Scenario(f"list page {middle}/{pages} by ?page= (deprecated)", lambda: api.get(f"{listing}&page={middle}")),
        Scenario(f"list page {end}/{pages} by cursor", lambda: api.get(cursors[end])),
        Scenario(f"list page {end}/{pages} by ?page= (deprecated)", lambda: api.get(f"{listing}&page={end}")),
    ]  # fmt: skip
    for scenario in reads:
        for _ in range(WARMUP):
            scenario.call()
    timed_rounds(reads, args, "reads")
    for scenario in reads:
        count_queries(scenario)
    return writes + reads


def print_api(scenarios: list[Scenario], args: argparse.Namespace) -> None:
    print(
        f"3. API through django.test.Client, one secret API key, throttling counted with limits "
        f"of 10^9/min; {args.rounds} rounds x {args.requests} requests per scenario; catalog of "
        f"{args.products} products, pages of {PAGE_SIZE} ordered by title"
    )
    header = (
        f"{'request':<44} {'p50 ms':>7} {'p99 ms':>7} {'queries':>7} "
        f"{'CPU ms/request: python':>23} {'PostgreSQL':>10} {'full GCs (ms each)':>19}"
    )

    def row(scenario: Scenario) -> str:
        python, server = scenario.cpu.per(len(scenario.samples))
        each = 1000 * scenario.collection_seconds / max(1, scenario.collections)
        collections = f"{scenario.collections} ({each:.0f})" if scenario.collections else "0"
        return (
            f"{scenario.label:<44} {ms(percentile(scenario.samples, 0.5)):>7} "
            f"{ms(percentile(scenario.samples, 0.99)):>7} {scenario.queries:>7} "
            f"{python:>23} {server:>10} {collections:>19}"
        )

    print_table(header, (row(scenario) for scenario in scenarios))
    print(
        f"This process held {len(gc.get_objects()):,} objects tracked by the garbage collector; "
        "a full collection pauses the request it falls in."
    )


# -- main --------------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=3000, help="drain: backlog per run")
    parser.add_argument("--aggregates", type=int, default=100, help="drain: aggregates")
    parser.add_argument("--feed-events", type=int, default=100_000, help="feed: outbox rows")
    parser.add_argument("--feed-tenants", type=int, default=10, help="feed: tenants of the rows")
    parser.add_argument("--limit", type=int, default=100, help="feed: events per page")
    parser.add_argument("--reads", type=int, default=100, help="feed: reads per cell and round")
    parser.add_argument("--products", type=int, default=1000, help="api: catalog size")
    parser.add_argument("--requests", type=int, default=100, help="api: per scenario and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--parts", default="drain,feed,api", help="comma-separated parts to run")
    args = parser.parse_args()
    sizes = (args.events, args.aggregates, args.feed_events, args.feed_tenants, args.limit,
             args.reads, args.products, args.requests, args.rounds)  # fmt: skip
    if min(sizes) < 1:
        parser.error("sizes must be positive")
    if args.feed_tenants > 99 or args.limit > selectors.FEED_MAX_LIMIT:
        parser.error(f"--feed-tenants takes 1..99, --limit 1..{selectors.FEED_MAX_LIMIT}")
    if args.products < 2 * PAGE_SIZE:
        parser.error(f"--products needs at least {2 * PAGE_SIZE} (two pages)")
    args.parts = {part.strip() for part in args.parts.split(",") if part.strip()}
    if not args.parts or args.parts - {"drain", "feed", "api"}:
        parser.error("--parts takes drain, feed and api")
    return args


def main() -> None:
    args = parse_args()
    settings.DEBUG = False  # no query log in connection.queries while measuring
    description = machine(f"settings {os.environ['DJANGO_SETTINGS_MODULE']} with DEBUG off")
    tenants = ensure_tenants(args.feed_tenants if "feed" in args.parts else 1)
    handled = drain_everything_pending()
    if handled:
        log(f"relayed {handled} events that were pending before the benchmark")
    every_bench_tenant = bench_tenants()
    clean_up(every_bench_tenant)
    drained = feed = api = None
    try:
        if "drain" in args.parts:
            drained = run_drain(tenants[0], args)
        if "feed" in args.parts:
            feed = run_feed(tenants, args)
        if "api" in args.parts:
            api = run_api(tenants[0], args)
    finally:
        connection.set_schema_to_public()
        left = clean_up(every_bench_tenant)
        log(f"cleaned up: {left} bench outbox rows deleted")

    print()
    print(description)
    if drained is not None:
        print()
        print_drain(drained, args)
    if feed is not None:
        print()
        print_feed(*feed)
    if api is not None:
        print()
        print_api(api, args)


if __name__ == "__main__":
    main()
