"""The tenant schema as the code defines it: which migrations a current tenant schema holds."""

from __future__ import annotations

from functools import cache

from django.conf import settings
from django.db.migrations.loader import MigrationLoader
from django_tenants.routers import TenantSyncRouter


@cache
def expected_tenant_migrations() -> frozenset[tuple[str, str]]:
    """The (app, name) pairs of the code's migration graph for the apps in TENANT_APPS.

    Read from the migration files alone (no connection), once per process: the
    files do not change while a process runs.
    """
    loader = MigrationLoader(None, ignore_no_migrations=True)
    router = TenantSyncRouter()
    return frozenset(
        (app, name)
        for app, name in loader.graph.nodes
        if router.app_in_list(app, settings.TENANT_APPS)
    )
