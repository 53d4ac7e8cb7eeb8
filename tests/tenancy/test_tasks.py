"""Celery tasks carry their tenant; without one they fail loudly instead of running in public."""

import logging

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from apps.tenancy.errors import TenantNotFound, TenantRequired
from apps.tenancy.services import tenant_suspend
from apps.tenancy.tasks import TenantTask, for_each_active_tenant
from config.celery import app


@app.task(base=TenantTask, name="tests.count_users")
def count_users(*, tenant, prefix=""):
    return {
        "tenant": tenant.slug,
        "schema": connection.schema_name,
        "users": list(
            get_user_model()
            .objects.filter(username__startswith=prefix)
            .values_list("username", flat=True)
        ),
    }


def test_task_runs_in_its_tenant_schema(acme, globex):
    result = count_users.apply(kwargs={"tenant": "globex", "prefix": "admin"}).get()
    assert result == {"tenant": "globex", "schema": "globex", "users": ["admin@globex.test"]}
    assert connection.schema_name == "public"


def test_task_accepts_a_tenant_instance(acme):
    assert count_users.apply(kwargs={"tenant": acme}).get()["schema"] == "acme"


def test_task_without_tenant_fails_loudly(db):
    with pytest.raises(TenantRequired):
        count_users.apply().get()
    with pytest.raises(TenantRequired):
        count_users.delay(prefix="x")


def test_task_for_unknown_tenant_fails(db):
    with pytest.raises(TenantNotFound):
        count_users.apply(kwargs={"tenant": "nobody"}).get()
    with pytest.raises(TenantNotFound):
        count_users.apply(kwargs={"tenant": "../public"}).get()


BEAT_LOGGER = "tests.beat"
DONE_BY_SCHEMA = {"acme": 2, "globex": 3}


def _beat_work(visited: list[str]):
    """Work that says how much it did in the schema it runs in, remembering where it ran."""

    def work() -> int:
        visited.append(connection.schema_name)
        return DONE_BY_SCHEMA.get(connection.schema_name, 0)

    return work


def _beat_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == BEAT_LOGGER]


def test_beat_loop_runs_in_every_active_tenant_and_logs_only_what_did_something(
    acme, globex, caplog
):
    visited: list[str] = []
    with caplog.at_level(logging.INFO, logger=BEAT_LOGGER):
        total = for_each_active_tenant(
            _beat_work(visited), logger=logging.getLogger(BEAT_LOGGER), done="did %s of %s"
        )
    assert {"acme", "globex"} <= set(visited)
    assert "public" not in visited
    # Other active tenants (if any) did nothing: no line for them, nothing added.
    assert total == 5
    assert _beat_lines(caplog) == ["did 2 of acme", "did 3 of globex"]
    assert connection.schema_name == "public"


def test_beat_loop_leaves_out_a_suspended_tenant(acme, globex, caplog):
    tenant_suspend(slug="globex")
    visited: list[str] = []
    with caplog.at_level(logging.INFO, logger=BEAT_LOGGER):
        total = for_each_active_tenant(
            _beat_work(visited), logger=logging.getLogger(BEAT_LOGGER), done="did %s of %s"
        )
    assert "acme" in visited and "globex" not in visited
    assert total == 2
    assert _beat_lines(caplog) == ["did 2 of acme"]
