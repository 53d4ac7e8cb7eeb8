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
from django_tenants.utils import schema_context

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
        instead of the change going unseen until the values expire.

        Once per transaction and schema: the relay hands a tenant's whole batch to its
        handlers in one transaction, and one bump (now and on commit) serves every event of it.
        """
        connection = transaction.get_connection()
        bump = _CommitBump(self, connection.schema_name)
        if connection.in_atomic_block and any(
            func == bump for _sids, func, _robust in connection.run_on_commit
        ):
            return
        cache.set(self.generation_key, uuid4().hex[:16], None)
        transaction.on_commit(bump)

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


class _CommitBump:
    """A generation's bump after commit, equal to another of the same family and schema, so
    that a transaction queues it once (Django drops it with a rolled-back savepoint)."""

    def __init__(self, family: Generations, schema: str) -> None:
        self.family, self.schema = family, schema

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _CommitBump) and (other.family.prefix, other.schema) == (
            self.family.prefix,
            self.schema,
        )

    def __hash__(self) -> int:
        return hash((self.family.prefix, self.schema))

    def __call__(self) -> None:
        with schema_context(self.schema):  # the tenant whose values they are
            self.family._bump()


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
