"""A Redis cache that a Redis outage cannot turn into a failed request.

Django's ``RedisCache`` raises when Redis is away. This one calls Redis through the Redis
circuit breaker (``apps.core.breakers``) and answers a miss for a read and does nothing for
a write when Redis fails or the breaker is open: callers that cache what the database holds
(django-waffle's flags) then read the database, slower but right. It is meant for such
read-through caches only, never for counters or locks, which must know that Redis failed.
"""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache

from .breakers import REDIS, guarded


class GuardedRedisCache(RedisCache):
    def get(self, key, default=None, version=None) -> Any:
        return guarded(REDIS, super().get, key, default, version, fallback=default)

    def get_many(self, keys, version=None) -> dict:
        return guarded(REDIS, super().get_many, keys, version, fallback={})

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None) -> bool:
        return guarded(REDIS, super().add, key, value, timeout, version, fallback=False)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None) -> None:
        guarded(REDIS, super().set, key, value, timeout, version, fallback=None)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None) -> list:
        return guarded(REDIS, super().set_many, data, timeout, version, fallback=list(data))

    def delete(self, key, version=None) -> bool:
        return guarded(REDIS, super().delete, key, version, fallback=False)

    def delete_many(self, keys, version=None) -> None:
        guarded(REDIS, super().delete_many, keys, version, fallback=None)


__all__ = ["GuardedRedisCache"]
