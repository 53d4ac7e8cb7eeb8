"""Migrating every tenant schema: find the ones behind in one pass, migrate only those, in parallel.

django-tenants' ``migrate_schemas`` loads the migration state of every schema
in turn, with nothing to apply or not (0.14 s a schema here: 23 min at 10,000
tenants). Here one SQL statement per 1,000 schemas compares each one's
``django_migrations`` with the code's tenant migrations, and a bounded pool of
processes migrates the schemas that lack some, each process building the
migration graph once.

A schema that fails is rolled back (each migration is its own transaction),
listed with its error, and does not stop the others. Whether a schema is
behind is read from the schema itself, so running again picks up exactly the
failed ones and nothing else: the run is resumable without any bookkeeping.

This module never creates or drops a schema; ``services.tenant_create`` does.
"""

from __future__ import annotations

import contextlib
import io
import multiprocessing
import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import TextIO

import psycopg
from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.core.management.sql import emit_pre_migrate_signal
from django.db import connection, connections
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.db.migrations.state import ProjectState, StateApps
from django.db.models.signals import post_migrate

from . import locks, template
from .models import Tenant
from .template import expected_tenant_migrations

# A line every so many schemas when the output is not a terminal (logs, CI).
REPORT_EVERY = 100
SCHEMA_MISSING = "the tenant's schema does not exist"


# Held (a session lock, on a connection of its own) for the whole of a run: two runs at once
# would migrate the same schemas at the same time.
RUN_LOCK_KEY = locks.MIGRATE_RUN


def default_workers() -> int:
    return settings.TENANT_MIGRATE_WORKERS


class MigrationRunning(RuntimeError):
    """Another run holds the lock on this database."""


class UnknownSchemas(ValueError):
    """Schemas asked for that are neither a tenant's nor the template's."""


# One statement reads the django_migrations of a whole batch of schemas: the dynamic
# part (public.tenancy_missing_migrations, tenancy migration 0011) names each schema's
# table, which no static query can. The code's migrations travel as two arrays.
#
# Batches, not one statement for all: a statement keeps a lock on every table it read
# (and its index) until its transaction ends, and PostgreSQL's lock table has room for
# max_locks_per_transaction x max_connections (64 x 100 by default) across all sessions.
# One statement over 4,400 schemas ran out of it here ("out of shared memory").
_LAG_SQL = """
WITH batch AS (
    SELECT schema FROM (
        SELECT schema_name AS schema FROM public.{tenant_table} WHERE schema_name <> 'public'
        UNION
        SELECT nspname FROM pg_namespace WHERE nspname = %(template)s
    ) AS candidates
    WHERE schema > %(after)s AND (%(only)s::text[] IS NULL OR schema = ANY(%(only)s::text[]))
    ORDER BY schema
    LIMIT %(batch)s
)
SELECT b.schema,
    CASE
        WHEN n.oid IS NULL THEN NULL
        WHEN to_regclass(format('%%I.django_migrations', b.schema)) IS NULL THEN %(expected)s
        ELSE public.tenancy_missing_migrations(b.schema, %(apps)s::text[], %(names)s::text[])
    END AS missing
FROM batch AS b LEFT JOIN pg_namespace AS n ON n.nspname = b.schema
ORDER BY b.schema
"""


def find_batch() -> int:
    return getattr(settings, "TENANT_MIGRATE_FIND_BATCH", 1000)


def tenant_schema_lag(
    schemas: Iterable[str] | None = None, *, batch: int | None = None
) -> dict[str, int | None]:
    """How many of the code's tenant migrations each tenant schema lacks.

    Every tenant (whatever its status) and the template schema if it exists, or
    only those of them named in ``schemas``. The value is 0 for a current
    schema, and None for a tenant whose schema does not exist. One query per
    ``batch`` schemas (default ``settings.TENANT_MIGRATE_FIND_BATCH``); call it
    outside a transaction, so each batch's locks go when its query ends.

    :raises UnknownSchemas: a name in ``schemas`` is no tenant's schema nor the template.
    """
    expected = sorted(expected_tenant_migrations())
    params = {
        "template": template.TEMPLATE_SCHEMA,
        "expected": len(expected),
        "apps": [app for app, _name in expected],
        "names": [name for _app, name in expected],
        "only": sorted(set(schemas)) if schemas is not None else None,
        "batch": batch or find_batch(),
        "after": "",
    }
    sql = _LAG_SQL.format(tenant_table=connection.ops.quote_name(Tenant._meta.db_table))
    lag: dict[str, int | None] = {}
    with connection.cursor() as cursor:
        while True:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
            lag.update(rows)
            if len(rows) < params["batch"]:
                break
            params["after"] = rows[-1][0]
    if schemas is not None and (unknown := sorted(set(schemas) - set(lag))):
        raise UnknownSchemas(f"no tenant or template schema named {', '.join(unknown)}")
    return lag


@dataclass(frozen=True)
class SchemaResult:
    schema: str
    applied: int = 0
    error: str | None = None


@dataclass
class Summary:
    """What a run did: the schemas migrated, skipped as current, failed (with the error)."""

    migrated: list[str] = field(default_factory=list)
    current: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    applied: int = 0
    public_seconds: float = 0.0
    find_seconds: float = 0.0
    seconds: float = 0.0
    template_refreshed: bool = False

    @property
    def ok(self) -> bool:
        return not self.failed

    def record(self, result: SchemaResult) -> None:
        if result.error is not None:
            self.failed[result.schema] = result.error
        else:
            self.migrated.append(result.schema)
            self.applied += result.applied


def first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


class _Recorder(MigrationRecorder):
    """Django's recorder, checking for its table by name in ``schema``.

    Django's check lists every table the search path shows, a scan of pg_class:
    its rows grow with every tenant (90 ms a schema here at 300 tenants and 10,000
    bare schemas). A lookup by name uses pg_class's index, and with the schema
    named, public's django_migrations cannot be taken for the tenant's.
    """

    def __init__(self, connection, schema: str):
        super().__init__(connection)
        self.table = f"{connection.ops.quote_name(schema)}.{self.Migration._meta.db_table}"

    def has_table(self) -> bool:
        if not self._has_table:
            with self.connection.cursor() as cursor:
                cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [self.table])
                self._has_table = cursor.fetchone()[0]
        return self._has_table


class _Executor(MigrationExecutor):
    """Django's executor on a loader built once, instead of a new one per schema."""

    def __init__(self, recorder: _Recorder, loader: MigrationLoader):
        self.connection = recorder.connection
        self.loader = loader
        self.recorder = recorder
        self.progress_callback = None


@dataclass
class _Prepared:
    """What every schema behind by the same migrations shares: the project state before
    the plan, and the models after it (for the post_migrate handlers)."""

    before: ProjectState
    after: StateApps | None = None


class SchemaMigrator:
    """Migrates schema after schema on this process's connection.

    Django's migrate command reads the migration files, renders every model of
    the state before the plan and again after it, and sends post_migrate to every
    app, for each schema. Here the files are read once, both renderings are made
    once per set of applied migrations (schemas behind by the same migrations
    share them), and post_migrate goes only to the apps whose migrations ran (its
    handlers make the content types and permissions of those apps' models).
    """

    def __init__(self) -> None:
        self.loader = MigrationLoader(None, ignore_no_migrations=True)
        self.targets = self.loader.graph.leaf_nodes()
        self.prepared: dict[frozenset[tuple[str, str]], _Prepared] = {}

    def migrate(self, schema: str) -> SchemaResult:
        try:
            return SchemaResult(schema, applied=self._migrate(schema))
        except Exception as exc:
            # The failed migration was rolled back; a fresh session rules out a broken one.
            connection.close()
            return SchemaResult(schema, error=first_line(exc))
        finally:
            connection.set_schema_to_public()

    def _migrate(self, schema: str) -> int:
        connection.set_schema(schema)
        recorder = _Recorder(connection, schema)  # one, so the table is looked up once
        recorder.ensure_schema()
        # ContentType's cache is per database, not per schema: another schema's ids.
        ContentType.objects.clear_cache()
        if self.loader.replacements:
            # Squashed migrations make the graph depend on what is applied: Django's own
            # loader for each schema, nothing shared.
            self.loader = MigrationLoader(connection)
            self.targets = self.loader.graph.leaf_nodes()
            self.prepared.clear()
        else:
            self.loader.applied_migrations = recorder.applied_migrations()
        executor = _Executor(recorder, self.loader)
        plan = executor.migration_plan(self.targets)
        if not plan:
            return 0
        applied = frozenset(self.loader.applied_migrations)
        if applied not in self.prepared:
            before = executor._create_project_state(with_applied_migrations=True)
            before.apps  # noqa: B018 -- rendered once here, so every clone copies the rendering
            self.prepared[applied] = _Prepared(before)
        prepared = self.prepared[applied]
        state = prepared.before.clone()
        emit_pre_migrate_signal(0, False, connection.alias, apps=state.apps, plan=plan)
        state = executor.migrate(self.targets, plan=plan, state=state)
        if prepared.after is None:
            state.clear_delayed_apps_cache()
            prepared.after = state.apps
        _post_migrate({migration.app_label for migration, _backwards in plan}, prepared.after, plan)
        return len(plan)


def _post_migrate(labels: set[str], state_apps: StateApps, plan: list) -> None:
    """post_migrate as Django's migrate sends it, to the apps named in ``labels`` only."""
    for app_config in apps.get_app_configs():
        if app_config.label in labels and app_config.models_module is not None:
            post_migrate.send(
                sender=app_config, app_config=app_config, verbosity=0, interactive=False,
                using=connection.alias, apps=state_apps, plan=plan,
            )  # fmt: skip


_worker_migrator: SchemaMigrator | None = None


def _worker_migrate(schema: str) -> SchemaResult:
    """In a pool process: Django is set up (inherited), the migrator is built on first use."""
    global _worker_migrator
    if _worker_migrator is None:
        _worker_migrator = SchemaMigrator()
    return _worker_migrator.migrate(schema)


def _migrate_schemas(
    schemas: list[str], *, workers: int, on_result: Callable[[SchemaResult], None]
) -> None:
    if workers <= 1 or len(schemas) <= 1:
        migrator = SchemaMigrator()
        for schema in schemas:
            on_result(migrator.migrate(schema))
        return
    # Forked processes inherit the set-up Django (settings, apps, the test database's
    # name) but must not share a socket: the parent holds no connection meanwhile,
    # so the run uses at most one connection per worker.
    connections.close_all()
    with ProcessPoolExecutor(
        max_workers=min(workers, len(schemas)), mp_context=multiprocessing.get_context("fork")
    ) as pool:
        futures = {pool.submit(_worker_migrate, schema): schema for schema in schemas}
        for future in as_completed(futures):
            try:
                on_result(future.result())
            except Exception as exc:  # a worker process died (killed, out of memory)
                on_result(SchemaResult(futures[future], error=first_line(exc)))


class Progress:
    """A live bar on a terminal; elsewhere a line every ``REPORT_EVERY`` schemas."""

    def __init__(self, total: int, stream: TextIO | None) -> None:
        self.total, self.done, self.failed = total, 0, 0
        self.stream = stream or sys.stdout
        self.started = time.perf_counter()
        self.bar = None
        if self.stream.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
            from rich.progress import Progress as RichProgress

            self.bar = RichProgress(
                TextColumn("migrating schemas"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[failed]} failed"),
                TextColumn("{task.fields[rate]} schemas/s"),
                TimeElapsedColumn(),
                console=Console(file=self.stream),
            )
            self.task = self.bar.add_task("", total=total, failed=0, rate="-")

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc_info) -> None:
        if self.bar is not None:
            self.bar.stop()

    def advance(self, result: SchemaResult) -> None:
        self.done += 1
        self.failed += result.error is not None
        rate = self.done / max(time.perf_counter() - self.started, 1e-9)
        if self.bar is not None:
            # Started at the first result, after the pool has forked its workers: a fork
            # must not copy the bar's refreshing thread.
            self.bar.start()
            self.bar.update(self.task, advance=1, failed=self.failed, rate=f"{rate:.1f}")
        elif self.done % REPORT_EVERY == 0 or self.done == self.total:
            self.stream.write(
                f"  {self.done}/{self.total} schemas, {self.failed} failed, {rate:.1f} schemas/s\n"
            )
            self.stream.flush()


def migrate_public() -> None:
    """The shared apps in ``public``, through django-tenants (one schema: its speed is fine)."""
    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)


def _refresh_template() -> bool:
    """Bring the template new tenants are copied from up to date."""
    template.template_refresh()
    return True


@contextlib.contextmanager
def exclusive_run():
    """Hold the run lock on a connection of the run's own (Django's is closed before the pool
    forks; forked workers leave this one alone, as they end with ``os._exit``).

    :raises MigrationRunning: another run holds it.
    """
    lock = psycopg.connect(**connection.get_connection_params(), autocommit=True)
    try:
        held = lock.execute("SELECT pg_try_advisory_lock(%s)", [RUN_LOCK_KEY]).fetchone()[0]
        if not held:
            raise MigrationRunning("another migrate_tenants run is migrating this database")
        yield
    finally:
        lock.close()


def migrate_all(
    *,
    workers: int | None = None,
    schemas: Iterable[str] | None = None,
    tenants_only: bool = False,
    progress: bool = False,
    stream: TextIO | None = None,
    refresh_template: bool = True,
) -> Summary:
    """Migrate ``public``, then every tenant schema that is behind, ``workers`` at a time.

    :param workers: processes migrating schemas (each holds one connection); default
        ``settings.TENANT_MIGRATE_WORKERS``.
    :param schemas: only these tenant schemas (default: every tenant's and the template).
    :param tenants_only: leave ``public`` alone.
    :param progress: show progress on ``stream`` (a bar on a terminal, lines elsewhere).
    :param refresh_template: refresh the provisioning template at the end.
    :raises UnknownSchemas: a name in ``schemas`` is no tenant's schema nor the template.
    :raises MigrationRunning: another run is under way.
    """
    with exclusive_run():
        return _migrate_all(
            workers=workers, schemas=schemas, tenants_only=tenants_only, progress=progress,
            stream=stream, refresh_template=refresh_template,
        )  # fmt: skip


def _migrate_all(
    *,
    workers: int | None,
    schemas: Iterable[str] | None,
    tenants_only: bool,
    progress: bool,
    stream: TextIO | None,
    refresh_template: bool,
) -> Summary:
    started = time.perf_counter()
    summary = Summary()
    if not tenants_only:
        migrate_public()
        summary.public_seconds = time.perf_counter() - started
    found = time.perf_counter()
    lag = tenant_schema_lag(schemas)
    summary.find_seconds = time.perf_counter() - found
    summary.current = [schema for schema, missing in lag.items() if missing == 0]
    summary.failed = {schema: SCHEMA_MISSING for schema, missing in lag.items() if missing is None}
    behind = [schema for schema, missing in lag.items() if missing]
    if progress:
        (stream or sys.stdout).write(
            f"{len(behind)} of {len(lag)} tenant schemas behind "
            f"(found in {summary.find_seconds:.2f} s)\n"
        )
    with Progress(len(behind), stream if progress else io.StringIO()) as bar:

        def on_result(result: SchemaResult) -> None:
            summary.record(result)
            bar.advance(result)

        _migrate_schemas(behind, workers=workers or default_workers(), on_result=on_result)
    if refresh_template:
        try:
            summary.template_refreshed = _refresh_template()
        except Exception as exc:
            summary.failed[template.TEMPLATE_SCHEMA] = f"template refresh: {first_line(exc)}"
    summary.seconds = time.perf_counter() - started
    return summary
