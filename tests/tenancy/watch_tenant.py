"""Run in a separate process by the cache tests: prints a tenant's status whenever it changes.

Usage: python tests/tenancy/watch_tenant.py <slug>   (settings from the environment)
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django

django.setup()

from apps.tenancy.resolver import tenant_by_slug, tenant_cache  # noqa: E402


def main(slug: str) -> None:
    if not tenant_cache.wait_until_listening(timeout=10):
        print("no-listener", flush=True)
        return
    last = None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        tenant = tenant_by_slug(slug)
        status = tenant.status if tenant else "missing"
        if status != last:
            print(status, flush=True)
            last = status
        time.sleep(0.01)


if __name__ == "__main__":
    main(sys.argv[1])
