"""The template schema new tenants are copied from, against real PostgreSQL.

Most tests run inside the test's transaction (``db``): the schemas they create and
whatever they do to the template roll back with it. Those that must see a real
rollback of provisioning commit and drop what they made.
"""

from __future__ import annotations

import logging
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context, schema_exists
from hypothesis import given
from hypothesis import strategies as st

from apps.tenancy import template
from apps.tenancy.errors import TenantInvalid
from apps.tenancy.identifiers import InvalidIdentifier, schema_name_for
from apps.tenancy.models import Tenant
from apps.tenancy.services import tenant_create
from apps.tenancy.template import (
    TEMPLATE_SCHEMA,
    expected_tenant_migrations,
    template_refresh,
    template_status,
)

PASSWORD = "a-long-password-1"


def _command_output(name: str, **options) -> str:
    buffer = StringIO()
    call_command(name, stdout=buffer, **options)
    return buffer.getvalue()


def _create(slug: str):
    return tenant_create(
        slug=slug, name=slug.title(), admin_email=f"owner@{slug}.test", admin_password=PASSWORD
    )


def _rows(sql: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _shape(schema: str) -> dict[str, object]:
    """Everything a schema is made of, with its own name replaced by ``<s>``: what must be
    the same whether a tenant was copied or migrated."""
    connection.set_schema_to_public()  # names in the schema print qualified, then replaced

    def own(text):
        return text.replace(f'"{schema}".', "<s>.").replace(f"{schema}.", "<s>.") if text else text

    columns: dict[str, list[tuple]] = {}
    for table, *column in _rows(
        """
        SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
               pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated
        FROM pg_attribute a
        JOIN pg_class c ON c.oid = a.attrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE n.nspname = %s AND c.relkind IN ('r', 'v') AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY c.relname, a.attnum
        """,
        [schema],
    ):
        column[3] = own(column[3])
        columns.setdefault(table, []).append(tuple(column))  # in column order
    return {
        "relations": set(
            _rows(
                "SELECT relname, relkind FROM pg_class c JOIN pg_namespace n ON n.oid = "
                "c.relnamespace WHERE n.nspname = %s",
                [schema],
            )
        ),
        "columns": columns,
        "indexes": {
            (table, name, own(definition))
            for table, name, definition in _rows(
                "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = %s",
                [schema],
            )
        },
        "constraints": {
            (table, name, kind, own(definition))
            for table, name, kind, definition in _rows(
                """
                SELECT c.relname, k.conname, k.contype, pg_get_constraintdef(k.oid)
                FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
                JOIN pg_namespace n ON n.oid = k.connamespace WHERE n.nspname = %s
                """,
                [schema],
            )
        },
        "sequences": set(
            _rows(
                """
                SELECT s.sequencename, s.data_type::text, s.start_value, s.min_value,
                       s.max_value, s.increment_by, s.cycle, s.cache_size, s.last_value,
                       t.relname, a.attname, d.deptype
                FROM pg_sequences s
                JOIN pg_class q ON q.relname = s.sequencename
                JOIN pg_namespace n ON n.oid = q.relnamespace AND n.nspname = s.schemaname
                LEFT JOIN pg_depend d ON d.objid = q.oid AND d.classid = 'pg_class'::regclass
                     AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
                LEFT JOIN pg_class t ON t.oid = d.refobjid
                LEFT JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
                WHERE s.schemaname = %s
                """,
                [schema],
            )
        ),
        "triggers": {
            (table, name, own(definition))
            for table, name, definition in _rows(
                """
                SELECT c.relname, t.tgname, pg_get_triggerdef(t.oid) FROM pg_trigger t
                JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = %s AND NOT t.tgisinternal
                """,
                [schema],
            )
        },
        "functions": {
            (name, own(definition))
            for name, definition in _rows(
                "SELECT p.proname, pg_get_functiondef(p.oid) FROM pg_proc p JOIN pg_namespace n "
                "ON n.oid = p.pronamespace WHERE n.nspname = %s",
                [schema],
            )
        },
        "views": set(
            _rows("SELECT viewname, definition FROM pg_views WHERE schemaname = %s", [schema])
        ),
    }


def _default_rows(schema: str) -> dict[str, object]:
    q = f'"{schema}".'
    return {
        "migrations": set(_rows(f"SELECT app, name FROM {q}django_migrations")),
        "content_types": set(_rows(f"SELECT id, app_label, model FROM {q}django_content_type")),
        "permissions": set(
            _rows(f"SELECT id, content_type_id, codename, name FROM {q}auth_permission")
        ),
        "groups": set(
            _rows(
                f"SELECT g.name, p.codename, t.app_label FROM {q}auth_group g "
                f"JOIN {q}auth_group_permissions gp ON gp.group_id = g.id "
                f"JOIN {q}auth_permission p ON p.id = gp.permission_id "
                f"JOIN {q}django_content_type t ON t.id = p.content_type_id"
            )
        ),
        "flags": set(_rows(f"SELECT name, everyone, percent FROM {q}waffle_flag")),
    }


def _make_stale() -> None:
    connection.cursor().execute(
        f'DELETE FROM "{TEMPLATE_SCHEMA}".django_migrations '
        "WHERE app = 'forum' AND name = '0003_mentions'"
    )


@pytest.fixture
def warnings_again(monkeypatch):
    """The once-per-process warning about an unusable template, as if for a new process."""
    monkeypatch.setattr(template, "_warned", set())


# --- the template's name and status -------------------------------------------------------


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_ ", min_size=1, max_size=70))
def test_no_slug_maps_to_the_template_schema(raw):
    try:
        schema = schema_name_for(raw)
    except InvalidIdentifier:
        return
    assert not schema.startswith("_")
    assert schema != TEMPLATE_SCHEMA


@pytest.mark.parametrize("slug", [TEMPLATE_SCHEMA, "_template", "-template"])
def test_the_template_name_is_refused_as_a_slug(db, slug):
    with pytest.raises(TenantInvalid, match="slug"):
        tenant_create(slug=slug, name="Sneaky", admin_email="a@b.test")


@pytest.mark.parametrize("name", ["template", "shop_template", "_Tpl", "_" + "x" * 63, "pg_tpl"])
def test_a_template_name_a_tenant_could_take_is_refused(settings, name):
    settings.TENANT_TEMPLATE_SCHEMA = name
    with pytest.raises(ImproperlyConfigured, match="TENANT_TEMPLATE_SCHEMA"):
        template._template_schema_name()


def test_the_template_is_no_tenant_and_no_host_reaches_it(db):
    assert schema_exists(TEMPLATE_SCHEMA)
    assert not Tenant.objects.filter(schema_name=TEMPLATE_SCHEMA).exists()
    assert Client(HTTP_HOST=f"{TEMPLATE_SCHEMA}.localhost").get("/").status_code == 400


def test_migrating_every_tenant_leaves_the_template_alone(db, capsys):
    call_command("migrate_schemas", tenant=True, interactive=False)
    out = capsys.readouterr().out  # the per-schema lines go to sys.stdout
    assert "standard:acme]" in out and "standard:globex]" in out
    assert TEMPLATE_SCHEMA not in out


def test_expected_migrations_are_the_tenant_apps_own(db):
    expected = expected_tenant_migrations()
    assert ("forum", "0003_mentions") in expected
    assert ("auth", "0001_initial") in expected  # shared and tenant: both
    assert not {app for app, _name in expected} & {"tenancy", "events", "django_tenants"}
    assert expected == template._applied_tenant_migrations(TEMPLATE_SCHEMA)


def test_status_is_current_after_the_test_setup(db, django_assert_num_queries):
    template_status()  # the connection's search path is set by its first query
    with django_assert_num_queries(2):
        assert template_status() == "current"


def _record_in_template(app: str, name: str) -> None:
    """A migration the template says it applied (with an id of its own: no sequence moves)."""
    connection.cursor().execute(
        f'INSERT INTO "{TEMPLATE_SCHEMA}".django_migrations (id, app, name, applied) '
        "VALUES (1000000, %s, %s, now())",
        [app, name],
    )


@pytest.mark.parametrize(
    ("app", "name", "status"),
    [
        ("content", "9999_gone_from_the_code", "stale"),  # a tenant app's: the code lost it
        ("events", "9999_public_only", "current"),  # a shared app's: no tenant table
    ],
)
def test_a_migration_the_code_does_not_have(db, app, name, status):
    _record_in_template(app, name)
    assert template_status() == status


def test_a_migration_the_template_lacks_makes_it_stale(db):
    _make_stale()
    assert template_status() == "stale"


def test_refresh_of_a_current_template_does_nothing(db):
    assert template_refresh() == "current"
    out = _command_output("template_refresh")
    assert f"Template {TEMPLATE_SCHEMA}: current in" in out


# --- a copy equals a migrated tenant -------------------------------------------------------


def test_a_cloned_tenant_equals_a_migrated_one(db):
    cloned = _create("cloned-eq")
    migrated = tenant_create(
        slug="migrated-eq", name="M", admin_email="owner@migrated-eq.test",
        admin_password=PASSWORD, via="migrate",
    )  # fmt: skip
    assert (cloned.path, migrated.path) == ("clone", "migrate")

    cloned_shape, migrated_shape = _shape("cloned_eq"), _shape("migrated_eq")
    assert len(cloned_shape["columns"]) > 50 and len(cloned_shape["indexes"]) > 200
    for part in migrated_shape:
        assert cloned_shape[part] == migrated_shape[part], part
    # Foreign keys point inside the tenant's schema (or to public), never to the template.
    definitions = [d for _t, _n, kind, d in cloned_shape["constraints"] if kind == "f"]
    assert definitions and all(TEMPLATE_SCHEMA not in d for d in definitions)
    assert any("REFERENCES <s>.auth_user(id)" in d for d in definitions)

    cloned_rows, migrated_rows = _default_rows("cloned_eq"), _default_rows("migrated_eq")
    assert cloned_rows == migrated_rows
    assert {name for name, _c, _a in cloned_rows["groups"]} == {"Editor", "Merchant", "Moderator"}
    assert len(cloned_rows["permissions"]) > 100 and cloned_rows["flags"]


def test_sequences_of_a_clone_are_its_own_and_after_the_copied_rows(db):
    _create("seq-one")
    _create("seq-two")
    template_groups = _rows(f'SELECT max(id) FROM "{TEMPLATE_SCHEMA}".auth_group')[0][0]
    template_position = _rows(f'SELECT last_value FROM "{TEMPLATE_SCHEMA}".auth_group_id_seq')

    with schema_context("seq_one"):
        first = Group.objects.create(name="Copywriters")
        second = Group.objects.create(name="Translators")
        tag = _rows("INSERT INTO content_tag (name, slug, translations) VALUES ('a', 'a', '{}') "
                    "RETURNING id")[0][0]  # fmt: skip
    assert (first.pk, second.pk) == (template_groups + 1, template_groups + 2)
    assert tag == 1  # a table the template left empty starts at its first value
    with schema_context("seq_two"):
        assert Group.objects.create(name="Copywriters").pk == template_groups + 1
    assert _rows(f'SELECT last_value FROM "{TEMPLATE_SCHEMA}".auth_group_id_seq') == (
        template_position
    )
    sequence = _rows("SELECT pg_get_serial_sequence('seq_one.auth_group', 'id')")[0][0]
    assert sequence == "seq_one.auth_group_id_seq"
    assert _rows("SELECT is_called FROM seq_two.content_tag_id_seq") == [(False,)]


def test_the_append_only_trigger_of_a_clone_guards_its_own_table(db):
    _create("trig-shop")
    assert _rows(
        "SELECT p.pronamespace::regnamespace::text FROM pg_trigger t "
        "JOIN pg_proc p ON p.oid = t.tgfoid WHERE t.tgrelid = 'trig_shop.commerce_orderevent'::regclass"
    ) == [("trig_shop",)]


# --- falling back to migrations, and refreshing ------------------------------------------------


def test_a_stale_template_means_migrations_until_refreshed(db, caplog, warnings_again):
    _make_stale()
    assert template_status() == "stale"
    with caplog.at_level(logging.WARNING, logger="apps.tenancy.template"):
        fallback = _create("stale-shop")
        _create("stale-shop-two")
    assert fallback.path == "migrate"
    warnings = [r.getMessage() for r in caplog.records if r.name == "apps.tenancy.template"]
    assert len(warnings) == 1 and "stale" in warnings[0] and "template_refresh" in warnings[0]
    with schema_context("stale_shop"):
        assert get_user_model().objects.get(username="owner@stale-shop.test").is_superuser
        assert Group.objects.count() == 3
        assert ("forum", "0003_mentions") in set(_rows("SELECT app, name FROM django_migrations"))

    assert template_refresh() == "migrated"
    assert template_status() == "current"
    assert template_refresh() == "current"
    assert _create("fresh-shop").path == "clone"


def test_insisting_on_the_clone_path_with_a_stale_template_is_refused(db):
    _make_stale()
    with pytest.raises(TenantInvalid, match="stale"):
        tenant_create(slug="insists", name="I", admin_email="a@insists.test", via="clone")
    with pytest.raises(TenantInvalid, match="via"):
        tenant_create(slug="insists", name="I", admin_email="a@insists.test", via="copy")
    assert not Tenant.objects.filter(slug="insists").exists() and not schema_exists("insists")


def test_a_missing_template_means_migrations_and_refresh_creates_it(db, warnings_again):
    connection.cursor().execute(f'DROP SCHEMA "{TEMPLATE_SCHEMA}" CASCADE')
    assert template_status() == "missing"
    assert _create("orphan-shop").path == "migrate"
    with schema_context("orphan_shop"):
        assert Group.objects.count() == 3
    assert template_refresh() == "created"
    assert template_status() == "current"
    with schema_context(TEMPLATE_SCHEMA):
        assert Group.objects.count() == 3 and not get_user_model().objects.exists()


# --- one transaction ---------------------------------------------------------------------------


def test_a_failure_after_the_clone_leaves_no_row_and_no_schema(cleanup, monkeypatch):
    cleanup.append("doomed-clone")
    clones = []
    real_clone = template.clone_template

    def clone_and_count(schema_name):
        real_clone(schema_name)
        clones.append(schema_name)

    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(template, "clone_template", clone_and_count)
    monkeypatch.setattr("apps.tenancy.services._create_admin", explode)
    with pytest.raises(RuntimeError, match="disk full"):
        _create("doomed-clone")
    assert clones == ["doomed_clone"]
    assert not Tenant.objects.filter(slug="doomed-clone").exists()
    assert not schema_exists("doomed_clone")
    assert template_status() == "current"


def test_an_admin_email_too_long_for_a_username_is_refused_before_anything(db):
    email = "a" * 60 + "@" + "b" * 60 + "." + "c" * 40 + ".test"
    with pytest.raises(TenantInvalid, match="admin_email"):
        tenant_create(slug="long-mail", name="Long", admin_email=email)
    assert not Tenant.objects.filter(slug="long-mail").exists()


# --- a cloned tenant works ---------------------------------------------------------------------


def signed_in_admin(host: str, username: str, password: str = PASSWORD) -> Client:
    """A client of the tenant at ``host`` signed in to its admin, whose index answers."""
    client = Client(HTTP_HOST=host)
    response = client.post(
        "/admin/login/?next=/admin/", {"username": username, "password": password}
    )
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    return client


def test_a_cloned_tenant_serves_its_storefront_and_admin(db):
    result = _create("served-shop")
    assert result.path == "clone"
    assert Client(HTTP_HOST="served-shop.localhost").get("/").status_code == 200
    signed_in_admin("served-shop.localhost", "owner@served-shop.test")
