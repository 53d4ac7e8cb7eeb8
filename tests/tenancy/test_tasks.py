"""Celery tasks carry their tenant; without one they fail loudly instead of running in public."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from apps.tenancy.errors import TenantNotFound, TenantRequired
from apps.tenancy.tasks import TenantTask
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
