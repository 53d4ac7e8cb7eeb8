"""The platform's own Redis client for short calls: flags, counters, locks, shared states.

One client per process and URL, with short timeouts, so that a Redis outage costs a quarter
of a second, never a hang. Callers go through the Redis breaker (``breakers.guarded``).
(Django's cache and Celery keep their own connections.)
"""

from __future__ import annotations

import os

import redis
from django.conf import settings

_clients: dict[tuple[int, str], redis.Redis] = {}


def client() -> redis.Redis:
    key = (os.getpid(), settings.REDIS_URL)
    found = _clients.get(key)
    if found is None:
        found = _clients[key] = redis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=0.25, socket_timeout=0.5
        )
    return found


__all__ = ["client"]
