"""Circuit breakers around the platform's dependencies outside PostgreSQL.

A breaker opens after a few consecutive failures and stays open for a while:
callers fall back (local cache, database) at once instead of waiting on a
timeout for every request while Redis is away.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

import pybreaker

from .metrics import BREAKER_FAILURES

logger = logging.getLogger(__name__)

T = TypeVar("T")


class _LogListener(pybreaker.CircuitBreakerListener):
    def state_change(self, cb: pybreaker.CircuitBreaker, old_state, new_state) -> None:
        if old_state is not None and old_state.name == new_state.name:
            return
        logger.warning("circuit breaker %s: %s -> %s", cb.name, old_state.name, new_state.name)

    def failure(self, cb: pybreaker.CircuitBreaker, exc: BaseException) -> None:
        BREAKER_FAILURES.labels(cb.name).inc()


# One breaker per dependency, shared by every caller that talks to it.
REDIS = "redis"

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


def guarded(name: str, func: Callable[..., T], *args, fallback: T, **kwargs) -> T:
    """Call ``func`` through breaker ``name``; on any failure or an open breaker return ``fallback``."""
    try:
        return breaker(name).call(func, *args, **kwargs)
    except pybreaker.CircuitBreakerError:
        return fallback
    except Exception as exc:  # the dependency failed; the breaker has counted it
        logger.debug("%s call failed: %s", name, exc)
        return fallback
