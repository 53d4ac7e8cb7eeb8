"""Per-request cost of tenant resolution: our middleware against django-tenants' own.

Each middleware wraps a trivial view (it returns an empty ``HttpResponse``) and is
called directly with ``RequestFactory`` requests, so a sample is the time one
request spends in the middleware plus that view, nothing else. Measured on the
same ``Host`` (a custom domain of tenant ``acme``, registered here if missing):

* ``stock``       -- ``django_tenants.middleware.main.TenantMainMiddleware``: one
                     ``Domain``/``Tenant`` join per request, plus the ``SET search_path``
                     its switch back to the public schema forces;
* ``ours warm``   -- ``apps.tenancy.middleware.TenantResolverMiddleware``, answered
                     by the per-process cache;
* ``ours redis``  -- the same with the per-process cache cleared before every
                     request, so Redis answers;
* ``ours cold``   -- the per-process cache and the Redis entry both cleared before
                     every request, so PostgreSQL answers.

Our three variants run again on the subdomain host ``acme.localhost``, and a
``floor`` row calls the bare view, to show what no middleware costs. Clearing
caches and building requests happen outside the timed region.

Variants run interleaved, in rounds, so that machine noise hits all of them
alike; the garbage collector is off inside timed blocks (as in ``timeit``).
Queries per request come from a separate, untimed pass under
``CaptureQueriesContext`` so that counting them does not slow the timed runs.

    python bench/tenant_resolution.py [--iterations 5000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import gc
import importlib.metadata
import os
import platform
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.http import HttpRequest, HttpResponse  # noqa: E402
from django.test import RequestFactory  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django_tenants.middleware.main import TenantMainMiddleware  # noqa: E402
from prometheus_client import REGISTRY  # noqa: E402

from apps.tenancy.errors import TenantConflict  # noqa: E402
from apps.tenancy.middleware import TenantResolverMiddleware  # noqa: E402
from apps.tenancy.resolver import (  # noqa: E402
    host_key,
    redis_breaker_state,
    slug_key,
    tenant_cache,
)
from apps.tenancy.services import domain_add  # noqa: E402
from bench.report import server_version  # noqa: E402

TENANT = "acme"
CUSTOM_HOST = "bench-acme.example"
SUBDOMAIN_HOST = f"{TENANT}.{settings.TENANT_BASE_DOMAIN}"
LAYERS = ("local", "redis", "database")
PRIMING = 20  # untimed requests at the start of every block

Handler = Callable[[HttpRequest], HttpResponse]


def view(request: HttpRequest) -> HttpResponse:
    """The trivial ``get_response`` every middleware wraps."""
    return HttpResponse()


def nothing() -> None:
    """No preparation: the caches stay as the previous request left them."""


@dataclass
class Variant:
    label: str
    host: str
    handler: Handler
    prepare: Callable[[], None] = nothing
    expects_tenant: bool = True
    samples_ns: list[int] = field(default_factory=list)
    queries_per_request: float = 0.0
    statements: Counter[str] = field(default_factory=Counter)
    layers: dict[str, float] = field(default_factory=dict)


# -- set-up ------------------------------------------------------------------


def ensure_custom_domain() -> None:
    """Register ``CUSTOM_HOST`` for the tenant, for the stock middleware's lookup."""
    try:
        domain_add(slug=TENANT, domain=CUSTOM_HOST)
        print(f"registered domain {CUSTOM_HOST} for tenant {TENANT}")
    except TenantConflict:
        pass


def drop_local() -> None:
    tenant_cache.clear_local()


def drop_local_and_shared(key: str) -> Callable[[], None]:
    def prepare() -> None:
        tenant_cache.clear_local()
        tenant_cache.shared.delete_many([key])

    return prepare


def build_variants() -> list[Variant]:
    stock = TenantMainMiddleware(view)
    ours = TenantResolverMiddleware(view)
    variants = [
        Variant("floor (no middleware)", CUSTOM_HOST, view, expects_tenant=False),
        Variant("stock TenantMainMiddleware", CUSTOM_HOST, stock),
    ]
    for host, key in ((CUSTOM_HOST, host_key(CUSTOM_HOST)), (SUBDOMAIN_HOST, slug_key(TENANT))):
        variants += [
            Variant("ours warm (local cache)", host, ours),
            Variant("ours redis (local cleared)", host, ours, drop_local),
            Variant("ours cold (local+redis cleared)", host, ours, drop_local_and_shared(key)),
        ]
    return variants


# -- running -----------------------------------------------------------------


def call(variant: Variant, factory: RequestFactory) -> tuple[HttpRequest, HttpResponse]:
    request = factory.get("/", HTTP_HOST=variant.host)
    variant.prepare()
    return request, variant.handler(request)


def timed_block(variant: Variant, factory: RequestFactory, count: int) -> None:
    """``count`` timed requests, after ``PRIMING`` untimed ones."""
    for _ in range(PRIMING):
        call(variant, factory)
    gc.collect()
    gc.disable()
    try:
        for _ in range(count):
            request = factory.get("/", HTTP_HOST=variant.host)
            variant.prepare()
            started = time.perf_counter_ns()
            variant.handler(request)
            variant.samples_ns.append(time.perf_counter_ns() - started)
    finally:
        gc.enable()


def round_sizes(iterations: int, rounds: int) -> list[int]:
    base, extra = divmod(iterations, rounds)
    return [base + (1 if index < extra else 0) for index in range(rounds)]


def run_rounds(variants: list[Variant], iterations: int, rounds: int) -> None:
    factory = RequestFactory()
    for number, size in enumerate(round_sizes(iterations, rounds), start=1):
        for variant in variants:
            timed_block(variant, factory, size)
        print(f"round {number}/{rounds} done ({size} requests per variant)", flush=True)


def warm_up(variants: list[Variant], count: int) -> None:
    factory = RequestFactory()
    for variant in variants:
        for _ in range(count):
            call(variant, factory)


def lookups() -> dict[str, float]:
    return {
        layer: REGISTRY.get_sample_value("tenancy_lookups_total", {"layer": layer}) or 0.0
        for layer in LAYERS
    }


def check(variant: Variant, request: HttpRequest, response: HttpResponse) -> None:
    """Stop if a variant did not serve the tenant: its figures would mean nothing."""
    tenant = getattr(request, "tenant", None)
    served = getattr(tenant, "schema_name", None) == TENANT
    if response.status_code != 200 or (variant.expects_tenant and not served):
        raise SystemExit(
            f"{variant.label} on {variant.host}: status {response.status_code}, tenant {tenant!r}"
        )


def count_queries(variant: Variant, count: int) -> None:
    """Queries, statements and answering cache layer per request, in an untimed pass."""
    factory = RequestFactory()
    call(variant, factory)  # leave the connection as this variant's own requests do
    before = lookups()
    with CaptureQueriesContext(connection) as captured:
        for _ in range(count):
            request, response = call(variant, factory)
            check(variant, request, response)
    after = lookups()
    variant.queries_per_request = len(captured) / count
    variant.statements = Counter(query["sql"] for query in captured.captured_queries)
    variant.layers = {layer: (after[layer] - before[layer]) / count for layer in LAYERS}


# -- report ------------------------------------------------------------------


def micros(ns: float) -> float:
    return ns / 1000


def summary(variant: Variant) -> dict[str, float]:
    samples = variant.samples_ns
    percentiles = statistics.quantiles(samples, n=100, method="inclusive")
    return {
        "mean": micros(statistics.fmean(samples)),
        "p50": micros(statistics.median(samples)),
        "p99": micros(percentiles[98]),
    }


def answered_by(variant: Variant) -> str:
    parts = [f"{layer} {share:.0%}" for layer, share in variant.layers.items() if share]
    return ", ".join(parts) or "-"


def print_environment(args: argparse.Namespace) -> None:
    db = connection.settings_dict
    print(
        f"Python {platform.python_version()}, Django {django.get_version()}, "
        f"django-tenants {importlib.metadata.version('django-tenants')}, "
        f"PostgreSQL {server_version()}\n"
        f"settings {os.environ['DJANGO_SETTINGS_MODULE']} (DEBUG={settings.DEBUG}), "
        f"database {db['HOST'] or 'socket'}:{db['PORT'] or '-'}/{db['NAME']} "
        f"(CONN_MAX_AGE={db['CONN_MAX_AGE']}), "
        f"TENANT_LIMIT_SET_CALLS={getattr(settings, 'TENANT_LIMIT_SET_CALLS', False)}\n"
        f"{args.iterations} timed requests per variant in {args.rounds} interleaved rounds, "
        f"after {args.warmup} warm-up requests per variant\n"
    )


def print_table(variants: list[Variant]) -> None:
    floor = summary(variants[0])["mean"]
    header = (
        f"{'variant':<33} {'host':<19} {'mean µs':>8} {'p50 µs':>8} {'p99 µs':>8} "
        f"{'net µs':>8} {'queries':>8}  answered by"
    )
    print(header)
    print("-" * len(header))
    for variant in variants:
        stats = summary(variant)
        print(
            f"{variant.label:<33} {variant.host:<19} {stats['mean']:>8.1f} {stats['p50']:>8.1f} "
            f"{stats['p99']:>8.1f} {stats['mean'] - floor:>8.1f} "
            f"{variant.queries_per_request:>8.2f}  {answered_by(variant)}"
        )
    print("net = mean minus the floor's mean (the view and the call itself)\n")


def print_statements(variants: list[Variant]) -> None:
    print("SQL per request (untimed counting pass):")
    for variant in variants:
        if not variant.statements:
            continue
        print(f"  {variant.label} on {variant.host}:")
        total = sum(variant.statements.values())
        for sql, times in variant.statements.most_common():
            print(f"    {times / total * variant.queries_per_request:5.2f} x {sql}")
    print()


def print_ratios(variants: list[Variant]) -> None:
    floor = summary(variants[0])["mean"]
    stock = summary(variants[1])
    print(f"stock / ours on the same host ({CUSTOM_HOST}):")
    for variant in variants[2:5]:
        ours = summary(variant)
        net = (stock["mean"] - floor) / max(ours["mean"] - floor, 1e-9)
        print(
            f"  {variant.label:<33} mean {stock['mean'] / ours['mean']:5.2f}x, "
            f"p50 {stock['p50'] / ours['p50']:5.2f}x, net of floor {net:5.2f}x"
        )


# -- main --------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=5000, help="timed requests per variant")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds")
    parser.add_argument("--warmup", type=int, default=200, help="warm-up requests per variant")
    parser.add_argument("--count", type=int, default=200, help="requests per query-counting pass")
    args = parser.parse_args()
    if args.iterations < args.rounds or args.rounds < 1 or args.count < 1:
        parser.error("need iterations >= rounds >= 1 and count >= 1")
    return args


def main() -> None:
    args = parse_args()
    ensure_custom_domain()
    if not tenant_cache.wait_until_listening():
        raise SystemExit("Redis is unreachable: the cache variants would measure nothing")
    print_environment(args)
    variants = build_variants()
    warm_up(variants, args.warmup)
    for variant in variants:
        count_queries(variant, args.count)
    run_rounds(variants, args.iterations, args.rounds)
    print()
    print_table(variants)
    print_statements(variants)
    print_ratios(variants)
    if redis_breaker_state() != "closed":
        print(
            f"\nwarning: Redis circuit breaker is {redis_breaker_state()}; Redis rows are invalid"
        )


if __name__ == "__main__":
    main()
