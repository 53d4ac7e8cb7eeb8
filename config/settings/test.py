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
TENANT_INVALIDATION_CHANNEL = "test:tenancy:invalidate"
