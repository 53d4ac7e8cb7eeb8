"""Orders per second through the checkout's placement, beside the stock sale alone; and the cost
of reading an order of 1,000 events as of a moment, and of rebuilding its rows.

**Placement.** ``--clients`` processes (forked after setup, each with its own database
connection) place orders through ``apps.commerce.placement.checkout_place_order`` with the
``manual`` provider (bank transfer: the charge is recorded ``pending``, no gateway is called).
Each order is one line of one unit. Before the timed part every client prepares all its
checkouts untimed (and places one more, untimed, to warm its process): a cart (``carts.cart_add``), the checkout started, email, address, shipping
method, and the stock held (``checkout_reserve``). The clients then wait at a barrier and each
places its checkouts one after another; only ``checkout_place_order`` is timed. Two cases:

- **distinct SKUs**: each client buys its own variant, so no two clients share a stock row;
- **one hot SKU**: every client buys the same variant, stocked with plenty of units.

**Baseline: the sale alone.** The same clients, the same two cases, but each prepares a hold
with ``stock_reserve`` directly (no cart, no checkout) and times only
``reservations_convert``: the stock transaction that placement runs inside its own. The
difference between the two rows is what the order adds on top (reading and pricing the
checkout, the payment attempt's two transactions, the order's stream, row and lines, linking
the payment, removing the cart).

Scenarios run interleaved in ``--rounds`` rounds; orders/s is total orders over the span from
the first client's start to the last client's end, the median over rounds is printed, and the
latency percentiles pool every round. Beside them, the CPU time per operation of the clients'
processes and of their PostgreSQL backends (read from ``/proc``: the server runs on this host;
counted in clock ticks, so meaningful over many operations), which other load on the machine
does not inflate the way it does the rates.

**The order stream.** One order is placed (``manual``), marked paid, and refunded 0.01 at a
time 998 times through ``order_refund``: 1,000 events, all through the services. The script
times that build (and the transitions near its start and end: each one folds the stream), then
``order_as_of`` (at the last event and at the 500th), the stream's read and its fold
separately, and ``order_rebuild``; beside them the same reads of an order of 2 events.

A tenant ``checkoutbench`` (created once, kept) holds the shop: EUR, 19 % German VAT, one
shipping zone, one location, ``--clients`` + 1 active variants priced 10.00. At the start and
at the end the script empties the tenant's carts, checkouts, payments, orders, reservations and
adjustments, sets ``reserved`` to 0, and deletes its outbox rows (no worker needs to run).
Query logging is off (``DEBUG`` False) while it measures.

    python bench/checkout.py [--clients 8] [--orders 25] [--rounds 3] [--events 1000]
                             [--repeat 20] [--profile]

``--profile`` adds one placement's query count, the latency of 20 placements in a row by a
single client, and a cProfile of 20 more (cumulative time of the steps of a placement).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import multiprocessing
import os
import pstats
import statistics
import sys
import time
import traceback
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django_tenants.utils import schema_context  # noqa: E402

from apps.commerce import carts, order_reads, orders, services  # noqa: E402
from apps.commerce import checkout as co  # noqa: E402
from apps.commerce import checkout_settings as shop_settings  # noqa: E402
from apps.commerce.models import Location, ShippingMethod, Variant  # noqa: E402
from apps.commerce.order_state import fold  # noqa: E402
from apps.commerce.placement import checkout_place_order  # noqa: E402
from apps.commerce.services import ProductInput, ReservationLine, VariantInput  # noqa: E402
from apps.events.models import OutboxEvent  # noqa: E402
from apps.tenancy.models import Tenant  # noqa: E402
from apps.tenancy.services import tenant_create  # noqa: E402
from bench.report import machine, percentile, print_table  # noqa: E402

TENANT = "checkoutbench"
ADDRESS = {
    "name": "Erika Mustermann",
    "street": "Heidestraße 17",
    "city": "Köln",
    "postal_code": "51147",
    "country": "DE",
}
PRICE = "10.00"
STOCK = 1_000_000
EMPTIED = (
    "commerce_cart, commerce_checkout, commerce_paymentattempt, commerce_orderemail, "
    "commerce_orderline, commerce_order, commerce_orderevent, commerce_reservation, "
    "commerce_stockadjustment, commerce_voucheruse, events_processed"
)


# -- the shop ----------------------------------------------------------------------------------


@dataclass
class Shop:
    schema: str
    location_id: int
    method_id: int
    own: list[uuid.UUID]  # one variant per client
    hot: uuid.UUID


def _variant(title: str, sku: str) -> uuid.UUID:
    found = Variant.objects.filter(sku=sku).first()
    if found is not None:
        return found.pk
    product = services.product_create(data=ProductInput(title=title))
    variant = services.variant_create(product_id=product.pk, data=VariantInput(sku=sku))
    services.price_set(variant_id=variant.pk, currency="EUR", amount=PRICE)
    services.product_transition(product_id=product.pk, action="activate")
    return variant.pk


def ensure_shop(clients: int) -> Shop:
    """The ``checkoutbench`` tenant with what a checkout needs (made once, kept)."""
    tenant = Tenant.objects.filter(slug=TENANT).first()
    if tenant is None:
        print(f"creating tenant {TENANT} ...", flush=True)
        tenant = tenant_create(slug=TENANT, name="Checkout bench", admin_email="bench@example.com")
        tenant = tenant.tenant
    with schema_context(tenant.schema_name):
        services.store_settings_update(default_currency="EUR", enabled_currencies=["EUR"])
        shop_settings.tax_rate_set(country="DE", rate=Decimal("0.19"), name="VAT")
        method = ShippingMethod.objects.filter(name="Standard").first()
        if method is None:
            zone = shop_settings.shipping_zone_save(name="DACH", countries=["DE", "AT"])
            method = shop_settings.shipping_method_save(
                zone_id=zone.pk, name="Standard", name_translations={}, active=True,
                rates=[shop_settings.RateInput("EUR", "4.90", None)],
            )  # fmt: skip
        location = Location.objects.filter(code="main").first()
        if location is None:
            location = services.location_create(code="main", name="Main warehouse")
        own = [_variant(f"Bench item {n}", f"BENCH-{n:03d}") for n in range(clients)]
        hot = _variant("Hot item", "BENCH-HOT")
        return Shop(tenant.schema_name, location.pk, method.pk, own, hot)


def reset(shop: Shop) -> None:
    """No carts, checkouts, payments, orders, holds or outbox rows of the bench; full stock."""
    with schema_context(shop.schema):
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {EMPTIED} CASCADE")
            cursor.execute("UPDATE commerce_stocklevel SET reserved = 0 WHERE reserved <> 0")
        for variant_id in [*shop.own, shop.hot]:
            services.stock_set(variant_id=variant_id, location_id=shop.location_id, on_hand=STOCK)
    OutboxEvent.objects.filter(schema_name=shop.schema).delete()


# -- what a client prepares and what it times --------------------------------------------------


def prepare_checkout(shop: Shop, variant_id: uuid.UUID, email: str) -> uuid.UUID:
    """A checkout of one unit at the payment step, its stock held."""
    cart = carts.cart_for(token=None, customer_id=None, currency="EUR", locale="en", create=True)
    carts.cart_add(cart_id=cart.pk, variant_id=variant_id, quantity=1)
    checkout = co.checkout_start(cart_id=cart.pk)
    co.checkout_set_email(checkout_id=checkout.pk, email=email)
    co.checkout_set_address(checkout_id=checkout.pk, address=ADDRESS)
    co.checkout_set_shipping(checkout_id=checkout.pk, method_id=shop.method_id)
    co.checkout_reserve(checkout_id=checkout.pk)
    return checkout.pk


def place(checkout_id: uuid.UUID) -> None:
    checkout_place_order(checkout_id=checkout_id, provider_code="manual")


def prepare_hold(shop: Shop, variant_id: uuid.UUID, email: str) -> str:
    """A hold of one unit under a reference of its own (no cart, no checkout)."""
    reference = f"bench:{uuid.uuid4()}"
    line = ReservationLine(variant_id, shop.location_id, 1)
    services.stock_reserve(lines=[line], reference=reference)
    return reference


def sell(reference: str) -> None:
    services.reservations_convert(reference=reference)


@dataclass(frozen=True)
class Kind:
    name: str
    prepare: object
    timed: object


PLACEMENT = Kind("placement (checkout_place_order)", prepare_checkout, place)
SALE = Kind("sale alone (reservations_convert)", prepare_hold, sell)


@dataclass
class Scenario:
    kind: Kind
    hot: bool
    rates: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    client_cpu: float = 0.0  # seconds, the clients' processes during the timed parts
    server_cpu: float = 0.0  # seconds, their PostgreSQL backends during the timed parts

    @property
    def label(self) -> str:
        return f"{self.kind.name}, {'one hot SKU' if self.hot else 'distinct SKUs'}"


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process of this host: PostgreSQL's backend of a client."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _client(shop, kind, variant_id, index, count, barrier, results) -> None:
    try:
        with schema_context(shop.schema):
            prepared = [
                kind.prepare(shop, variant_id, f"bench{index}-{n}@example.com")
                for n in range(count + 1)
            ]
            kind.timed(prepared.pop())  # warm this process (untimed)
            backend = _backend_pid()
            barrier.wait(timeout=600)
            latencies, errors = [], []
            started = time.monotonic()
            cpu_before, server_before = time.process_time(), _cpu_seconds(backend)
            for item in prepared:
                before = time.perf_counter()
                try:
                    kind.timed(item)
                except Exception as error:  # counted and shown, never hidden
                    errors.append(f"{type(error).__name__}: {error}")
                latencies.append(time.perf_counter() - before)
            ended = time.monotonic()
            cpu = (time.process_time() - cpu_before, _cpu_seconds(backend) - server_before)
        results.put((started, ended, latencies, errors, cpu))
    except Exception:
        barrier.abort()
        results.put((0.0, 0.0, [], [traceback.format_exc()], (0.0, 0.0)))
    finally:
        connections.close_all()


def run(shop: Shop, scenario: Scenario, *, clients: int, orders_per_client: int) -> None:
    """``clients`` processes, each preparing then timing ``orders_per_client`` operations."""
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(clients)
    results = context.Queue()
    connections.close_all()  # the children open their own
    variants = [shop.hot if scenario.hot else shop.own[index] for index in range(clients)]
    processes = [
        context.Process(
            target=_client,
            args=(shop, scenario.kind, variant, index, orders_per_client, barrier, results),
        )
        for index, variant in enumerate(variants)
    ]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=900) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    starts = [outcome[0] for outcome in outcomes]
    ends = [outcome[1] for outcome in outcomes]
    done = sum(len(outcome[2]) for outcome in outcomes)
    scenario.rates.append(done / (max(ends) - min(starts)) if done else 0.0)
    for _start, _end, latencies, errors, (client_cpu, server_cpu) in outcomes:
        scenario.latencies.extend(latencies)
        scenario.errors.extend(errors)
        scenario.client_cpu += client_cpu
        scenario.server_cpu += server_cpu


# -- the order stream ----------------------------------------------------------------------------


def median_ms(call, repeat: int) -> float:
    call()  # warm
    times = []
    for _ in range(repeat):
        before = time.perf_counter()
        call()
        times.append(time.perf_counter() - before)
    return 1000 * statistics.median(times)


def paid_order(shop: Shop, email: str):
    checkout_id = prepare_checkout(shop, shop.own[0], email)
    order = checkout_place_order(checkout_id=checkout_id, provider_code="manual")
    return orders.order_mark_paid(order_id=order.pk, reference="TRANSFER-1", amount=order.total)


@dataclass
class StreamFigures:
    events: int
    build_seconds: float = 0.0
    first_refunds_ms: float = 0.0
    last_refunds_ms: float = 0.0
    rows: dict[str, tuple[float, float]] = field(default_factory=dict)  # name: (long, short)


def stream_bench(shop: Shop, *, events: int, repeat: int) -> StreamFigures:
    figures = StreamFigures(events)
    with schema_context(shop.schema):
        short = paid_order(shop, "short@example.com")  # 2 events
        order = paid_order(shop, "long@example.com")
        refunds = events - 2
        if Decimal("0.01") * refunds >= order.total:
            raise SystemExit(f"an order of {order.total} cannot take {refunds} refunds of 0.01")
        took = []
        started = time.perf_counter()
        for _ in range(refunds):
            before = time.perf_counter()
            orders.order_refund(order_id=order.pk, amount=Decimal("0.01"), reason="bench")
            took.append(time.perf_counter() - before)
        figures.build_seconds = time.perf_counter() - started
        figures.first_refunds_ms = 1000 * statistics.median(took[:20])
        figures.last_refunds_ms = 1000 * statistics.median(took[-20:])
        stream = order_reads.order_stream(order.pk)
        if len(stream) != events or fold(stream).version != events:
            raise SystemExit(f"the stream has {len(stream)} events, not {events}")
        last, middle = stream[-1].occurred_at, stream[events // 2 - 1].occurred_at
        short_stream = order_reads.order_stream(short.pk)
        short_at = short_stream[-1].occurred_at

        def pair(name, long_call, short_call):
            figures.rows[name] = (median_ms(long_call, repeat), median_ms(short_call, repeat))

        pair("order_as_of, at the last event",
             lambda: order_reads.order_as_of(order.pk, last),
             lambda: order_reads.order_as_of(short.pk, short_at))  # fmt: skip
        pair(f"order_as_of, halfway (event {events // 2}; of 2: event 1)",
             lambda: order_reads.order_as_of(order.pk, middle),
             lambda: order_reads.order_as_of(short.pk, short_stream[0].occurred_at))  # fmt: skip
        pair("  of which: reading the stream",
             lambda: order_reads.order_stream(order.pk),
             lambda: order_reads.order_stream(short.pk))  # fmt: skip
        pair("  of which: the fold",
             lambda: fold(stream),
             lambda: fold(short_stream))  # fmt: skip
        pair("order_rebuild",
             lambda: orders.order_rebuild(order_id=order.pk),
             lambda: orders.order_rebuild(order_id=short.pk))  # fmt: skip
        pair("the order's row (order_get), for scale",
             lambda: order_reads.order_get(order.pk),
             lambda: order_reads.order_get(short.pk))  # fmt: skip
    return figures


# -- one placement, looked at closely ------------------------------------------------------------

PROFILED = (
    "checkout_place_order", "checkout_get", "checkout_pricing", "payment_charge",
    "_charge_start", "_record", "reservations_convert", "order_create", "_placed_event",
    "order_draft", "publish", "publish_many", "payments_link_order", "cart_close", "execute",
)  # fmt: skip


# Where a function's file lives -> the label its own time is counted under (first match wins).
AREAS = (
    ("psycopg", "psycopg: sending queries, waiting, reading rows"),
    ("django/db/models", "Django ORM: building and compiling queries, models"),
    ("django/db", "Django db: backends, transactions"),
    ("django", "Django, the rest"),
    ("pydantic", "pydantic (event validation and dumps)"),
    ("apps/", "apps/ (the project's code)"),
    ("python3.11/", "standard library"),
)


def profile_placement(shop: Shop, count: int) -> tuple[int, str]:
    """Queries of one placement, the latency of ``count`` placements in a row by one client,
    and where as many more spend their time under the profiler."""
    with schema_context(shop.schema):
        prepared = [
            prepare_checkout(shop, shop.own[0], f"p{n}@example.com") for n in range(2 * count + 1)
        ]
        with CaptureQueriesContext(connection) as queries:
            place(prepared.pop())
        alone, in_queries = [], [0.0]

        def timed_query(execute, sql, params, many, context):
            before = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                in_queries[0] += time.perf_counter() - before

        with connection.execute_wrapper(timed_query):
            for checkout_id in prepared[count:]:
                before = time.perf_counter()
                place(checkout_id)
                alone.append(time.perf_counter() - before)
        prepared = prepared[:count]
        profiler = cProfile.Profile()
        profiler.enable()
        for checkout_id in prepared:
            place(checkout_id)
        profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    total = stats.total_tt
    rows = []
    for (filename, _line, name), (_cc, calls, _tt, cumulative, _callers) in stats.stats.items():
        if name not in PROFILED:
            continue
        if name == "execute" and "psycopg" not in filename:
            continue
        where = "psycopg" if name == "execute" else Path(filename).stem
        rows.append((cumulative, f"{where}.{name}", calls))
    lines = [
        f"{count} placements in a row by one client: p50 "
        f"{1000 * percentile(alone, 0.5):.1f} ms, p99 {1000 * percentile(alone, 0.99):.1f} ms; "
        f"of the mean {1000 * statistics.mean(alone):.1f} ms, {1000 * in_queries[0] / count:.1f} "
        f"ms inside the {len(queries)} queries' execute (sending, PostgreSQL's work, reading the "
        "rows) and the rest in Python around them",
        f"{count} more under the profiler, {1000 * total / count:.1f} ms each; cumulative time "
        "per placement:",
    ]
    for cumulative, name, calls in sorted(rows, reverse=True):
        lines.append(
            f"  {name:<46} {1000 * cumulative / count:>7.2f} ms {calls / count:>5.1f} calls"
        )
    lines.append("own time (tottime) per placement, by where the code lives:")
    shares: dict[str, float] = {}
    for (filename, _line, _name), (_cc, _calls, own, _cumulative, _callers) in stats.stats.items():
        area = next((label for part, label in AREAS if part in filename), "other (C built-ins)")
        shares[area] = shares.get(area, 0.0) + own
    for area, own in sorted(shares.items(), key=lambda item: -item[1]):
        lines.append(f"  {area:<46} {1000 * own / count:>7.2f} ms {own / total:>6.0%}")
    return len(queries), "\n".join(lines)


# -- report --------------------------------------------------------------------------------------


def scenario_row(scenario: Scenario) -> str:
    done = max(len(scenario.latencies), 1)
    return (
        f"{scenario.label:<58} {len(scenario.latencies):>5} "
        f"{statistics.median(scenario.rates):>7.1f} "
        f"{1000 * percentile(scenario.latencies, 0.5):>7.1f} "
        f"{1000 * percentile(scenario.latencies, 0.99):>7.1f} "
        f"{1000 * scenario.client_cpu / done:>18.1f} {1000 * scenario.server_cpu / done:>10.1f}"
        + (f"  ({len(scenario.errors)} errors)" if scenario.errors else "")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--orders", type=int, default=25, help="orders per client per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument(
        "--profile", action="store_true", help="time 20 placements by one client, profile 20 more"
    )
    args = parser.parse_args()
    settings.DEBUG = False  # no query log in connection.queries while measuring

    description = machine()
    shop = ensure_shop(args.clients)
    reset(shop)
    scenarios = [Scenario(kind, hot) for hot in (False, True) for kind in (PLACEMENT, SALE)]
    try:
        for number in range(args.rounds):
            for scenario in scenarios:
                print(f"round {number + 1}/{args.rounds}: {scenario.label} ...", flush=True)
                run(shop, scenario, clients=args.clients, orders_per_client=args.orders)
        print(f"an order of {args.events} events ...", flush=True)
        stream = stream_bench(shop, events=args.events, repeat=args.repeat)
        profiled = profile_placement(shop, 20) if args.profile else None
    finally:
        reset(shop)

    print()
    print(description)
    print(
        f"{args.clients} client processes, {args.orders} orders each per round, {args.rounds} "
        f"rounds; one line of one unit per order, provider 'manual'; checkouts prepared and "
        f"held before the timed part"
    )
    print()
    header = (
        f"{'timed operation':<58} {'done':>5} {'per s':>7} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'CPU ms/op: client':>18} {'PostgreSQL':>10}"
    )
    print_table(header, (scenario_row(scenario) for scenario in scenarios))
    for placement, sale in zip(scenarios[::2], scenarios[1::2], strict=True):
        ratio = statistics.median(sale.rates) / statistics.median(placement.rates)
        extra = 1000 * (percentile(placement.latencies, 0.5) - percentile(sale.latencies, 0.5))
        where = "one hot SKU" if placement.hot else "distinct SKUs"
        print(f"{where}: the sale alone runs {ratio:.1f}x the placements' rate; the order adds "
              f"{extra:.1f} ms at p50")  # fmt: skip
    for scenario in scenarios:
        for error in sorted(set(scenario.errors))[:3]:
            print(f"error in {scenario.label}: {error}")
    print()
    print(
        f"An order of {stream.events} events, built through the services in "
        f"{stream.build_seconds:.1f} s; a refund took {stream.first_refunds_ms:.1f} ms near the "
        f"start of the stream, {stream.last_refunds_ms:.1f} ms near its end (median of 20)"
    )
    header = f"{'read (median of ' + str(args.repeat) + ')':<52} {'1,000 ev ms':>12} {'2 ev ms':>8}"
    print_table(
        header.replace("1,000", f"{stream.events:,}"),
        (f"{name:<52} {long:>12.2f} {short:>8.2f}" for name, (long, short) in stream.rows.items()),
    )
    if profiled:
        queries, text = profiled
        print()
        print(f"One placement: {queries} queries (transaction control included)")
        print(text)


if __name__ == "__main__":
    main()
