"""Migrating many tenant schemas: migrate_tenants against django-tenants' migrate_schemas.

Against the database of ``DATABASE_URL`` (its name must contain "bench": the run adds
hundreds of schemas), in the same run:

* ``finder``          -- ``tenant_schema_lag()``: the queries (one per 1,000 schemas) that
                         tell which schemas are behind, over every schema (the real ones
                         and the ``--bare`` ones);
* ``no-op ours``      -- ``migrate_all()`` with nothing to apply (public included);
* ``no-op stock``     -- django-tenants' ``migrate_schemas --tenant`` with nothing to apply,
                         one schema after another as its standard executor does, on the real
                         schemas (on a sample of them with ``--quick``);
* ``one migration``   -- a throwaway migration adding a nullable column to ``pages_menu``,
                         written for the run, applied by ``migrate_tenants`` in a fresh
                         process to every real schema, then removed again (file, column and
                         record).

Real tenant schemas are copies of one provisioned tenant (``mb-0000``), restored from its
``pg_dump`` under another name: provisioning hundreds of tenants one by one would take
longer than the measurement. ``--bare`` adds schemas holding only a copy of the tenant's
``django_migrations``, which is all the finder reads, to measure it at thousands.

    python bench/migrate_tenants.py [--tenants 300] [--bare 0] [--workers 2] [--quick]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from apps.tenancy.models import Tenant  # noqa: E402
from apps.tenancy.schema_migrations import migrate_all, tenant_schema_lag  # noqa: E402
from apps.tenancy.services import tenant_create  # noqa: E402
from bench.report import machine, print_table  # noqa: E402

SOURCE = "mb_0000"
THROWAWAY = ROOT / "apps" / "pages" / "migrations" / "0004_bench_nullable_column.py"
THROWAWAY_CODE = """from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("pages", "0003_verbose_names")]
    operations = [
        migrations.AddField("menu", "bench_note", models.CharField(max_length=50, null=True)),
    ]
"""
STOCK_SAMPLE = 30  # schemas migrate_schemas visits with --quick


def real_schemas() -> list[str]:
    rows = Tenant.objects.filter(schema_name__regex=r"^mb_[0-9]{4}$").order_by("schema_name")
    return list(rows.values_list("schema_name", flat=True))


def _psql(script: str) -> None:
    db = connection.settings_dict
    env = {**os.environ, "PGPASSWORD": db.get("PASSWORD") or ""}
    command = ["psql", "-q", "-X", "-v", "ON_ERROR_STOP=1", "-h", db["HOST"] or "127.0.0.1"]
    command += ["-p", str(db["PORT"] or 5432), "-U", db["USER"], db["NAME"]]
    subprocess.run(command, input=script, text=True, env=env, check=True, capture_output=True)


def ensure_real(count: int) -> None:
    """Tenants mb_0000 .. mb_<count-1>: one provisioned, the others restored copies of it."""
    if not Tenant.objects.filter(schema_name=SOURCE).exists():
        tenant_create(slug="mb-0000", name="Bench 0000", admin_email="admin@mb-0000.test")
    have = set(real_schemas())
    missing = [f"mb_{n:04}" for n in range(1, count) if f"mb_{n:04}" not in have]
    if not missing:
        return
    db = connection.settings_dict
    with tempfile.NamedTemporaryFile("w+", suffix=".sql") as dump:
        subprocess.run(
            ["pg_dump", "-h", db["HOST"] or "127.0.0.1", "-p", str(db["PORT"] or 5432),
             "-U", db["USER"], "-n", SOURCE, "-f", dump.name, db["NAME"]],
            check=True, env={**os.environ, "PGPASSWORD": db.get("PASSWORD") or ""},
        )  # fmt: skip
        started = time.perf_counter()
        # The dump names its schema: restore it under the source's name, then rename it.
        for first in range(0, len(missing), 25):
            chunk = missing[first : first + 25]
            steps = [f"ALTER SCHEMA {SOURCE} RENAME TO mb_source_kept;"]
            for schema in chunk:
                steps += [f"\\i {dump.name}", f"ALTER SCHEMA {SOURCE} RENAME TO {schema};"]
            steps.append(f"ALTER SCHEMA mb_source_kept RENAME TO {SOURCE};")
            _psql("\n".join(steps))
            Tenant.objects.bulk_create(
                Tenant(slug=s.replace("_", "-"), schema_name=s, name=s) for s in chunk
            )
            done = first + len(chunk)
            rate = done / (time.perf_counter() - started)
            print(f"  copied {done}/{len(missing)} tenant schemas, {rate:.1f}/s", flush=True)


def ensure_bare(count: int) -> None:
    """Schemas mbb_00000 .. with only a copy of the source's django_migrations."""
    have = set(
        Tenant.objects.filter(schema_name__startswith="mbb_").values_list("schema_name", flat=True)
    )
    missing = [f"mbb_{n:05}" for n in range(count) if f"mbb_{n:05}" not in have]
    for first in range(0, len(missing), 500):
        chunk = missing[first : first + 500]
        steps = []
        for schema in chunk:
            steps += [
                f"CREATE SCHEMA {schema};",
                f"CREATE TABLE {schema}.django_migrations (LIKE {SOURCE}.django_migrations "
                "INCLUDING ALL);",
                f"INSERT INTO {schema}.django_migrations (app, name, applied) "  # noqa: S608
                f"SELECT app, name, applied FROM {SOURCE}.django_migrations;",
            ]
        _psql("\n".join(steps))
        Tenant.objects.bulk_create(
            Tenant(slug=s.replace("_", "-"), schema_name=s, name=s) for s in chunk
        )
        print(f"  made {first + len(chunk)}/{len(missing)} bare schemas", flush=True)


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def stock_noop(schemas: list[str]) -> float:
    """django-tenants' standard executor, one schema after another: the same per-schema work."""

    def run() -> None:
        for schema in schemas:
            call_command(
                "migrate_schemas", tenant=True, schema_name=schema, interactive=False, verbosity=0
            )

    return timed(run)


def one_migration(workers: int) -> tuple[float, str]:
    """The throwaway migration applied by migrate_tenants in a fresh process (which reads it)."""
    schemas = real_schemas()
    THROWAWAY.write_text(THROWAWAY_CODE)
    try:
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--child-apply", str(workers)],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        return time.perf_counter() - started, done.stdout.strip().splitlines()[-1]
    finally:
        THROWAWAY.unlink()
        undo = [
            f"ALTER TABLE {s}.pages_menu DROP COLUMN IF EXISTS bench_note; DELETE FROM "  # noqa: S608
            f"{s}.django_migrations WHERE app = 'pages' AND name = '{THROWAWAY.stem}';"
            for s in schemas
        ]
        _psql("\n".join(undo))


def child_apply(workers: int) -> None:
    summary = migrate_all(workers=workers, schemas=real_schemas(), tenants_only=True)
    print(
        f"{len(summary.migrated)} migrated, {len(summary.failed)} failed, "
        f"{summary.seconds:.2f} s in migrate_all (finder {summary.find_seconds:.2f} s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tenants", type=int, default=300, help="real tenant schemas")
    parser.add_argument("--bare", type=int, default=0, help="extra schemas for the finder")
    parser.add_argument("--workers", type=int, default=settings.TENANT_MIGRATE_WORKERS)
    parser.add_argument("--quick", action="store_true", help=f"stock on {STOCK_SAMPLE} schemas")
    parser.add_argument("--child-apply", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_apply:
        child_apply(args.child_apply)
        return
    if "bench" not in connection.settings_dict["NAME"]:
        sys.exit("refusing: the database's name must contain 'bench' (the run adds schemas)")
    print(machine(f"{args.workers} workers"))
    ensure_real(args.tenants)
    ensure_bare(args.bare)
    real = real_schemas()
    every = len(tenant_schema_lag())

    rows = []

    def row(label: str, seconds: float, schemas: int) -> None:
        per = seconds / schemas * 1000
        rows.append(
            f"{label:<46} {schemas:>7} {seconds:>9.2f} {per:>9.2f} {per:>10.1f} {per * 10:>11.1f}"
        )

    finder = min(timed(tenant_schema_lag) for _ in range(3))
    row("finder: tenant_schema_lag() (best of 3)", finder, every)
    ours = timed(lambda: migrate_all(workers=args.workers, refresh_template=False))
    row("no-op migrate_all, public + every schema", ours, every)
    ours_real = timed(
        lambda: migrate_all(workers=args.workers, schemas=real, refresh_template=False)
    )
    row("no-op migrate_all, public + real schemas", ours_real, len(real))
    sample = real[:STOCK_SAMPLE] if args.quick else real
    row("no-op migrate_schemas --tenant (stock)", stock_noop(sample), len(sample))
    seconds, detail = one_migration(args.workers)
    row(f"one migration, {args.workers} workers (new process)", seconds, len(real))
    print_table(
        f"{'run':<46} {'schemas':>7} {'seconds':>9} {'ms/schema':>9} "
        f"{'s at 1,000':>10} {'s at 10,000':>11}",
        rows,
    )
    print(f"one migration: {detail}")


if __name__ == "__main__":
    main()
