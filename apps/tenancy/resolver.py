"""Turning a request into a tenant: sanitize, then a two-level cache, then the database.

Lookups go through a per-process TTL cache, then the shared Redis cache, then
PostgreSQL. Found tenants stay cached for ``TENANT_CACHE_POSITIVE_TTL`` seconds,
unknown identifiers for ``TENANT_CACHE_NEGATIVE_TTL``. Concurrent misses of one
key in a process wait for a single database query. Every change to a tenant or
a domain deletes the shared entries and tells every process, over Redis
pub/sub, to drop its local ones. Redis calls run behind a circuit breaker: with
Redis down, resolution goes on from the local cache and the database.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import threading
import time
from dataclasses import dataclass
from typing import Any

import redis
from cachetools import TLRUCache
from django.conf import settings
from django.db import connection
from django.http import HttpRequest
from prometheus_client import Counter

from apps.core.breakers import REDIS, breaker, guarded
from apps.core.modules import Mode, ModeSetting

from .errors import TenantIdentifierInvalid, TenantNotFound, TenantSuspended
from .identifiers import InvalidIdentifier, sanitize_host, sanitize_slug
from .models import Domain, ModuleMode, Tenant, TenantStatus

logger = logging.getLogger(__name__)

_MISSING = {"missing": True}  # cached marker of an unknown identifier
_NOT_CACHED = object()

LOOKUPS = Counter(
    "tenancy_lookups_total",
    "Tenant lookups by the layer that answered them",
    ["layer"],
)

TENANT_FIELDS = (
    "id",
    "schema_name",
    "slug",
    "name",
    "status",
    "default_locale",
    "enabled_locales",
    "api_rate_per_client",
    "api_rate_per_tenant",
    "require_if_match",
    "disabled_modules",
    "version",
    "created_at",
    "updated_at",
)


MODULE_MODES_KEY = "modules:modes"


def slug_key(slug: str) -> str:
    return f"tenant:slug:{slug}"


def host_key(host: str) -> str:
    return f"tenant:host:{host}"


def schema_key(schema_name: str) -> str:
    return f"tenant:schema:{schema_name}"


def tenant_from_values(values: dict[str, Any]) -> Tenant:
    """A ``Tenant`` instance built from cached values, without a query."""
    tenant = Tenant(**values)
    tenant._state.adding = False
    tenant._state.db = "default"
    return tenant


@dataclass(frozen=True)
class Public:
    """The request is for the platform itself (public schema)."""

    host: str


class SharedCache:
    """The Redis level: one kept client per process and URL.

    (Django's ``RedisCache`` builds a new client object for every call, which
    costs more than the round trip itself on this hot path.)
    """

    prefix = "platform:"

    def __init__(self) -> None:
        self._client: redis.Redis | None = None
        self._key: tuple[int, str] | None = None

    def client(self) -> redis.Redis:
        key = (os.getpid(), settings.REDIS_URL)
        if self._client is None or self._key != key:
            self._client = redis.Redis.from_url(settings.REDIS_URL, **_redis_options())
            self._key = key
        return self._client

    def get(self, key: str) -> Any:
        raw = self.client().get(self.prefix + key)
        return None if raw is None else pickle.loads(raw)  # noqa: S301 - our own entries

    def set(self, key: str, value: Any, ttl: int) -> None:
        self.client().set(self.prefix + key, pickle.dumps(value), ex=ttl)

    def delete_many(self, keys: list[str]) -> None:
        if keys:
            self.client().delete(*(self.prefix + key for key in keys))


shared_cache = SharedCache()


class TenantCache:
    """The two cache levels and the invalidation listener of one process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._inflight: dict[str, threading.Lock] = {}
        self._local = self._new_local()
        self._listener_pid: int | None = None
        self._listener_ready = threading.Event()

    def _new_local(self) -> TLRUCache:
        positive = settings.TENANT_CACHE_POSITIVE_TTL
        negative = settings.TENANT_CACHE_NEGATIVE_TTL

        def time_to_use(key: str, value: dict, now: float) -> float:
            return now + (negative if value is _MISSING or value.get("missing") else positive)

        return TLRUCache(
            maxsize=settings.TENANT_CACHE_LOCAL_MAXSIZE, ttu=time_to_use, timer=time.monotonic
        )

    @property
    def shared(self) -> SharedCache:
        return shared_cache

    # -- lookups -----------------------------------------------------------

    def get(self, key: str, load) -> dict:
        """The cached values for ``key``, loading them with ``load()`` on a miss."""
        self.ensure_listener()
        value = self._local_get(key)
        if value is not _NOT_CACHED:
            LOOKUPS.labels("local").inc()
            return value
        with self._lock:
            flight = self._inflight.setdefault(key, threading.Lock())
        with flight:
            try:
                value = self._local_get(key)
                if value is not _NOT_CACHED:
                    LOOKUPS.labels("local").inc()
                    return value
                value = guarded(REDIS, self.shared.get, key, fallback=None)
                if value is not None:
                    LOOKUPS.labels("redis").inc()
                else:
                    LOOKUPS.labels("database").inc()
                    value = load() or _MISSING
                    ttl = (
                        settings.TENANT_CACHE_NEGATIVE_TTL
                        if value is _MISSING
                        else settings.TENANT_CACHE_POSITIVE_TTL
                    )
                    guarded(REDIS, self.shared.set, key, value, ttl, fallback=None)
                with self._lock:
                    self._local[key] = value
                return value
            finally:
                with self._lock:
                    if self._inflight.get(key) is flight:
                        del self._inflight[key]

    def _local_get(self, key: str):
        with self._lock:
            return self._local.get(key, _NOT_CACHED)

    # -- invalidation ------------------------------------------------------

    def invalidate(self, keys: list[str]) -> None:
        """Drop ``keys`` here, in Redis, and in every other process."""
        self._evict_local(keys)
        guarded(REDIS, self.shared.delete_many, keys, fallback=None)
        message = json.dumps({"keys": keys, "pid": os.getpid()})
        guarded(REDIS, self._publish, message, fallback=None)

    def _publish(self, message: str) -> None:
        shared_cache.client().publish(settings.TENANT_INVALIDATION_CHANNEL, message)

    def _evict_local(self, keys: list[str]) -> None:
        with self._lock:
            for key in keys:
                self._local.pop(key, None)

    def clear_local(self) -> None:
        with self._lock:
            self._local = self._new_local()

    def ensure_listener(self) -> None:
        """Start the invalidation listener of this process (once per process, after fork too)."""
        pid = os.getpid()
        if self._listener_pid == pid:
            return
        with self._lock:
            if self._listener_pid == pid:
                return
            self._listener_pid = pid
            self._listener_ready = threading.Event()
            thread = threading.Thread(target=self._listen, name="tenancy-invalidation", daemon=True)
            thread.start()

    def wait_until_listening(self, timeout: float = 5) -> bool:
        self.ensure_listener()
        return self._listener_ready.wait(timeout)

    def _listen(self) -> None:
        backoff = 0.5
        while True:
            client = redis.Redis.from_url(
                settings.REDIS_URL,
                socket_connect_timeout=1,
                socket_timeout=None,
                health_check_interval=10,
            )
            try:
                pubsub = client.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(settings.TENANT_INVALIDATION_CHANNEL)
                # Invalidations may have been missed while we were not listening.
                self.clear_local()
                self._listener_ready.set()
                backoff = 0.5
                for message in pubsub.listen():
                    self._on_message(message)
            except Exception as exc:
                self._listener_ready.clear()
                logger.warning("tenant invalidation listener lost Redis (%s); retrying", exc)
                time.sleep(backoff)
                backoff = min(backoff * 2, 5)
            finally:
                client.close()

    def _on_message(self, message: dict) -> None:
        try:
            keys = json.loads(message["data"])["keys"]
        except (ValueError, KeyError, TypeError):
            logger.warning("ignoring malformed tenant invalidation message")
            return
        self._evict_local([str(key) for key in keys])


def _redis_options() -> dict:
    return {
        "socket_connect_timeout": float(os.environ.get("REDIS_CONNECT_TIMEOUT", "0.25")),
        "socket_timeout": float(os.environ.get("REDIS_SOCKET_TIMEOUT", "0.5")),
    }


tenant_cache = TenantCache()


# -- loaders: the only queries of resolution ---------------------------------


def _values(queryset) -> dict | None:
    rows = list(queryset.order_by().values(*TENANT_FIELDS)[:1])
    return rows[0] if rows else None


def _load_by_slug(slug: str) -> dict | None:
    return _values(Tenant.objects.filter(slug=slug))


def _load_by_host(host: str) -> dict | None:
    tenant_id = Domain.objects.filter(domain=host).values_list("tenant_id", flat=True)
    return _values(Tenant.objects.filter(pk__in=tenant_id))


def tenant_by_slug(slug: str) -> Tenant | None:
    """The tenant called ``slug`` (already sanitized), from the cache when warm."""
    values = tenant_cache.get(slug_key(slug), lambda: _load_by_slug(slug))
    return None if values.get("missing") else tenant_from_values(values)


def tenant_by_schema(schema_name: str) -> Tenant | None:
    """The tenant that owns ``schema_name`` (for code that only knows the active schema)."""
    values = tenant_cache.get(
        schema_key(schema_name), lambda: _values(Tenant.objects.filter(schema_name=schema_name))
    )
    return None if values.get("missing") else tenant_from_values(values)


def tenant_by_host(host: str) -> Tenant | None:
    values = tenant_cache.get(host_key(host), lambda: _load_by_host(host))
    return None if values.get("missing") else tenant_from_values(values)


def module_modes() -> dict[str, ModeSetting]:
    """The operator's module modes (public schema), from the cache when warm."""
    values = tenant_cache.get(
        MODULE_MODES_KEY,
        lambda: (
            {
                row["module"]: (row["mode"], row["reason"])
                for row in ModuleMode.objects.values("module", "mode", "reason")
            }
            or {"none": True}
        ),
    )
    return {
        name: ModeSetting(Mode(mode), reason)
        for name, pair in values.items()
        if isinstance(pair, tuple)
        for mode, reason in [pair]
    }


# -- requests ----------------------------------------------------------------


def _header_value(request: HttpRequest) -> str | None:
    meta_name = "HTTP_" + settings.TENANT_HEADER.upper().replace("-", "_")
    return request.META.get(meta_name)


def identify(request: HttpRequest) -> Tenant | Public:
    """The tenant a request is for, or ``Public``.

    On success the request's ``Host`` header is replaced by its normalized form.
    Raises ``TenantIdentifierInvalid`` (400), ``TenantNotFound`` (404) or
    ``TenantSuspended`` (403). Input is sanitized before any lookup.
    """
    modes = settings.TENANT_RESOLUTION_MODES
    try:
        host = sanitize_host(request.META.get("HTTP_HOST") or request.META.get("SERVER_NAME", ""))
        request.META["HTTP_HOST"] = host.header
        header = _header_value(request) if "header" in modes else None
        if header is not None:
            tenant = tenant_by_slug(sanitize_slug(header))
            return _usable(tenant, f"no tenant '{header.strip().lower()}'")
        base = settings.TENANT_BASE_DOMAIN
        if host.name == base or host.name in settings.TENANT_PUBLIC_HOSTS:
            return Public(host.name)
        if host.is_ip:
            raise TenantNotFound(f"no tenant at {host.name}")
        suffix = "." + base
        if "subdomain" in modes and host.name.endswith(suffix):
            label = host.name[: -len(suffix)]
            if "." not in label:
                return _usable(tenant_by_slug(sanitize_slug(label)), f"no tenant '{label}'")
        if "domain" in modes:
            return _usable(tenant_by_host(host.name), f"no tenant at {host.name}")
        raise TenantNotFound(f"no tenant at {host.name}")
    except InvalidIdentifier as exc:
        raise TenantIdentifierInvalid(exc.reason) from None


def _usable(tenant: Tenant | None, missing: str) -> Tenant:
    if tenant is None:
        raise TenantNotFound(missing)
    if tenant.status != TenantStatus.ACTIVE:
        raise TenantSuspended(f"tenant '{tenant.slug}' is suspended")
    return tenant


def activate(tenant: Tenant | None) -> None:
    """Point the connection at ``tenant``'s schema, or at public for ``None``.

    Staying on the same schema keeps the connection's search_path as it is, so a
    warm request on a kept connection issues no ``SET search_path`` at all.
    """
    if tenant is None:
        if connection.schema_name != "public":
            connection.set_schema_to_public()
        return
    if connection.schema_name == tenant.schema_name and connection.tenant is not None:
        connection.tenant = tenant
        return
    connection.set_tenant(tenant)


def redis_breaker_state() -> str:
    return breaker(REDIS).current_state
