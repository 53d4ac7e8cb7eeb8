"""The template schema: a migrated, empty tenant that new tenants are copied from.

Running every migration in a new schema costs about as much as all migrations
together, and grows with each one added; copying a schema that already went
through them costs one function call (``public.tenancy_clone_schema``, installed
by tenancy's migration 0007). This module is the one owner of that schema: it
knows its name, whether it matches the code's migrations, how to bring it up to
date and how to copy it.

The template has no ``Tenant`` row, so nothing that walks tenants
(``migrate_schemas``, the relay, beat jobs, the admin) ever sees it, and its name
starts with an underscore, which no tenant schema can (slugs start with a letter
or digit). It must never hold a tenant's data: only what every new tenant starts
with (applied migrations, content types, permissions, default groups, flags).
"""

from __future__ import annotations

import functools
import logging
import re
from typing import Literal

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection, transaction
from django.db.migrations.loader import MigrationLoader
from django_tenants.utils import schema_context

from . import locks

logger = logging.getLogger(__name__)

TemplateStatus = Literal["current", "stale", "missing"]

# A schema name no slug can produce: tenant schemas start with a letter or digit.
_TEMPLATE_NAME_RE = re.compile(r"_[a-z0-9_]{0,62}")
# Held shared by every clone and exclusively by a refresh, so no tenant is copied
# from a template half way through its migrations.
_TEMPLATE_LOCK_KEY = locks.TEMPLATE


def _template_schema_name() -> str:
    name = settings.TENANT_TEMPLATE_SCHEMA
    if not _TEMPLATE_NAME_RE.fullmatch(name):
        raise ImproperlyConfigured(
            f"TENANT_TEMPLATE_SCHEMA '{name}' must start with '_' and hold only a-z, 0-9 and '_' "
            "(at most 63 characters), so that no tenant's schema can take its name"
        )
    return name


TEMPLATE_SCHEMA = _template_schema_name()


def _tenant_app_labels() -> frozenset[str]:
    """Labels of the apps in ``settings.TENANT_APPS`` (entries are modules or AppConfig paths)."""
    entries = set(settings.TENANT_APPS)
    return frozenset(
        config.label
        for config in apps.get_app_configs()
        if config.name in entries
        or f"{type(config).__module__}.{type(config).__qualname__}" in entries
    )


@functools.cache
def expected_tenant_migrations() -> frozenset[tuple[str, str]]:
    """The ``(app, name)`` of every migration in the code that applies to tenant schemas.

    Read from the migration files (Django's loader, no database), once per process:
    the code does not change under a running process. A squashed migration counts
    with the ones it replaces, as Django records them all once it is applied.
    """
    labels = _tenant_app_labels()
    nodes = MigrationLoader(None, ignore_no_migrations=True).graph.nodes
    keys = set(nodes)
    for migration in nodes.values():
        keys.update(tuple(replaced) for replaced in migration.replaces)
    return frozenset(key for key in keys if key[0] in labels)


def _applied_tenant_migrations(schema: str) -> frozenset[tuple[str, str]] | None:
    """The tenant apps' migrations recorded in ``schema``, or None without a migrations table."""
    labels = _tenant_app_labels()
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [f'"{schema}".django_migrations'])
        if cursor.fetchone()[0] is None:
            return None
        cursor.execute(f'SELECT app, name FROM "{schema}".django_migrations')
        return frozenset(row for row in cursor.fetchall() if row[0] in labels)


def template_status() -> TemplateStatus:
    """ "current" when the template has applied exactly the code's tenant migrations;
    "stale" when one is missing or it has one the code no longer has; "missing" without it."""
    applied = _applied_tenant_migrations(TEMPLATE_SCHEMA)
    if applied is None:
        return "missing"
    return "current" if applied == expected_tenant_migrations() else "stale"


def template_refresh(*, verbosity: int = 0) -> str:
    """Make the template match the code; returns "created", "migrated" or "current".

    A stale template is rebuilt from an empty schema rather than migrated forward,
    so that it is what a new tenant would get by running every migration (and a
    migration removed from the code leaves nothing behind). Everything happens in
    one transaction under the template's lock: a failed refresh leaves the
    previous template (and its spare copies) in place, and no tenant is copied from a
    half-built one. The spare copies of the previous template are dropped with it.
    Safe to run again, and from several processes at once.
    """
    # Both use this module to provision.
    from .services import tenant_groups_sync
    from .spares import spares_drop

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_TEMPLATE_LOCK_KEY])
        status = template_status()
        # Spares are copies of the template being replaced; a template migrated in place
        # (migrate_tenants) leaves those copied before it stale.
        spares_drop(stale_only=status == "current")
        if status == "current":
            return "current"
        previous_tenant = connection.tenant
        with connection.cursor() as cursor:
            if status == "stale":
                cursor.execute(f'DROP SCHEMA "{TEMPLATE_SCHEMA}" CASCADE')
            else:
                # A schema without a migrations table is an unfinished one: start it again.
                cursor.execute(f'DROP SCHEMA IF EXISTS "{TEMPLATE_SCHEMA}" CASCADE')
            cursor.execute(f'CREATE SCHEMA "{TEMPLATE_SCHEMA}"')
        try:
            call_command(
                "migrate_schemas",
                tenant=True,
                schema_name=TEMPLATE_SCHEMA,
                interactive=False,
                verbosity=verbosity,
            )
            with schema_context(TEMPLATE_SCHEMA):
                tenant_groups_sync()
        finally:
            connection.set_tenant(previous_tenant)
    return "created" if status == "missing" else "migrated"


def template_lock_shared() -> None:
    """Wait for a refresh in progress; hold the template unchanged until this transaction ends."""
    if not connection.in_atomic_block:
        raise RuntimeError("the template is locked for a transaction: call inside atomic()")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock_shared(%s)", [_TEMPLATE_LOCK_KEY])


def clone_template(schema_name: str) -> None:
    """Create schema ``schema_name`` as a copy of the template, in the caller's transaction.

    One statement: tables with their rows, keys, indexes, foreign keys (inside the
    new schema, or to public where the template's point there), triggers and
    sequences of its own, placed after the copied rows.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("clone_template runs inside the provisioning transaction")
    with connection.cursor() as cursor:
        cursor.execute("SELECT public.tenancy_clone_schema(%s, %s)", [TEMPLATE_SCHEMA, schema_name])


_warned: set[str] = set()


def warn_template_unusable(status: TemplateStatus) -> None:
    """Say once per process why tenants are being migrated instead of copied."""
    if status in _warned:
        return
    _warned.add(status)
    logger.warning(
        "tenant template schema %s is %s: new tenants run every migration (slow) until "
        "`manage.py template_refresh` (or `make migrate`) brings it up to date",
        TEMPLATE_SCHEMA,
        status,
    )
