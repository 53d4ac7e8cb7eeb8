"""Tenant scale: what provisioning, migrations, the relay, resolution, beat and the catalog cost
with ``--tenants`` tenants on one database.

Parts (``--parts``, all by default), in this order:

* ``provision`` -- a sample of tenants created from a spare schema, by cloning the template
  schema and (a smaller one) by running every migration, interleaved, each with the first
  admin's password given and without, then the tenants up to ``--tenants`` (named
  ``scale-00001`` ...; kept, so a later run with a larger count only adds the difference),
  by the clone path, in ``--jobs`` processes;
* ``migrate`` -- ``migrate_tenants`` with nothing to apply, then a real run of one migration
  (a nullable column added to the bench's own tenant app, ``bench.scaleapp``), over every
  schema;
* ``relay`` -- the relay's drain of a backlog of 20 active tenants' events (``bench/outbox.py``'s
  backlog and projection) with every other tenant idle, beside the raw ``DELETE ... RETURNING``
  floor: one shared outbox, so the tenant count must not show;
* ``resolver`` -- ``--requests`` host resolutions drawn from a Zipf distribution over every
  tenant, through the resolver's two cache levels, for several sizes of the per-process LRU
  cache: its hit rate, Redis's and PostgreSQL's shares, the time per resolution and the memory
  the local cache holds;
* ``beat`` -- the beat jobs that do per-tenant work, with one tenant due among all: the
  queries and the time of a run;
* ``catalog`` -- PostgreSQL's catalog: relations and catalog rows per tenant, bytes on disk
  per tenant and in all, the database's size;
* ``dump`` -- ``pg_dump`` of one tenant's schema and its restore as another tenant (the schema
  restored under a new name and registered), with a row count compared.

Run it against a database of its own: it creates thousands of schemas.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_scale \\
        python bench/tenants.py --tenants 1000 [--parts provision,migrate,...]
"""

from __future__ import annotations

import argparse
import collections
import multiprocessing
import os
import random
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
# The benches' own events (the relay's backlog) are loaded with the apps.
from bench.start import with_bench_events  # noqa: E402

with_bench_events()

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import RequestFactory, override_settings  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402
from prometheus_client import REGISTRY  # noqa: E402

from apps.tenancy.models import Tenant  # noqa: E402
from apps.tenancy.resolver import identify, shared_cache, tenant_cache  # noqa: E402
from bench.report import log, machine, percentile, print_table, scalar, sql  # noqa: E402

PARTS = ("provision", "migrate", "relay", "resolver", "beat", "catalog", "dump")
SCALE_PREFIX = "scale-"
RESTORED_SLUG = "scale-restored"


def tenant_count() -> int:
    return Tenant.objects.count()


def mib(value: float) -> str:
    return f"{value / 2**20:,.1f} MiB"


# -- provision ----------------------------------------------------------------------------


def drop_tenant(slug: str) -> None:
    """Drop ``slug``'s schema and row (a sample or a restored copy); nothing if there is none."""
    tenant = Tenant.objects.filter(slug=slug).first()
    if tenant is None:
        return
    sql(f'DROP SCHEMA IF EXISTS "{tenant.schema_name}" CASCADE')
    Tenant.objects.filter(pk=tenant.pk).delete()


def timing_row(label: str, seconds: list[float], baseline: list[float] | None = None) -> str:
    ratio = f"{statistics.median(baseline) / statistics.median(seconds):>6.1f}x" if baseline else ""
    return (
        f"{label:<16} {len(seconds):>6} {1000 * statistics.median(seconds):>9.0f} "
        f"{1000 * percentile(seconds, 0.9):>9.0f} {1000 * max(seconds):>9.0f} {ratio}"
    )


SAMPLE_PASSWORD = secrets.token_urlsafe(12)  # hashed as an operator's would be


def run_provision_sample(args: argparse.Namespace) -> None:
    """Tenants created by each path, interleaved (then dropped): a spare renamed and the
    template copied against every migration, each with the first admin's password given
    (hashed) and without (a set-password link), at the database's current tenant count.
    The spare path's pool is refilled before each one, untimed, as beat does out of band."""
    from apps.tenancy import spares, template
    from apps.tenancy.services import tenant_create

    if template.template_status() != "current":
        log(f"template: {template.template_refresh()}")
    migrate_count = args.migrate_sample or max(3, args.sample // 4)
    migrate_rounds = {index * args.sample // migrate_count for index in range(migrate_count)}
    seconds: dict[tuple[str, bool], list[float]] = {}
    for number in range(args.sample):
        for via in ("spare", "clone", "migrate"):
            if via == "migrate" and number not in migrate_rounds:
                continue
            for hashed in (False, True):
                if via == "spare":
                    spares.spares_refill(1)
                slug = f"sample-{via}-{'pw' if hashed else 'link'}-{number:03d}"
                drop_tenant(slug)
                made = tenant_create(
                    slug=slug, name=slug, admin_email=f"admin@{slug}.test", via=via,
                    admin_password=SAMPLE_PASSWORD if hashed else None,
                )  # fmt: skip
                assert made.path == via, (made.path, via)
                seconds.setdefault((via, hashed), []).append(made.seconds)
                drop_tenant(slug)
    with transaction.atomic():
        spares.spares_drop()
    rows = [f"{'path':<16} {'tenants':>6} {'p50 ms':>9} {'p90 ms':>9} {'max ms':>9} {'faster':>7}"]
    for hashed in (False, True):
        baseline = seconds[("migrate", hashed)]
        for via in ("migrate", "clone", "spare"):
            label = f"{via}, {'hashed' if hashed else 'link'}"
            rows.append(
                timing_row(label, seconds[(via, hashed)], None if via == "migrate" else baseline)
            )
    print_table(
        f"provisioning with {tenant_count():,} tenants ({len(expected_migrations())} tenant "
        f"migrations; admin password hashed or a set-password link): seconds per tenant; load "
        f"average after {os.getloadavg()[0]:.2f}",
        rows,
    )


def expected_migrations() -> frozenset:
    from apps.tenancy.template import expected_tenant_migrations

    return expected_tenant_migrations()


def _create_one(slug: str, how: str) -> None:
    """``service``: ``tenant_create``, as an operator does (spares while the pool lasts, then
    copies). ``schema``: only the tenant's row and its copy of the template, in one transaction
    (no first admin, no event): the bulk of a large run, at the least cost per tenant."""
    from apps.tenancy import template
    from apps.tenancy.identifiers import schema_name_for
    from apps.tenancy.services import tenant_create

    name = f"Scale {slug[len(SCALE_PREFIX) :]}"
    if how == "service":
        tenant_create(slug=slug, name=name, admin_email=f"admin@{slug}.test")
        return
    with transaction.atomic():
        tenant = Tenant.objects.create(slug=slug, name=name, schema_name=schema_name_for(slug))
        template.template_lock_shared()
        template.clone_template(tenant.schema_name)


def _create_share(slugs: list[str], how: str, done) -> None:
    """A child process's share of the bulk, on a connection of its own."""
    connection.close()
    for slug in slugs:
        _create_one(slug, how)
        with done.get_lock():
            done.value += 1
    connection.close()


def create_bulk(args: argparse.Namespace) -> None:
    """The tenants ``scale-00001`` ... up to ``--tenants`` in all, in ``--jobs`` processes."""
    existing = set(
        Tenant.objects.filter(slug__startswith=SCALE_PREFIX).values_list("slug", flat=True)
    )
    others = tenant_count() - len(existing)
    wanted = [
        f"{SCALE_PREFIX}{number:05d}" for number in range(1, max(0, args.tenants - others) + 1)
    ]
    missing = [slug for slug in wanted if slug not in existing]
    if missing:
        from apps.tenancy import template

        if template.template_status() != "current":
            log(f"template: {template.template_refresh()}")
        log(f"creating {len(missing):,} tenants ({args.bulk}) in {args.jobs} processes")
        context = multiprocessing.get_context("fork")
        done = context.Value("i", 0)
        connection.close()
        children = [
            context.Process(target=_create_share, args=(missing[job :: args.jobs], args.bulk, done))
            for job in range(args.jobs)
        ]
        started = time.perf_counter()
        for child in children:
            child.start()
        while any(child.is_alive() for child in children):
            time.sleep(10)
            elapsed = time.perf_counter() - started
            log(f"  {done.value:,}/{len(missing):,} tenants, {done.value / elapsed:,.1f}/s")
        if any(child.exitcode for child in children):
            raise SystemExit("a process creating tenants failed (its traceback is above)")
        elapsed = time.perf_counter() - started
        log(
            f"created {len(missing):,} tenants in {elapsed:.0f} s "
            f"({len(missing) / elapsed:,.1f}/s with {args.jobs} processes)"
        )


def create_rows(args: argparse.Namespace) -> None:
    """``--bulk rows``: the tenants' rows alone, in one statement, for the parts that read only
    rows (``resolver``, ``relay``, ``beat``): tenant counts no disk could hold schemas for."""
    from apps.tenancy.identifiers import schema_name_for

    existing = set(Tenant.objects.values_list("slug", flat=True))
    wanted = max(0, args.tenants - len(existing))
    slugs = [slug for number in range(1, args.tenants + 1)
             if (slug := f"{SCALE_PREFIX}{number:05d}") not in existing][:wanted]  # fmt: skip
    Tenant.objects.bulk_create(
        Tenant(slug=slug, name=slug, schema_name=schema_name_for(slug)) for slug in slugs
    )
    log(f"created {len(slugs):,} tenant rows without schemas; {tenant_count():,} tenants in all")


def run_provision(args: argparse.Namespace) -> None:
    if args.bulk == "rows":
        create_rows(args)
        return
    create_bulk(args)
    run_provision_sample(args)


# -- migrate --------------------------------------------------------------------------------

SCALE_MIGRATIONS = {
    "0001_initial.py": """from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [
        migrations.CreateModel(
            name="Probe",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("note", models.CharField(max_length=100)),
            ],
        ),
    ]
""",
    "0002_probe_extra.py": """from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("scaleapp", "0001_initial")]
    operations = [
        migrations.AddField(model_name="probe", name="extra", field=models.TextField(null=True)),
    ]
""",
}
MIGRATED_RE = re.compile(
    r"Migrated (\d+) schema\(s\) \((\d+) migrations\), skipped (\d+) as current, failed (\d+)"
)


# Takes the added column back in every schema that has it, so that the next run measures the
# same migration again: one schema per statement (one transaction over thousands of schemas
# would hold a lock on every table it alters, more than the server's lock table holds).
def undo_extra_column() -> int:
    schemas = [
        name
        for (name,) in sql(
            "SELECT table_schema FROM information_schema.columns "
            "WHERE table_name = 'scaleapp_probe' AND column_name = 'extra'"
        )
    ]
    for schema in schemas:
        sql(f'ALTER TABLE "{schema}".scaleapp_probe DROP COLUMN extra')
        sql(
            f'DELETE FROM "{schema}".django_migrations WHERE app = %s AND name = %s',  # noqa: S608 - catalog names
            ["scaleapp", "0002_probe_extra"],
        )
    return len(schemas)


def scale_package(with_extra: bool) -> Path:
    """The bench app's migrations package (under .data/), with or without the added column."""
    package = ROOT / ".data" / "bench-scale" / "scale_migrations"
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text("")
    for name, text in SCALE_MIGRATIONS.items():
        path = package / name
        if name.startswith("0001") or with_extra:
            path.write_text(text)
        else:
            path.unlink(missing_ok=True)
    shutil.rmtree(package / "__pycache__", ignore_errors=True)
    return package


def manage(*argv: str) -> tuple[float, str]:
    """``manage.py`` in a new process with the bench app installed; (seconds, its output)."""
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "bench.scale_settings"
    env["BENCH_SCALE_MIGRATIONS"] = "scale_migrations"
    env["PYTHONPATH"] = os.pathsep.join([str(scale_package_root()), str(ROOT)])
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *argv],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(f"manage.py {' '.join(argv)} failed:\n{done.stdout}\n{done.stderr}")
    return seconds, done.stdout


def scale_package_root() -> Path:
    return ROOT / ".data" / "bench-scale"


def migrate_row(label: str, seconds: float, output: str) -> str:
    found = MIGRATED_RE.search(output)
    migrated, applied, current, failed = found.groups() if found else ("?", "?", "?", "?")
    return (
        f"{label:<34} {seconds:>8.1f} {int(migrated):>9,} {int(current):>9,} {int(failed):>7} "
        f"{int(applied):>11,}"
        if found
        else f"{label:<34} {seconds:>8.1f}  (no summary in its output)"
    )


def run_migrate(args: argparse.Namespace) -> None:
    undo_extra_column()
    scale_package(with_extra=False)
    workers = ["--workers", str(args.migrate_workers)] if args.migrate_workers else []
    rows = []
    seconds, output = manage("migrate_tenants", *workers)
    if "Migrated 0 schema(s)" not in output:
        rows.append(migrate_row("first run: what each schema lacked", seconds, output))
    seconds, output = manage("migrate_tenants", *workers)
    rows.append(migrate_row("nothing to apply", seconds, output))
    if tenant_count() <= args.stock_max:
        seconds, _output = manage("migrate_schemas", "--tenant", "--noinput")
        rows.append(
            f"{'nothing to apply, migrate_schemas':<34} {seconds:>8.1f}  (django-tenants' own, every schema)"
        )
    scale_package(with_extra=True)
    seconds, output = manage("migrate_tenants", *workers)
    rows.append(migrate_row("one migration: a nullable column", seconds, output))
    undo_extra_column()
    scale_package(with_extra=False)
    print_table(
        f"migrate_tenants over {tenant_count():,} tenants (and the template), "
        f"{args.migrate_workers or settings.TENANT_MIGRATE_WORKERS} workers; whole command, seconds",
        [
            f"{'run':<34} {'seconds':>8} {'migrated':>9} {'current':>9} {'failed':>7} {'migrations':>11}",
            *rows,
        ],
    )


# -- resolver -----------------------------------------------------------------------------


def zipf_weights(count: int, exponent: float) -> list[float]:
    """Weights of ranks 1..count under Zipf's law: rank ``k`` is asked ``1/k**s`` as often."""
    return [1 / (rank**exponent) for rank in range(1, count + 1)]


def lookup_counts() -> dict[str, float]:
    return {
        layer: REGISTRY.get_sample_value("tenancy_lookups_total", {"layer": layer}) or 0.0
        for layer in ("local", "redis", "database")
    }


def run_resolver(args: argparse.Namespace) -> None:
    slugs = list(
        Tenant.objects.filter(status="active").order_by("pk").values_list("slug", flat=True)
    )
    random.Random(7).shuffle(slugs)  # popularity has nothing to do with age
    base = settings.TENANT_BASE_DOMAIN
    factory = RequestFactory()
    requests = [factory.get("/", HTTP_HOST=f"{slug}.{base}") for slug in slugs]
    draws = random.Random(11).choices(
        range(len(requests)), weights=zipf_weights(len(requests), args.zipf), k=args.requests
    )
    warm = len(draws) // 10
    distinct = len(set(draws))
    log(
        f"resolver: {args.requests:,} requests over {len(slugs):,} tenants, Zipf s={args.zipf} "
        f"({distinct:,} distinct tenants asked for; the first {warm:,} only warm the caches)"
    )
    sizes = sorted({max(1, len(slugs) // 100), max(1, len(slugs) // 10), len(slugs) // 2,
                    settings.TENANT_CACHE_LOCAL_MAXSIZE})  # fmt: skip
    rows = []
    for size in sizes:
        with override_settings(TENANT_CACHE_LOCAL_MAXSIZE=size):
            tenant_cache.clear_local()
            shared_cache.client().flushdb()
            for index in draws[:warm]:
                identify(requests[index])
            before = lookup_counts()
            timings = []
            for index in draws[warm:]:
                started = time.perf_counter_ns()
                identify(requests[index])
                timings.append(time.perf_counter_ns() - started)
            after = lookup_counts()
            tracemalloc.start()
            tenant_cache.clear_local()
            for request in requests[:size]:
                identify(request)
            held, _peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
        counted = {level: after[level] - before[level] for level in after}
        total = sum(counted.values()) or 1
        rows.append(
            f"{size:>10,} {100 * counted['local'] / total:>8.2f} % {100 * counted['redis'] / total:>7.2f} % "
            f"{100 * counted['database'] / total:>7.2f} % {sum(timings) / len(timings) / 1000:>8.1f} "
            f"{percentile(timings, 0.99) / 1000:>8.1f} {held / 1024:>9,.0f} KiB"
        )
    tenant_cache.clear_local()
    print_table(
        f"{'LRU size':>10} {'local':>10} {'Redis':>9} {'database':>9} {'mean µs':>8} {'p99 µs':>8} "
        f"{'LRU memory':>13}",
        rows,
    )
    log("(the memory column: what the local cache holds when full, traced by tracemalloc)")


# -- beat -----------------------------------------------------------------------------------


def with_schema(tenants) -> Tenant | None:
    """The first of ``tenants`` whose schema exists (``--bulk rows`` makes tenants without)."""
    schemas = {name for (name,) in sql("SELECT nspname FROM pg_namespace")}
    return next((t for t in tenants.order_by("pk").iterator() if t.schema_name in schemas), None)


def timed_queries(run: Callable[[], object]) -> tuple[float, int]:
    # Django keeps the last 9,000 queries: a walk over 10,000 schemas makes more.
    connection.queries_log = collections.deque(maxlen=10_000_000)
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        run()
        seconds = time.perf_counter() - started
    return seconds, len(queries)


def run_beat(args: argparse.Namespace) -> None:
    """Each beat job that does per-tenant work, with one tenant due among all; beside it, what a
    walk over every active tenant costs with one query in each (the jobs' former shape)."""
    import logging

    from apps.tenancy.services import due_work_kinds, work_due
    from apps.tenancy.tasks import for_each_active_tenant
    from config.celery import app

    app.loader.import_default_modules()
    due = with_schema(Tenant.objects.filter(slug__startswith=SCALE_PREFIX)) or with_schema(
        Tenant.objects.all()
    )
    quiet = logging.getLogger("bench.tenants.beat")
    # The least a job did in each schema before: one query (after its search_path).
    seconds, queries = timed_queries(
        lambda: for_each_active_tenant(lambda: scalar("SELECT 0"), logger=quiet, done="%s %s")
    )
    rows = [f"{'every active tenant, one query in each':<40} {queries:>8,} {1000 * seconds:>10.1f}"]
    for kind in due_work_kinds():
        app.tasks[kind]()  # untimed: settles what earlier work (or the upgrade's seed) left due
        with transaction.atomic():
            work_due(kind=kind, at=timezone.now(), tenant=due)
        task = app.tasks[kind]
        seconds, queries = timed_queries(task)
        rows.append(f"{kind:<40} {queries:>8,} {1000 * seconds:>10.1f}")
    print_table(
        f"beat jobs with {tenant_count():,} tenants, one due ({due.slug})",
        [f"{'job':<40} {'queries':>8} {'ms':>10}", *rows],
    )


# -- catalog ------------------------------------------------------------------------------


def schema_objects(schema: str) -> dict[str, int]:
    rows = sql(
        "SELECT c.relkind, count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s GROUP BY 1",
        [schema],
    )
    objects = {kind: count for kind, count in rows}
    # TOAST tables (and their indexes) live in pg_toast, not in the tenant's schema.
    objects["t"] = scalar(
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.reltoastrelid <> 0",
        [schema],
    )
    return objects


CATALOG_ROWS_SQL = """
SELECT
  (SELECT count(*) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
     WHERE c.relnamespace = %(ns)s),
  (SELECT count(*) FROM pg_constraint WHERE connamespace = %(ns)s),
  (SELECT count(*) FROM pg_depend d JOIN pg_class c ON c.oid = d.objid
     AND d.classid = 'pg_class'::regclass WHERE c.relnamespace = %(ns)s),
  (SELECT count(*) FROM pg_type WHERE typnamespace = %(ns)s),
  (SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c
     WHERE c.relnamespace = %(ns)s AND c.relkind IN ('r', 'm', 'S'))
"""


def run_catalog(args: argparse.Namespace) -> None:
    sample = Tenant.objects.filter(slug__startswith=SCALE_PREFIX).order_by("pk").first()
    sample = sample or Tenant.objects.order_by("pk").first()
    if sample is None:
        log("catalog: no tenant")
        return
    namespace = scalar("SELECT oid FROM pg_namespace WHERE nspname = %s", [sample.schema_name])
    objects = schema_objects(sample.schema_name)
    attributes, constraints, depends, types, tenant_bytes = sql(
        CATALOG_ROWS_SQL, {"ns": namespace}
    )[0]
    catalog_bytes = scalar(
        "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'pg_catalog'"
    )
    relations = scalar("SELECT count(*) FROM pg_class")
    database = scalar("SELECT pg_database_size(current_database())")
    schemas = tenant_count()
    print_table(
        f"catalog with {schemas:,} tenants (one tenant: {sample.schema_name})",
        [
            f"  relations per tenant: {objects.get('r', 0)} tables, {objects.get('i', 0)} indexes, "
            f"{objects.get('S', 0)} sequences, {objects.get('v', 0)} views, "
            f"{objects['t']} TOAST tables, each with its index ({sum(objects.values()) + objects['t']} "
            "in all)",
            f"  catalog rows per tenant: {attributes:,} pg_attribute, {constraints:,} pg_constraint, "
            f"{depends:,} pg_depend (of its relations), {types:,} pg_type",
            f"  one tenant's own relations on disk (starter rows included): {mib(tenant_bytes)}",
            f"  the whole catalog (pg_catalog's tables and indexes): {mib(catalog_bytes)} "
            f"for {relations:,} relations, {mib(catalog_bytes / max(1, schemas))} per tenant",
            f"  database size: {mib(database)}, {mib(database / max(1, schemas))} per tenant",
        ],
    )


# -- dump and restore ----------------------------------------------------------------------


def pg_args() -> list[str]:
    db = settings.DATABASES["default"]
    args = ["-h", db["HOST"] or "127.0.0.1", "-p", str(db["PORT"] or 5432), "-d", db["NAME"]]
    return args + (["-U", db["USER"]] if db["USER"] else [])


def largest_table(schema: str) -> tuple[str, int]:
    """The table of ``schema`` with the most rows, and that count (to compare after a restore)."""
    tables = [
        name
        for (name,) in sql(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY tablename", [schema]
        )
    ]
    counts = {
        table: scalar(f'SELECT count(*) FROM "{schema}"."{table}"')  # noqa: S608 - catalog names
        for table in tables
    }
    table = max(counts, key=counts.get)
    return table, counts[table]


def run_dump(args: argparse.Namespace) -> None:
    source = Tenant.objects.filter(slug__startswith=SCALE_PREFIX).exclude(slug=RESTORED_SLUG)
    source = source.order_by("pk").first() or Tenant.objects.order_by("pk").first()
    if source is None:
        log("dump: no tenant")
        return
    drop_tenant(RESTORED_SLUG)
    target_schema = RESTORED_SLUG.replace("-", "_")
    parked = f"{source.schema_name}_parked"
    workdir = Path(tempfile.mkdtemp(prefix="tenant-dump-"))
    dump = workdir / f"{source.schema_name}.dump"
    try:
        started = time.perf_counter()
        subprocess.run(
            ["pg_dump", *pg_args(), "--format=custom", "--no-owner", "-n", source.schema_name,
             "-f", str(dump)],
            check=True,
        )  # fmt: skip
        dump_seconds = time.perf_counter() - started
        # pg_restore recreates the schema under its own name: park the source under another
        # name for the moment of the restore, then give each its name back.
        started = time.perf_counter()
        sql(f'ALTER SCHEMA "{source.schema_name}" RENAME TO "{parked}"')
        try:
            subprocess.run(
                ["pg_restore", *pg_args(), "--no-owner", "--exit-on-error", str(dump)], check=True
            )
            sql(f'ALTER SCHEMA "{source.schema_name}" RENAME TO "{target_schema}"')
        finally:
            sql(f'ALTER SCHEMA "{parked}" RENAME TO "{source.schema_name}"')
        with transaction.atomic():
            Tenant.objects.create(
                slug=RESTORED_SLUG, name="Restored copy", schema_name=target_schema
            )
        restore_seconds = time.perf_counter() - started
        table, rows = largest_table(source.schema_name)
        restored_rows = scalar(f'SELECT count(*) FROM "{target_schema}"."{table}"')  # noqa: S608
        print_table(
            f"pg_dump of one tenant ({source.schema_name}) among {tenant_count():,}",
            [
                f"  dump (custom format): {dump_seconds:.2f} s, {mib(dump.stat().st_size)}",
                f"  restore as tenant {RESTORED_SLUG} (schema {target_schema}, registered): "
                f"{restore_seconds:.2f} s",
                f"  check: {table} has {rows} rows in the source and {restored_rows} in the copy",
            ],
        )
    finally:
        drop_tenant(RESTORED_SLUG)
        shutil.rmtree(workdir, ignore_errors=True)


# -- relay ----------------------------------------------------------------------------------


def run_relay(args: argparse.Namespace) -> None:
    from bench import outbox

    active = outbox.ensure_tenants(20)
    outbox.drain_everything_pending()
    backlog = argparse.Namespace(events=args.relay_events, aggregates=50)
    outbox.fresh_backlog(active, backlog)
    raw, raw_seconds = outbox.drain_raw(500)
    outbox.fresh_backlog(active, backlog)
    handled, seconds, _stats = outbox.drain_in_process()
    verified = outbox.verify_drain(active, backlog.events, backlog.aggregates)
    outbox.delete_bench_events([t.schema_name for t in active])
    print_table(
        f"relay: {args.relay_events:,} events of 20 active tenants, {tenant_count():,} tenants in all",
        [
            f"  raw DELETE ... RETURNING floor: {raw / raw_seconds:,.0f} events/s",
            f"  relay.drain() in this process:  {handled / seconds:,.0f} events/s "
            f"({handled / seconds / (raw / raw_seconds):.2f}x the floor)",
            f"  {verified}",
        ],
    )


# -- main -----------------------------------------------------------------------------------

RUNNERS: dict[str, Callable[[argparse.Namespace], None]] = {
    "provision": run_provision,
    "migrate": run_migrate,
    "relay": run_relay,
    "beat": run_beat,
    "resolver": run_resolver,
    "catalog": run_catalog,
    "dump": run_dump,
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--parts", default=",".join(PARTS))
    parser.add_argument("--sample", type=int, default=40, help="tenants cloned for the timing")
    parser.add_argument(
        "--migrate-sample", type=int, help="tenants migrated for the timing (default: sample / 4)"
    )
    parser.add_argument("--jobs", type=int, default=2, help="processes creating the tenants")
    parser.add_argument(
        "--bulk", choices=("service", "schema", "rows"), default="service",
        help="how the tenants beyond the sample are made (_create_one, create_rows)",
    )  # fmt: skip
    parser.add_argument("--requests", type=int, default=200_000)
    parser.add_argument("--zipf", type=float, default=1.1, help="the Zipf exponent s")
    parser.add_argument("--relay-events", type=int, default=20_000)
    parser.add_argument("--migrate-workers", type=int, help="default: TENANT_MIGRATE_WORKERS")
    parser.add_argument(
        "--stock-max", type=int, default=2000,
        help="run django-tenants' migrate_schemas beside ours up to this many tenants",
    )  # fmt: skip
    args = parser.parse_args()
    args.parts = [part.strip() for part in args.parts.split(",") if part.strip()]
    unknown = set(args.parts) - set(PARTS)
    if unknown:
        parser.error(f"unknown parts: {', '.join(sorted(unknown))}")
    return args


def main() -> None:
    args = parse_args()
    if not tenant_cache.wait_until_listening():
        raise SystemExit("Redis is unreachable")
    log(machine(f"database {settings.DATABASES['default']['NAME']}, {tenant_count():,} tenants"))
    for part in args.parts:
        runner = RUNNERS.get(part)
        if runner is None:
            log(f"{part}: not measured by this version")
            continue
        log("")
        started = time.perf_counter()
        runner(args)
        log(f"({part}: {time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
