"""Test run: `make test` (real PostgreSQL and Redis)."""

from .base import *  # noqa: F403
from .base import CACHES, REDIS_URL, env, redis_url_with_db

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
TENANT_BASE_DOMAIN = "localhost"
TENANT_RESOLUTION_MODES = ["header", "subdomain", "domain"]
# Tests own a Redis database of their own, flushed between tests.
TEST_REDIS_URL = env("TEST_REDIS_URL") or redis_url_with_db(REDIS_URL, 15)
for _alias in CACHES:
    CACHES[_alias]["LOCATION"] = TEST_REDIS_URL
REDIS_URL = TEST_REDIS_URL
CELERY_BROKER_URL = TEST_REDIS_URL
# Pub/sub channels span every Redis database: name the channel after ours so
# that two test runs on one server (TEST_REDIS_URL on another db) never meet.
TENANT_INVALIDATION_CHANNEL = f"test:tenancy:invalidate:{TEST_REDIS_URL}"

# Storefront pages are cached only where a test asks for it (the ``page_cache`` fixture):
# the other tests change rows without the relay that purges it.
STOREFRONT_PAGE_CACHE_SECONDS = int(env("STOREFRONT_PAGE_CACHE_SECONDS", "0"))

# A small tenant app with an aggregate, events and a recording handler for the
# event backbone's tests (tests/eventapp).
TENANT_APPS = [*TENANT_APPS, "tests.eventapp"]  # noqa: F405
INSTALLED_APPS = [*INSTALLED_APPS, "tests.eventapp"]  # noqa: F405
# Short leases and retries, so that tests of expiry and backoff run in seconds; a
# worker started by a test may be given a long lease (to show a dead claimer's rows
# come back without waiting for it).
EVENTS = {
    **EVENTS,  # noqa: F405
    "LEASE_SECONDS": float(env("EVENTS_LEASE_SECONDS", "3")),
    "RETRY_BASE_SECONDS": 0.2,
    "RETRY_MAX_SECONDS": 1.0,
}
# Static files come straight from the apps' and the project's folders (WhiteNoise's
# finders); STATIC_ROOT is for collectstatic in production.
STATIC_ROOT = None
# Tests read the workers' logs line by line: every task is logged.
LOG_ROUTINE_TASKS = True

# Payments: a short client timeout, so the fake gateway's slow card (which sleeps longer)
# times out within a second.
PAYMENT_PROVIDERS = ["manual", "test_card"]
TEST_CARD_GATEWAY_TIMEOUT = 0.5
TEST_CARD_GATEWAY_SLOW_SECONDS = 2.0

# The test database's commits do not wait for the disk (a crash of the test server loses
# nothing a test needs): the suite commits often (live_db tests, workers, provisioning).
DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c synchronous_commit=off"  # noqa: F405
