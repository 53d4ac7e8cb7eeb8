"""Development settings plus the tenant-scale bench's own tenant app (``bench.scaleapp``),
whose migrations come from the package named by ``BENCH_SCALE_MIGRATIONS``
(``bench/tenants.py`` writes it)."""

import os

from config.settings.dev import *  # noqa: F403
from config.settings.dev import INSTALLED_APPS, TENANT_APPS

TENANT_APPS = [*TENANT_APPS, "bench.scaleapp"]
INSTALLED_APPS = [*INSTALLED_APPS, "bench.scaleapp"]
MIGRATION_MODULES = {"scaleapp": os.environ.get("BENCH_SCALE_MIGRATIONS", "scale_migrations")}
