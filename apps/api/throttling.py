"""Rate limits of the API: per client and per tenant, counted per minute in the shared Redis.

Two DRF throttles (``DEFAULT_THROTTLE_CLASSES``) count every request that reaches a view's
checks: ``ClientRateThrottle`` per API key (else per staff user, else per address) and
``TenantRateThrottle`` for the whole tenant. Each counts in a fixed one-minute window with
one atomic ``INCR`` (the cache's key function puts the tenant's schema in the key, so
tenants never share a counter). The limits are ``settings.API_THROTTLE_RATES``, replaced by
the tenant's own ``api_rate_per_client`` / ``api_rate_per_tenant`` when set (``request.tenant``
is the resolver's cached instance: reading them costs no query); 0 means no limit.

A request over a limit is DRF's ``Throttled``: a 429 problem with ``Retry-After``
(``apps.api.exceptions``). ``RateLimitHeadersMiddleware`` puts ``RateLimit-Limit``,
``RateLimit-Remaining`` and ``RateLimit-Reset`` (the IETF draft's fields) on the answer,
for the tightest of the limits counted. With Redis away the throttles let requests through
and log a warning, as ``apps.core.rate_limits`` does: the API never fails because its
counters do. Nothing here reads or writes PostgreSQL.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import dataclass

import pybreaker
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponseBase
from redis.exceptions import RedisError
from rest_framework.throttling import BaseThrottle

from apps.core.breakers import REDIS, breaker
from apps.core.rate_limits import client_ip

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 60
QUOTAS_ATTRIBUTE = "api_rate_limit_quotas"


@dataclass(frozen=True)
class Quota:
    """Where one limit stands after a request: ``remaining`` of ``limit`` requests, the
    window ending in ``reset`` seconds."""

    limit: int
    remaining: int
    reset: int


def tightest(quotas: list[Quota]) -> Quota:
    """The quota a client meets first: the fewest requests left, then the longest wait."""
    return min(quotas, key=lambda quota: (quota.remaining, -quota.reset))


def _increment(key: str) -> int:
    # Django's cache has no atomic "increment, creating with a timeout": one pipeline of
    # INCR and EXPIRE on its own client does it in one round trip.
    client = cache._cache.get_client(key, write=True)
    with client.pipeline() as pipe:
        pipe.incr(key)
        pipe.expire(key, WINDOW_SECONDS + 5)
        count, _ = pipe.execute()
    return int(count)


def count_request(name: str) -> int | None:
    """Count one request against counter ``name`` (of the current schema); None when the
    cache cannot count (the caller lets the request through)."""
    key = cache.make_and_validate_key(name)
    try:
        return breaker(REDIS).call(_increment, key)
    except (RedisError, pybreaker.CircuitBreakerError) as error:
        logger.warning("API rate limit not counted: the cache is unavailable (%s)", error)
        return None


class MinuteRateThrottle(BaseThrottle):
    """A fixed one-minute window of ``limit()`` requests per ``identity()``."""

    scope = ""
    tenant_field = ""

    def limit(self, request) -> int:
        own = getattr(getattr(request, "tenant", None), self.tenant_field, None)
        return settings.API_THROTTLE_RATES.get(self.scope, 0) if own is None else own

    def identity(self, request) -> str:
        raise NotImplementedError

    def allow_request(self, request, view) -> bool:
        self._wait: int | None = None
        limit = self.limit(request)
        if not limit:
            return True
        now = time.time()
        window = int(now // WINDOW_SECONDS) * WINDOW_SECONDS
        count = count_request(f"api-throttle:{self.scope}:{self.identity(request)}:{window}")
        if count is None:
            return True
        reset = max(1, math.ceil(window + WINDOW_SECONDS - now))
        record(request, Quota(limit=limit, remaining=max(0, limit - count), reset=reset))
        if count > limit:
            self._wait = reset
            return False
        return True

    def wait(self) -> int | None:
        return self._wait


class ClientRateThrottle(MinuteRateThrottle):
    """Per API key; for a session, per staff user; anonymous (carts), per address."""

    scope = "client"
    tenant_field = "api_rate_per_client"

    def identity(self, request) -> str:
        key = getattr(request, "auth", None)
        if getattr(key, "pk", None) is not None:
            return f"key:{key.pk}"
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return f"user:{user.pk}"
        # Hashed, as apps.core.rate_limits does: the cache never holds an address.
        return "ip:" + hashlib.sha256(client_ip(request).encode()).hexdigest()[:32]


class TenantRateThrottle(MinuteRateThrottle):
    """Every client of the tenant together (the counter's key holds the tenant's schema)."""

    scope = "tenant"
    tenant_field = "api_rate_per_tenant"

    def identity(self, request) -> str:
        return "all"


def record(request, quota: Quota) -> None:
    """Keep ``quota`` on the Django request, for the headers of its answer."""
    django_request = getattr(request, "_request", request)
    quotas = getattr(django_request, QUOTAS_ATTRIBUTE, None)
    if quotas is None:
        quotas = []
        setattr(django_request, QUOTAS_ATTRIBUTE, quotas)
    quotas.append(quota)


class RateLimitHeadersMiddleware:
    """``RateLimit-*`` headers on every answer whose request the throttles counted (errors
    and 429s included)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        quotas = getattr(request, QUOTAS_ATTRIBUTE, None)
        if quotas:
            quota = tightest(quotas)
            response["RateLimit-Limit"] = str(quota.limit)
            response["RateLimit-Remaining"] = str(quota.remaining)
            response["RateLimit-Reset"] = str(quota.reset)
        return response
