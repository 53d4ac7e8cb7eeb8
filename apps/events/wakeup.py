"""Coalesced wake-ups of the relay: many commits, one drain task.

A commit sets a short-lived Redis flag; only the commit that sets it sends a
drain task, and the drain clears the flag when it starts, so events committed
during a drain schedule exactly one more. With Redis down nothing is sent:
events wait in PostgreSQL and the beat sweep drains them when Redis is back.
"""

from __future__ import annotations

import logging

import redis
from django.conf import settings

from apps.core.breakers import guarded

logger = logging.getLogger(__name__)
FLAG = "events:drain:requested"
_client: redis.Redis | None = None


def _redis() -> redis.Redis:
    global _client
    if _client is None:
        _client = redis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=0.25, socket_timeout=0.5
        )
    return _client


def _send() -> bool:
    from .tasks import drain

    if _redis().set(FLAG, "1", nx=True, ex=settings.EVENTS["WAKEUP_COALESCE_SECONDS"]):
        drain.apply_async(retry=False)
        return True
    return False


def request_drain() -> bool:
    """Ask for a drain soon. Never raises: the beat sweep is the safety net."""
    return guarded("redis", _send, fallback=False)


HELPER_FLAG = "events:drain:helper"


def _send_helper() -> bool:
    from .tasks import drain

    if _redis().set(HELPER_FLAG, "1", nx=True, ex=settings.EVENTS["WAKEUP_COALESCE_SECONDS"]):
        drain.apply_async(retry=False)
        return True
    return False


def request_helper() -> bool:
    """Ask one more worker process to join a drain that found a backlog (at most one per window)."""
    return guarded("redis", _send_helper, fallback=False)


def clear() -> None:
    guarded("redis", _redis().delete, FLAG, fallback=None)
