"""Values cached in Redis under a generation that changes invalidate all at once.

A ``Generations`` names one family of cached values (``pages:site``, the product listing's
``index:product-listing``). ``cached(name, build)`` stores each value with the family's
generation it was built under; ``invalidate()`` draws a new generation, so every value of the
family is rebuilt on its next read. Keys carry the active tenant's schema (the cache's key
function), so each tenant has its own generations. With Redis away (its breaker open) nothing
is cached and every read builds its value. Reads are counted in ``cache_requests_total{cache=<prefix>}``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar
from uuid import uuid4

from django.core.cache import cache
from django.db import transaction

from .breakers import REDIS, guarded
from .metrics import cache_read

T = TypeVar("T")


class Generations:
    def __init__(self, prefix: str, ttl: int) -> None:
        self.prefix = prefix
        self.ttl = ttl
        self.generation_key = f"{prefix}:generation"

    def generation(self) -> str:
        return guarded(REDIS, cache.get, self.generation_key, fallback=None) or "0"

    def cached(self, name: str, build: Callable[[], T], *, ttl: int | None = None) -> T:
        """``build()`` cached under ``name`` for the current generation.

        The value is stored with the generation it was built under, and read together with
        the current one in one round trip: a value of an older generation is built again.
        """
        key = f"{self.prefix}:value:{name}"
        found = guarded(REDIS, cache.get_many, [self.generation_key, key], fallback={})
        generation = found.get(self.generation_key) or "0"
        stored = found.get(key)
        hit = isinstance(stored, tuple) and len(stored) == 2 and stored[0] == generation
        cache_read(self.prefix, hit=hit)
        if hit:
            return stored[1]
        value = build()
        guarded(REDIS, cache.set, key, (generation, value), ttl or self.ttl, fallback=None)
        return value

    def invalidate_or_raise(self) -> None:
        """As ``invalidate``, for an event handler: the first bump is not guarded, so that
        with Redis failing the handler's transaction fails and the relay runs it again,
        instead of the change going unseen until the values expire."""
        cache.set(self.generation_key, uuid4().hex[:16], None)
        transaction.on_commit(self._bump)

    def _bump(self) -> None:
        guarded(REDIS, cache.set, self.generation_key, uuid4().hex[:16], None, fallback=None)

    def invalidate(self) -> None:
        """Make the next read rebuild: now, and again once the change commits.

        (Now, so that the writer's own next read sees it; on commit, so that a read that
        rebuilt from the old rows meanwhile is not served for long.)
        """
        self._bump()
        if transaction.get_connection().in_atomic_block:
            transaction.on_commit(self._bump)


def current(families: list[Generations]) -> list[str] | None:
    """The current generation of each of ``families``, in one round trip; None when Redis
    cannot say (its breaker open or a call failed), so that the caller can tell a value
    cached under a guess from one cached under the truth."""
    keys = [family.generation_key for family in families]
    found = guarded(REDIS, cache.get_many, keys, fallback=None)
    if found is None:
        return None
    return [found.get(key) or "0" for key in keys]


__all__ = ["Generations", "current"]
