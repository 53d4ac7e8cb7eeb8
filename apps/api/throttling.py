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
for the tightest of the limits counted. DRF checks credentials and permissions before
throttles, so a request refused by those (or sent to no endpoint) is not counted: its
answer shows the counters as they stand, read without a query (an unauthenticated flood
must not spend the tenant's quota for its integrators). With Redis away the throttles let requests through
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
from django.utils.functional import SimpleLazyObject, empty
from django_tenants.utils import get_public_schema_name
from redis.exceptions import RedisError
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from apps.core.breakers import REDIS, breaker
from apps.core.rate_limits import client_ip

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 60
API_PATH = "/api/"
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


def _read(key: str) -> int:
    value = cache._cache.get_client(key).get(key)
    return int(value) if value is not None else 0


def _counter(name: str, operation) -> int | None:
    """``operation`` on counter ``name`` (of the current schema), through the Redis breaker;
    None when the cache cannot answer (the caller lets the request through)."""
    key = cache.make_and_validate_key(name)
    try:
        return breaker(REDIS).call(operation, key)
    except (RedisError, pybreaker.CircuitBreakerError) as error:
        logger.warning("API rate limit not counted: the cache is unavailable (%s)", error)
        return None


def _window(now: float) -> tuple[int, int]:
    """The start of the window ``now`` is in, and the seconds until its end (1 at least)."""
    start = int(now // WINDOW_SECONDS) * WINDOW_SECONDS
    return start, max(1, math.ceil(start + WINDOW_SECONDS - now))


def _settled_user(request: HttpRequest):
    """The request's user when something has loaded it already, else None (without a query:
    the session's lazy user is left alone)."""
    user = request.__dict__.get("user")
    if isinstance(user, SimpleLazyObject):
        return None if user._wrapped is empty else user._wrapped
    return user


class MinuteRateThrottle(BaseThrottle):
    """A fixed one-minute window of ``limit()`` requests per ``identity()``."""

    scope = ""
    tenant_field = ""

    def limit(self, request) -> int:
        own = getattr(getattr(request, "tenant", None), self.tenant_field, None)
        return settings.API_THROTTLE_RATES.get(self.scope, 0) if own is None else own

    def identity(self, request, user) -> str:
        raise NotImplementedError

    def _name(self, request, user, window: int) -> str:
        return f"api-throttle:{self.scope}:{self.identity(request, user)}:{window}"

    def allow_request(self, request, view) -> bool:
        self._wait: int | None = None
        limit = self.limit(request)
        if not limit:
            return True
        window, reset = _window(time.time())
        count = _counter(self._name(request, request.user, window), _increment)
        if count is None:
            return True
        record(request, Quota(limit=limit, remaining=max(0, limit - count), reset=reset))
        if count > limit:
            self._wait = reset
            return False
        return True

    def wait(self) -> int | None:
        return self._wait

    def peek(self, request: HttpRequest) -> Quota | None:
        """Where the limit stands for a request the throttles did not count (refused before
        them: no credentials, no permission, no such endpoint), without counting it."""
        limit = self.limit(request)
        if not limit:
            return None
        window, reset = _window(time.time())
        count = _counter(self._name(request, _settled_user(request), window), _read)
        if count is None:
            return None
        return Quota(limit=limit, remaining=max(0, limit - count), reset=reset)


class ClientRateThrottle(MinuteRateThrottle):
    """Per API key; for a session, per staff user; anonymous (carts), per address."""

    scope = "client"
    tenant_field = "api_rate_per_client"

    def identity(self, request, user) -> str:
        key = getattr(request, "auth", None)
        if getattr(key, "pk", None) is not None:
            return f"key:{key.pk}"
        if user is not None and user.is_authenticated:
            return f"user:{user.pk}"
        # Hashed, as apps.core.rate_limits does: the cache never holds an address.
        return "ip:" + hashlib.sha256(client_ip(request).encode()).hexdigest()[:32]


class TenantRateThrottle(MinuteRateThrottle):
    """Every client of the tenant together (the counter's key holds the tenant's schema)."""

    scope = "tenant"
    tenant_field = "api_rate_per_tenant"

    def identity(self, request, user) -> str:
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
    """``RateLimit-*`` headers on every answer of a tenant's API: from the throttles' counts,
    or, for a request refused before the throttles ran, from the counters as they stand."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        quotas = getattr(request, QUOTAS_ATTRIBUTE, None)
        if quotas is None and _is_tenant_api(request):
            peeked = (
                throttle().peek(request) for throttle in api_settings.DEFAULT_THROTTLE_CLASSES
            )
            quotas = [quota for quota in peeked if quota is not None]
        if quotas:
            quota = tightest(quotas)
            response["RateLimit-Limit"] = str(quota.limit)
            response["RateLimit-Remaining"] = str(quota.remaining)
            response["RateLimit-Reset"] = str(quota.reset)
        return response


def _is_tenant_api(request: HttpRequest) -> bool:
    schema = getattr(getattr(request, "tenant", None), "schema_name", None)
    return (
        request.path.startswith(API_PATH)
        and schema is not None
        and schema != get_public_schema_name()
    )
