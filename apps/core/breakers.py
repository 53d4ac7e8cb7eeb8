"""Circuit breakers around the platform's dependencies outside PostgreSQL.

A breaker opens after a few consecutive failures and stays open for a while:
callers fall back (local cache, database) at once instead of waiting on a
timeout for every request while Redis is away.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

import pybreaker
import redis

from . import kv
from .metrics import BREAKER_FAILURES

logger = logging.getLogger(__name__)

T = TypeVar("T")


class _LogListener(pybreaker.CircuitBreakerListener):
    def state_change(self, cb: pybreaker.CircuitBreaker, old_state, new_state) -> None:
        if old_state is not None and old_state.name == new_state.name:
            return
        logger.warning("circuit breaker %s: %s -> %s", cb.name, old_state.name, new_state.name)
        if cb.name != REDIS:  # Redis cannot record that Redis is away
            _shared.record(cb.name, opened=new_state.name == pybreaker.STATE_OPEN, until=_until(cb))

    def failure(self, cb: pybreaker.CircuitBreaker, exc: BaseException) -> None:
        BREAKER_FAILURES.labels(cb.name).inc()


# One breaker per dependency, shared by every caller that talks to it.
REDIS = "redis"
BROKER = "broker"  # Celery's broker (Redis too here, but its own connections and failures)

_breakers: dict[str, pybreaker.CircuitBreaker] = {}


def breaker(name: str, *, fail_max: int = 3, reset_timeout: float = 10) -> pybreaker.CircuitBreaker:
    """The process-wide breaker called ``name``, created on first use."""
    if name not in _breakers:
        _breakers[name] = pybreaker.CircuitBreaker(
            fail_max=fail_max,
            reset_timeout=reset_timeout,
            name=name,
            listeners=[_LogListener()],
        )
    return _breakers[name]


def all_breakers() -> dict[str, pybreaker.CircuitBreaker]:
    return dict(_breakers)


def _until(cb: pybreaker.CircuitBreaker) -> float:
    """When an open ``cb`` lets a trial call through (epoch seconds)."""
    opened_at = cb._state_storage.opened_at or datetime.now(UTC)
    return opened_at.timestamp() + cb.reset_timeout


def is_open(cb: pybreaker.CircuitBreaker) -> bool:
    """Open and still inside its reset timeout (pybreaker reports "open" until the next
    call even after the timeout; a module kept read-only by it would make no call)."""
    return cb.current_state == pybreaker.STATE_OPEN and time.time() < _until(cb)


class _SharedStates:
    """Open breakers told to every process through one Redis hash (name -> until).

    A breaker opened in a worker (a webhook receiver, the payment gateway) shows in the web
    processes' readiness and modes. Reads are cached for a second per process.
    """

    key = "platform:breakers:open"

    def __init__(self) -> None:
        self._cache: tuple[float, dict[str, float]] = (0.0, {})
        self._lock = threading.Lock()

    def client(self) -> redis.Redis:
        return kv.client()

    def record(self, name: str, *, opened: bool, until: float) -> None:
        def write() -> None:
            if opened:
                self.client().hset(self.key, name, until)
            else:
                self.client().hdel(self.key, name)

        guarded(REDIS, write, fallback=None)
        with self._lock:
            self._cache = (0.0, {})

    def read(self) -> dict[str, float]:
        now = time.monotonic()
        with self._lock:
            read_at, states = self._cache
        if now - read_at < 1.0:
            return states
        raw = guarded(REDIS, lambda: self.client().hgetall(self.key), fallback=None)
        states = {} if raw is None else {k.decode(): float(v) for k, v in raw.items()}
        with self._lock:
            self._cache = (now, states)
        return states

    def clear(self) -> None:
        guarded(REDIS, lambda: self.client().delete(self.key), fallback=None)
        with self._lock:
            self._cache = (0.0, {})


_shared = _SharedStates()


def open_breakers() -> set[str]:
    """Names of the breakers open now, in this process or (shared through Redis) in any."""
    opened = {name for name, cb in _breakers.items() if is_open(cb)}
    now = time.time()
    opened.update(name for name, until in _shared.read().items() if until > now)
    return opened


def report(name: str, *, opened: bool, until: float = 0.0) -> None:
    """Record that a guard kept outside pybreaker (a webhook endpoint's failures, counted in
    its tenant's rows) is open until ``until`` (epoch seconds), or closed again."""
    _shared.record(name, opened=opened, until=until)


def reset_all() -> None:
    """Close every breaker, here and in the shared record (tests, an operator's reset)."""
    for cb in _breakers.values():
        cb.close()
    _shared.clear()


def guarded(name: str, func: Callable[..., T], *args, fallback: T, **kwargs) -> T:
    """Call ``func`` through breaker ``name``; on any failure or an open breaker return ``fallback``."""
    try:
        return breaker(name).call(func, *args, **kwargs)
    except pybreaker.CircuitBreakerError:
        return fallback
    except Exception as exc:  # the dependency failed; the breaker has counted it
        logger.debug("%s call failed: %s", name, exc)
        return fallback
