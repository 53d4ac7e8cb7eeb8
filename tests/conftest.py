"""Test tenants are created once per test session (and kept with --reuse-db)."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context

from apps.core.breakers import reset_all as reset_breakers
from apps.events.models import Delivery, OutboxEvent
from apps.events.relay import drain
from apps.events.selectors import reset_health_cache
from apps.tenancy.models import Tenant
from apps.tenancy.resolver import tenant_cache
from apps.tenancy.services import tenant_create, tenant_groups_sync
from apps.tenancy.template import template_refresh

TEST_TENANTS = {
    "acme": ("Acme Test", "admin@acme.test"),
    "globex": ("Globex Test", "admin@globex.test"),
}
ADMIN_PASSWORD = "correct-horse-battery"


@pytest.fixture(scope="session")
def django_db_setup(
    request, django_test_environment, django_db_blocker, django_db_keepdb, django_db_createdb,
    django_db_modify_db_settings,
):  # fmt: skip
    """Set up the test database and its tenants, even for a run that only uses ``live_db``.

    (pytest-django sets up only the databases that collected ``db`` tests ask
    for; without this a ``live_db``-only run would touch the development database.)
    """
    from django.test.utils import setup_databases, teardown_databases

    keepdb = django_db_keepdb and not django_db_createdb
    with django_db_blocker.unblock():
        config = setup_databases(
            verbosity=request.config.option.verbose,
            interactive=False,
            aliases={"default"},
            keepdb=keepdb,
        )
        assert connection.settings_dict["NAME"].startswith("test_")
        # The test tenants are copies of the template, as in production; a reused
        # database whose migrations moved on gets its template rebuilt first.
        template_refresh()
        for slug, (name, email) in TEST_TENANTS.items():
            if not Tenant.objects.filter(slug=slug).exists():
                tenant_create(
                    slug=slug, name=name, admin_email=email, admin_password=ADMIN_PASSWORD
                )
        Tenant.objects.filter(slug__in=TEST_TENANTS).update(status="active")
        for tenant in Tenant.objects.filter(slug__in=TEST_TENANTS):
            with schema_context(tenant.schema_name):
                tenant_groups_sync()  # a reused database gets the current default permissions
        _settle_outbox()
    yield
    if not keepdb:
        with django_db_blocker.unblock():
            teardown_databases(config, verbosity=request.config.option.verbose)


def _settle_outbox() -> None:
    """Deliver what provisioning published, then leave the outbox empty, as every test expects.

    A new database gets ``tenancy.tenant.created`` for each test tenant; a reused
    one may keep rows of a run that was interrupted. Either way their
    subscribers run (as a worker would run them) and the rows go, so a test
    that counts the outbox sees only its own events.
    """
    drain()
    empty_outbox()


def empty_outbox() -> None:
    Delivery.objects.all().delete()
    OutboxEvent.objects.all().delete()


@pytest.fixture(autouse=True)
def _clean_platform_state():
    """Each test starts with cold tenant caches, closed breakers and the public schema."""
    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    tenant_cache.clear_local()
    reset_breakers()
    reset_health_cache()
    yield
    connection.set_schema_to_public()
    tenant_cache.clear_local()


@pytest.fixture
def live_db(django_db_setup, django_db_blocker):
    """Database access outside a test transaction: writes commit and other processes see them.

    Tests using it undo their own changes.
    """
    with django_db_blocker.unblock():
        yield
        connection.set_schema_to_public()
        # Writes that committed may have published events: leave the outbox empty.
        empty_outbox()


@pytest.fixture
def acme(db) -> Tenant:
    return Tenant.objects.get(slug="acme")


@pytest.fixture
def globex(db) -> Tenant:
    return Tenant.objects.get(slug="globex")


def subprocess_database_url() -> str:
    """The URL of the test database, for processes the tests start (workers, watchers)."""
    db = connection.settings_dict
    host = db["HOST"] or "127.0.0.1"
    if host.startswith("/"):
        from urllib.parse import quote

        host = quote(host, safe="")
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{db['USER']}@{host}{port}/{db['NAME']}"


def tenant_client(slug: str) -> Client:
    return Client(HTTP_HOST=f"{slug}.{settings.TENANT_BASE_DOMAIN}")


def as_tenant_admin(client: Client, slug: str = "acme") -> Client:
    """``client`` logged in as the administrator (a superuser) that tenant ``slug`` was made with."""
    email = TEST_TENANTS[slug][1]
    with schema_context(slug):
        client.force_login(get_user_model().objects.get(username=email))
    return client


@pytest.fixture
def acme_api(acme_client: Client) -> Client:
    """acme's client, logged in as the tenant's administrator (a superuser)."""
    return as_tenant_admin(acme_client)


@pytest.fixture
def acme_client(db) -> Client:
    return tenant_client("acme")


@pytest.fixture
def globex_client(db) -> Client:
    return tenant_client("globex")


@pytest.fixture
def public_client(db) -> Client:
    return Client(HTTP_HOST=settings.TENANT_BASE_DOMAIN)


@pytest.fixture
def operator_client(public_client, django_user_model) -> Client:
    """A platform operator (a superuser of the public schema), logged in on the public domain."""
    operator = django_user_model.objects.create_superuser("op", "op@platform.test", "pw-op-12345")
    public_client.force_login(operator)
    return public_client


@pytest.fixture
def media_root(settings, tmp_path) -> Path:
    """Uploads of this test go to ``tmp_path/<schema>/``."""
    settings.MEDIA_ROOT = str(tmp_path)
    # Resets the tenant storage's cached root (it only listens to this setting).
    settings.MULTITENANT_RELATIVE_MEDIA_ROOT = "%s"
    return tmp_path


@pytest.fixture
def clock(monkeypatch):
    """The orders' clock (``apps.commerce.orders.now``), a step further at each reading, so
    that the events of one order get distinct, known times."""
    from apps.commerce import orders
    from tests.commerce.order_factories import Clock

    made = Clock()
    monkeypatch.setattr(orders, "now", made)
    return made
