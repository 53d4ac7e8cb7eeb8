"""Requests per second of the storefront's pages, without and with the page cache, beside a
bare Django view; and rows per second of a catalog CSV import.

The pages are served the way ``make run`` serves them: gunicorn (``nproc + 1`` sync workers)
with the production settings (``DEBUG`` off, WhiteNoise, every middleware), against the
development database. Two servers run side by side: one with the page cache off
(``STOREFRONT_PAGE_CACHE_SECONDS=0``: every request renders, "cold") and one with it on
("warm": after the first request a page comes from Redis, its personal parts filled in).
``bench.settings`` only adds one URL to the tenant's URLs: the bare view
(``bench/bare/?bytes=N``), which goes through the same middleware (tenant resolution, locale,
security headers) and renders a template of ``N`` bytes with no query of its own. It is asked
for pages the size of each page it stands beside, so the ratio says what the page costs
beyond the stack itself.

A tenant ``shopbench`` (created once, kept) holds the site: the demo's pages (a landing page
as the home page), menus and posts in English and German, and a catalog of ``--products``
products of ``--variants`` variants each, priced in USD and EUR, stocked at two locations, in
two collections and a category, each with two images. Its catalog comes in through the CSV
import and its listings are built directly (no worker needed). Clients are threads in this
process, each with its own connection per request (gunicorn's sync workers close it);
endpoints run interleaved in rounds so that machine noise hits all of them alike.

The CSV import runs in a tenant made for it and dropped afterwards: a file of ``--csv-rows``
variant rows (10 variants per product) is parsed and imported as ``import_catalog`` does
(``--csv-rows 0`` leaves it out).

    python bench/storefront.py [--products 48] [--variants 12] [--seconds 4] [--rounds 3]
                               [--clients 6] [--csv-rows 10000] [--quick]
"""

from __future__ import annotations

import argparse
import csv
import http.client
import io
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, override_settings  # noqa: E402
from django_tenants.utils import schema_context  # noqa: E402
from PIL import Image  # noqa: E402

from apps.commerce import csv_format, selectors, services  # noqa: E402
from apps.content.kinds import POST_KIND  # noqa: E402
from apps.index import content_listing  # noqa: E402
from apps.index import selectors as index_selectors  # noqa: E402
from apps.index.product_listing import sync_all  # noqa: E402
from apps.pages import site  # noqa: E402
from apps.storefront import demo  # noqa: E402
from apps.tenancy.models import Tenant  # noqa: E402
from apps.tenancy.services import tenant_create, tenant_update  # noqa: E402
from bench.report import machine, percentile, print_table  # noqa: E402

SHOP_TENANT = "shopbench"
HOST = f"{SHOP_TENANT}.{settings.TENANT_BASE_DOMAIN}"
SIZES = ("XS", "S", "M", "L", "XL", "XXL")
COLOURS = ("Sand", "Navy", "Olive", "Rust", "Slate", "Cream", "Black", "White", "Red", "Teal")
CSV_VARIANTS_PER_PRODUCT = 10


# -- the catalog -----------------------------------------------------------------------------


def catalog_csv(*, products: int, variants: int, prefix: str, status: str = "active") -> str:
    """A catalog file: ``products`` products of ``variants`` variants (size x colour)."""
    combos = [(size, colour) for colour in COLOURS for size in SIZES][:variants]
    if len(combos) < variants:
        raise SystemExit(f"at most {len(SIZES) * len(COLOURS)} variants per product")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([
        "handle", "title", "description", "vendor", "product_type", "status", "option1_name",
        "option1_value", "option2_name", "option2_value", "sku", "collections", "categories",
        "price_USD", "compare_at_USD", "price_EUR", "stock_main", "stock_north",
    ])  # fmt: skip
    for number in range(products):
        handle = f"{prefix}-product-{number:05d}"
        collections = "summer|bestsellers" if number % 2 else "summer"
        for index, (size, colour) in enumerate(combos):
            first = index == 0
            price = 20 + number % 50 + index
            writer.writerow([
                handle,
                f"Product {number} of the bench" if first else "",
                f"A **sturdy** thing, number {number}, made to last. " * 4 if first else "",
                "Bench Mills" if first else "",
                "Shirts" if first else "",
                status if first else "",
                "Size" if first else "", size, "Colour" if first else "", colour,
                f"{prefix.upper()}-{number:05d}-{index:03d}",
                collections if first else "",
                "clothing" if first else "",
                f"{price}.00", f"{price + 10}.00" if index % 3 == 0 else "", f"{price - 2}.50",
                str(index % 7), "3",
            ])  # fmt: skip
    return out.getvalue()


def png(colour: tuple[int, int, int]) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (48, 48), colour).save(buffer, "PNG")
    return SimpleUploadedFile("picture.png", buffer.getvalue(), content_type="image/png")


def store_setup() -> None:
    """What the catalog file refers to: currencies, locations, collections, a category."""
    services.store_settings_update(default_currency="USD", enabled_currencies=["USD", "EUR"])
    for code, name in (("main", "Main warehouse"), ("north", "North depot")):
        if selectors.location_by_code(code) is None:
            services.location_create(code=code, name=name)
    for handle, title in (("summer", "Summer"), ("bestsellers", "Bestsellers")):
        if selectors.collection_by_handle(handle) is None:
            services.collection_create(title=title, handle=handle)
    if selectors.category_by_handle("clothing") is None:
        services.category_create(name="Clothing", handle="clothing")


def ensure_shop(products: int, variants: int) -> None:
    """The ``shopbench`` tenant with exactly this catalog (rebuilt when the shape changed)."""
    if not Tenant.objects.filter(slug=SHOP_TENANT).exists():
        print(f"creating tenant {SHOP_TENANT} ...", flush=True)
        tenant_create(slug=SHOP_TENANT, name="Shop bench", admin_email="bench@example.com")
    with schema_context(SHOP_TENANT):
        shape = (products, variants)
        current = selectors.products(status="active")
        have = (current.count(), selectors.variants().count() // max(current.count(), 1))
        if have != shape:
            print(f"importing {products} products x {variants} variants ...", flush=True)
            for product in selectors.products():
                if product.status == "active":
                    services.product_transition(product_id=product.pk, action="deactivate")
                services.product_delete(product_id=product.pk)
            store_setup()
            text = catalog_csv(products=products, variants=variants, prefix="shop")
            services.catalog_import(rows=csv_format.parse(text).rows)
            for number, product in enumerate(selectors.products().order_by("handle")):
                for shade in range(2):
                    services.product_image_add(
                        product_id=product.pk,
                        file=png((40 * shade, 100 + number % 100, 90)),
                        alt_text={"en": f"{product.title}, view {shade + 1}"},
                    )
        sync_all()


def ensure_site() -> None:
    """The demo's pages (a landing page as the home page), menus and posts in ``shopbench``,
    in English and German (made once, kept), and its content listing built."""
    if "de" not in Tenant.objects.get(slug=SHOP_TENANT).locales:
        tenant_update(slug=SHOP_TENANT, enabled_locales=["en", "de"])
    with schema_context(SHOP_TENANT):
        report = demo.SeedReport()
        palette = demo.PALETTES["acme"]
        found = demo.seed_pages(name="Shop bench", palette=palette, report=report)
        demo.seed_menus(found=found, report=report)
        authors = demo.demo_authors(SHOP_TENANT)
        demo.seed_posts(name="Shop bench", palette=palette, report=report, authors=authors)
        if report.created:
            print(f"seeded {len(report.created)} pages, menus and posts", flush=True)
        content_listing.sync_all()
        site.invalidate()


def sample_handle() -> str:
    with schema_context(SHOP_TENANT):
        return selectors.products(status="active").order_by("handle").first().handle


def sample_post() -> str:
    with schema_context(SHOP_TENANT):
        return index_selectors.latest(kind=POST_KIND, locale="en", limit=1)[0].slug


# -- the server ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(page_cache_seconds: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        STOREFRONT_PAGE_CACHE_SECONDS=str(page_cache_seconds),
        DJANGO_SETTINGS_MODULE="bench.settings",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(40),
        METRICS_TOKEN=secrets.token_urlsafe(20),
        SECURE_SSL_REDIRECT="0",
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
        PYTHONPATH=str(ROOT),
    )
    return env


def collect_static() -> None:
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=ROOT, env=server_env(0), check=True,
    )  # fmt: skip


@dataclass
class Server:
    port: int
    workers: int
    page_cache_seconds: int
    proc: subprocess.Popen | None = None

    def start(self) -> None:
        env = server_env(self.page_cache_seconds)
        self.proc = subprocess.Popen(
            [
                sys.executable, "-m", "gunicorn", "config.wsgi", "--bind",
                f"127.0.0.1:{self.port}", "--workers", str(self.workers), "--log-level", "warning",
            ],
            cwd=ROOT, env=env, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if get(self.port, "/health/live")[0] == 200:
                    return
            except OSError:
                time.sleep(0.2)
        raise SystemExit("gunicorn did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=30)


def get(port: int, path: str) -> tuple[int, int]:
    """One request: (status, body bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers={"Host": HOST, "Accept-Language": "en"})
        response = conn.getresponse()
        return response.status, len(response.read())
    finally:
        conn.close()


# -- load ------------------------------------------------------------------------------------


@dataclass
class Endpoint:
    name: str
    path: str
    port: int
    cached: bool = False  # served with the page cache on
    bytes: int = 0
    queries: int = 0
    rates: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    errors: int = 0


def load(endpoint: Endpoint, *, seconds: float, clients: int) -> None:
    """``clients`` threads asking for ``endpoint`` for ``seconds``: adds a rate and latencies."""
    stop = time.monotonic() + seconds
    done: list[int] = []
    latencies: list[float] = []
    lock = threading.Lock()

    def client() -> None:
        count, mine, failed = 0, [], 0
        while time.monotonic() < stop:
            started = time.perf_counter()
            status, _ = get(endpoint.port, endpoint.path)
            mine.append(time.perf_counter() - started)
            if status != 200:
                failed += 1
            count += 1
        with lock:
            done.append(count)
            latencies.extend(mine)
            endpoint.errors += failed

    started = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    endpoint.rates.append(sum(done) / (time.monotonic() - started))
    endpoint.latencies.extend(latencies)


def count_queries(endpoint: Endpoint) -> None:
    """Queries of one request, from an untimed pass in this process (warm caches)."""
    client = Client(HTTP_HOST=HOST, HTTP_ACCEPT_LANGUAGE="en")
    templates = [{**settings.TEMPLATES[0]}]
    templates[0]["DIRS"] = [*templates[0]["DIRS"], ROOT / "bench" / "templates"]
    seconds = 300 if endpoint.cached else 0
    with override_settings(
        ROOT_URLCONF="bench.urls", TEMPLATES=templates, STOREFRONT_PAGE_CACHE_SECONDS=seconds
    ):
        client.get(endpoint.path)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(endpoint.path)
    if response.status_code != 200:
        raise SystemExit(f"{endpoint.path} answered {response.status_code}")
    endpoint.queries = len(queries)
    connection.set_schema_to_public()


def serve_bench(args: argparse.Namespace) -> list[tuple[Endpoint, Endpoint, Endpoint]]:
    """(cold, warm, bare view) for each page, measured."""
    ensure_shop(args.products, args.variants)
    ensure_site()
    pages = [
        ("home", "/"),
        ("blog index", "/blog/"),
        ("post page", f"/blog/{sample_post()}/"),
        ("shop listing", "/shop/"),
        ("product page", f"/shop/{sample_handle()}/"),
    ]
    collect_static()
    cold = Server(free_port(), args.workers, page_cache_seconds=0)
    warm = Server(free_port(), args.workers, page_cache_seconds=300)
    try:
        cold.start()
        warm.start()
        triples = []
        for name, path in pages:
            status, size = get(cold.port, path)
            if status != 200:
                raise SystemExit(f"{path} answered {status}")
            page = Endpoint(f"{name}, cold", path, cold.port, bytes=size)
            cached = Endpoint(f"{name}, warm", path, warm.port, cached=True, bytes=size)
            bare = Endpoint(f"bare view, {name} size", f"/bench/bare/?bytes={size}", cold.port)
            bare.bytes = get(cold.port, bare.path)[1]
            triples.append((page, cached, bare))
        endpoints = [endpoint for triple in triples for endpoint in triple]
        for endpoint in endpoints:
            count_queries(endpoint)
        for endpoint in endpoints:  # warm every worker's caches (and the page cache)
            load(endpoint, seconds=1, clients=args.clients)
            endpoint.rates.clear()
            endpoint.latencies.clear()
            endpoint.errors = 0
        for number in range(args.rounds):
            print(f"round {number + 1}/{args.rounds} ...", flush=True)
            for endpoint in endpoints:
                load(endpoint, seconds=args.seconds, clients=args.clients)
        return triples
    finally:
        cold.stop()
        warm.stop()


# -- the CSV import --------------------------------------------------------------------------


def import_bench(rows: int) -> tuple[float, float, int]:
    """Seconds to parse and to import ``rows`` variant rows into a new tenant; events written."""
    slug = f"csvbench{os.getpid()}"
    print(f"creating tenant {slug} for the import ...", flush=True)
    tenant = tenant_create(slug=slug, name="CSV bench", admin_email="bench@example.com").tenant
    try:
        with schema_context(tenant.schema_name):
            store_setup()
            products = rows // CSV_VARIANTS_PER_PRODUCT
            text = catalog_csv(products=products, variants=CSV_VARIANTS_PER_PRODUCT, prefix="csv")
            started = time.perf_counter()
            parsed = csv_format.parse(text)
            parsed_at = time.perf_counter()
            summary = services.catalog_import(rows=parsed.rows)
            imported_at = time.perf_counter()
            if summary.variants_created != rows:
                raise SystemExit(f"imported {summary.variants_created} variants, not {rows}")
        return parsed_at - started, imported_at - parsed_at, summary.events
    finally:
        connection.set_schema_to_public()
        Tenant.objects.filter(pk=tenant.pk).delete()
        with connection.cursor() as cursor:
            cursor.execute(f'DROP SCHEMA IF EXISTS "{tenant.schema_name}" CASCADE')


def rate(endpoint: Endpoint) -> float:
    return statistics.median(endpoint.rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=48)
    parser.add_argument("--variants", type=int, default=12)
    parser.add_argument("--seconds", type=float, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) + 1)
    parser.add_argument("--csv-rows", type=int, default=10_000)
    parser.add_argument(
        "--quick", action="store_true", help="one round of 2 s, no CSV import (a busy machine)"
    )
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.rounds, args.csv_rows = 2, 1, 0

    description = machine()
    triples = serve_bench(args)
    endpoints = [endpoint for triple in triples for endpoint in triple]

    print()
    print(description)
    print(
        f"gunicorn {args.workers} sync workers per server, {args.clients} clients, "
        f"{args.rounds} rounds of {args.seconds:g} s; catalog {args.products} products x "
        f"{args.variants} variants"
    )
    print()
    header = (
        f"{'endpoint':<34} {'bytes':>7} {'queries':>7} {'req/s':>8} {'p50 ms':>7} {'p95 ms':>7}"
    )
    print_table(
        header,
        (
            f"{endpoint.name:<34} {endpoint.bytes:>7} {endpoint.queries:>7} "
            f"{rate(endpoint):>8.0f} "
            f"{1000 * percentile(endpoint.latencies, 0.5):>7.1f} "
            f"{1000 * percentile(endpoint.latencies, 0.95):>7.1f}"
            + (f"  ({endpoint.errors} errors)" if endpoint.errors else "")
            for endpoint in endpoints
        ),
    )
    print()
    header = f"{'page':<14} {'cold req/s':>10} {'warm req/s':>10} {'bare req/s':>10} {'cold':>6} {'warm':>6}"
    print_table(
        header,
        (
            f"{cold.name.rsplit(',', 1)[0]:<14} {rate(cold):>10.0f} {rate(warm):>10.0f} "
            f"{rate(bare):>10.0f} {rate(cold) / rate(bare):>6.0%} {rate(warm) / rate(bare):>6.0%}"
            for cold, warm, bare in triples
        ),
    )
    if args.csv_rows <= 0:
        return
    parse_seconds, import_seconds, events = import_bench(args.csv_rows)
    print()
    total = parse_seconds + import_seconds
    print(
        f"CSV import of {args.csv_rows} variant rows ({args.csv_rows // CSV_VARIANTS_PER_PRODUCT} "
        f"products): parse {parse_seconds:.2f} s, import {import_seconds:.2f} s, "
        f"{args.csv_rows / total:.0f} rows/s overall; {events} events written"
    )


if __name__ == "__main__":
    main()
