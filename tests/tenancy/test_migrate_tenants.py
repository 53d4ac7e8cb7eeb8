"""migrate_tenants: the one-query finder, migrating only what is behind, failures and reruns.

The schemas are real: tenants provisioned for this module (dropped after it), and
bare schemas holding a copy of a tenant's django_migrations for the finder. The
migration taken back and applied again is forum's 0003_mentions (two added columns).
"""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management import CommandError, call_command
from django.db import connection
from django_tenants.utils import schema_context

from apps.tenancy.models import Tenant
from apps.tenancy.schema_migrations import (
    MigrationRunning,
    UnknownSchemas,
    exclusive_run,
    migrate_all,
    tenant_schema_lag,
)
from apps.tenancy.services import tenant_create
from apps.tenancy.template import TEMPLATE_SCHEMA, expected_tenant_migrations
from tests.conftest import empty_outbox

REAL = ["mt-one", "mt-two", "mt-three"]
BARE = [f"mt_bare_{n:02}" for n in range(12)]
MENTIONS = ("forum", "0003_mentions")


def _execute(sql: str, params: list | None = None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def _drop(schema: str) -> None:
    Tenant.objects.filter(schema_name=schema).delete()
    _execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(scope="module")
def schemas(django_db_setup, django_db_blocker):
    """Three provisioned tenants and twelve bare schemas (a tenant's django_migrations only)."""
    with django_db_blocker.unblock():
        for slug in REAL:
            tenant_create(slug=slug, name=slug, admin_email=f"admin@{slug}.test")
        template = REAL[0].replace("-", "_")
        for schema in BARE:
            Tenant.objects.create(slug=schema.replace("_", "-"), name=schema, schema_name=schema)
            _execute(f'CREATE SCHEMA "{schema}"')
            _copy_migrations(schema, source=template)
        empty_outbox()
        yield [slug.replace("-", "_") for slug in REAL]
        connection.set_schema_to_public()
        for schema in [slug.replace("-", "_") for slug in REAL] + BARE:
            _drop(schema)
        empty_outbox()


def _copy_migrations(schema: str, *, source: str) -> None:
    _execute(
        f'CREATE TABLE "{schema}".django_migrations '
        f'(LIKE "{source}".django_migrations INCLUDING ALL)'
    )
    _execute(
        f'INSERT INTO "{schema}".django_migrations (app, name, applied) '  # noqa: S608 -- the test's own schema names
        f'SELECT app, name, applied FROM "{source}".django_migrations'
    )


def _forget_mentions(schema: str) -> None:
    _execute(
        f'DELETE FROM "{schema}".django_migrations WHERE app = %s AND name = %s',  # noqa: S608
        list(MENTIONS),
    )


def _record_mentions(schema: str) -> None:
    _execute(
        f'INSERT INTO "{schema}".django_migrations (app, name, applied) VALUES (%s, %s, now())',  # noqa: S608 -- the test's own schema names
        list(MENTIONS),
    )


def _unapply_mentions(schema: str, *, keep_reply_column: bool = False) -> None:
    """What ``migrate forum 0002`` would leave, optionally with a column left behind."""
    _forget_mentions(schema)
    _execute(f'ALTER TABLE "{schema}".forum_topic DROP COLUMN mentions')
    if not keep_reply_column:
        _execute(f'ALTER TABLE "{schema}".forum_reply DROP COLUMN mentions')


def _mentions_columns(schema: str) -> set[str]:
    rows = _execute(
        "SELECT table_name FROM information_schema.columns "
        "WHERE table_schema = %s AND column_name = 'mentions'",
        [schema],
    )
    return {table for (table,) in rows}


def _recorded(schema: str) -> list[tuple]:
    sql = f'SELECT id, app, name, applied FROM "{schema}".django_migrations ORDER BY id'  # noqa: S608
    return _execute(sql)


def _run(*args: str) -> tuple[str, str, CommandError | None]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("migrate_tenants", *args, stdout=out, stderr=err)
    except CommandError as exc:
        return out.getvalue(), err.getvalue(), exc
    return out.getvalue(), err.getvalue(), None


def test_finder_reports_the_schema_missing_a_migration_and_no_other(live_db, schemas):
    _forget_mentions(BARE[3])
    _execute(f'DROP TABLE "{BARE[5]}".django_migrations')
    try:
        lag = tenant_schema_lag()
        assert lag[BARE[3]] == 1
        assert lag[BARE[5]] == len(expected_tenant_migrations())
        assert {schema: lag[schema] for schema in schemas} == dict.fromkeys(schemas, 0)
        others = [schema for schema in BARE if schema not in (BARE[3], BARE[5])]
        assert {schema: lag[schema] for schema in others} == dict.fromkeys(others, 0)
    finally:
        _copy_migrations(BARE[5], source=schemas[0])
        _record_mentions(BARE[3])


def test_finder_names_a_tenant_without_schema_and_refuses_unknown_names(live_db, schemas):
    Tenant.objects.create(slug="mt-ghost", name="ghost", schema_name="mt_ghost")
    try:
        assert tenant_schema_lag(["mt_ghost", schemas[0]]) == {"mt_ghost": None, schemas[0]: 0}
        with pytest.raises(UnknownSchemas, match="mt_nobody"):
            tenant_schema_lag(["mt_nobody", schemas[0]])
        summary = migrate_all(tenants_only=True, schemas=["mt_ghost"], refresh_template=False)
        assert summary.failed == {"mt_ghost": "the tenant's schema does not exist"}
    finally:
        Tenant.objects.filter(slug="mt-ghost").delete()


@pytest.mark.parametrize("count", [3, 12])
def test_finder_costs_one_query_whatever_the_number_of_schemas(
    live_db, schemas, count, django_assert_num_queries
):
    behind = BARE[count - 1]
    _forget_mentions(behind)
    try:
        with django_assert_num_queries(1):
            lag = tenant_schema_lag(BARE[:count])
        assert lag == {**dict.fromkeys(BARE[:count], 0), behind: 1}
    finally:
        _record_mentions(behind)


def test_finder_reads_large_numbers_of_schemas_one_batch_per_query(
    live_db, schemas, django_assert_num_queries
):
    """Each query's locks last until it ends, so thousands of schemas are read in batches."""
    _forget_mentions(BARE[11])
    try:
        with django_assert_num_queries(3):  # 5 + 5 + 2
            lag = tenant_schema_lag(BARE, batch=5)
        assert lag == {**dict.fromkeys(BARE, 0), BARE[11]: 1}
    finally:
        _record_mentions(BARE[11])


def test_run_migrates_exactly_the_schemas_behind(live_db, schemas):
    one, two, three = schemas
    _unapply_mentions(two)
    before = {schema: _recorded(schema) for schema in (one, three)}

    out, err, failed = _run("--tenants-only", "--workers", "1", *_limit(schemas))

    assert failed is None, err
    assert "Migrated 1 schema(s) (1 migrations), skipped 2 as current, failed 0" in out
    assert _mentions_columns(two) == {"forum_topic", "forum_reply"}
    assert MENTIONS in {(app, name) for _id, app, name, _at in _recorded(two)}
    assert {schema: _recorded(schema) for schema in (one, three)} == before
    assert tenant_schema_lag(schemas) == dict.fromkeys(schemas, 0)


def test_failing_schema_is_reported_the_others_migrated_and_a_rerun_retries_only_it(
    live_db, schemas
):
    one, two, three = schemas
    _unapply_mentions(one)
    _unapply_mentions(two, keep_reply_column=True)  # AddField on forum_reply will fail here
    _unapply_mentions(three)

    out, err, failed = _run("--workers", "2", *_limit(schemas))  # public too

    assert failed is not None and failed.returncode == 1
    assert "Migrated 2 schema(s) (2 migrations), skipped 0 as current, failed 1" in out
    assert (
        f'failed {two}: ProgrammingError: column "mentions" of relation "forum_reply" '
        "already exists" in err
    )
    assert tenant_schema_lag(schemas) == {one: 0, two: 1, three: 0}
    # Rolled back whole: the migration's first column is not left behind in the failed schema.
    assert _mentions_columns(two) == {"forum_reply"}

    _execute(f'ALTER TABLE "{two}".forum_reply DROP COLUMN mentions')
    untouched = {schema: _recorded(schema) for schema in (one, three)}
    summary = migrate_all(workers=2, tenants_only=True, schemas=schemas, refresh_template=False)

    assert summary.ok and summary.migrated == [two] and sorted(summary.current) == [one, three]
    assert _mentions_columns(two) == {"forum_topic", "forum_reply"}
    assert {schema: _recorded(schema) for schema in (one, three)} == untouched


def test_dry_run_lists_the_schemas_behind_and_changes_nothing(live_db, schemas):
    _unapply_mentions(schemas[2])
    try:
        out, _err, failed = _run("--dry-run", *_limit(schemas))
        assert failed is None
        assert out.splitlines() == [
            f"  {schemas[2]}: 1 migration(s) to apply",
            "1 of 3 tenant schemas behind",
        ]
        assert tenant_schema_lag(schemas)[schemas[2]] == 1
    finally:
        migrate_all(tenants_only=True, schemas=schemas, refresh_template=False)
    assert tenant_schema_lag(schemas)[schemas[2]] == 0


def test_an_empty_schema_gets_every_table_content_type_and_permission(live_db, schemas):
    """The shared graph and cloned states build what a full migrate builds, signals included."""
    Tenant.objects.create(slug="mt-empty", name="empty", schema_name="mt_empty")
    _execute('CREATE SCHEMA "mt_empty"')
    try:
        summary = migrate_all(tenants_only=True, schemas=["mt_empty"], refresh_template=False)
        assert summary.ok and summary.migrated == ["mt_empty"], summary.failed
        assert tenant_schema_lag(["mt_empty"]) == {"mt_empty": 0}
        assert _tables("mt_empty") == _tables(schemas[0])
        assert _catalogue("mt_empty") == _catalogue(schemas[0])
    finally:
        connection.set_schema_to_public()
        _drop("mt_empty")


def _tables(schema: str) -> list[tuple]:
    return _execute(
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = %s ORDER BY 1, 2",
        [schema],
    )


def _catalogue(schema: str) -> tuple[set, set]:
    with schema_context(schema):
        ContentType.objects.clear_cache()
        types = set(ContentType.objects.values_list("app_label", "model"))
        permissions = set(Permission.objects.values_list("content_type__app_label", "codename"))
    ContentType.objects.clear_cache()
    return types, permissions


def _limit(schemas: list[str]) -> list[str]:
    return [arg for schema in schemas for arg in ("--schema", schema)]


def test_the_template_schema_counts(live_db):
    assert tenant_schema_lag()[TEMPLATE_SCHEMA] == 0
    _forget_mentions(TEMPLATE_SCHEMA)
    try:
        assert tenant_schema_lag()[TEMPLATE_SCHEMA] == 1
    finally:
        _record_mentions(TEMPLATE_SCHEMA)
    assert tenant_schema_lag()[TEMPLATE_SCHEMA] == 0


def test_a_run_refreshes_the_template_and_reports_a_refresh_that_fails(
    live_db, schemas, monkeypatch
):
    from apps.tenancy import template

    refreshed = []
    monkeypatch.setattr(template, "template_refresh", lambda: refreshed.append(1), raising=False)
    summary = migrate_all(tenants_only=True, schemas=schemas[:1])
    assert summary.ok and summary.template_refreshed and refreshed == [1]

    def broken() -> None:
        raise RuntimeError("template schema locked\nsecond line")

    monkeypatch.setattr(template, "template_refresh", broken)
    summary = migrate_all(tenants_only=True, schemas=schemas[:1])
    assert summary.failed == {
        TEMPLATE_SCHEMA: "template refresh: RuntimeError: template schema locked"
    }


def test_a_second_run_is_refused_while_one_is_under_way(live_db, schemas):
    with exclusive_run():
        with pytest.raises(MigrationRunning):
            migrate_all(tenants_only=True, schemas=schemas[:1])
        with pytest.raises(CommandError, match="another migrate_tenants run"):
            call_command("migrate_tenants", "--tenants-only", stdout=io.StringIO())
    assert migrate_all(tenants_only=True, schemas=schemas[:1]).ok
