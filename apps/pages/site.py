"""The site snapshot: menus with resolved links, the home page and the latest posts, cached.

Every storefront page renders its header and footer from it, and the home page
its default listing, so a warm request spends no query on them. It is cached
in Redis under a generation that every change bumps: the pages services bump
it in their transaction (at once and again on commit), the pages handlers when
content changes. With Redis away it is built per request (a bounded number of
queries).
"""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from django.core.cache import cache
from django.db import transaction

from apps.core.breakers import REDIS, guarded

GENERATION_KEY = "pages:site:generation"
SITE_TTL_SECONDS = 600


def _data_key(generation: str) -> str:
    return f"pages:site:{generation}"


def generation() -> str:
    return guarded(REDIS, cache.get, GENERATION_KEY, fallback=None) or "0"


def cached(name: str, build, *, ttl: int = SITE_TTL_SECONDS) -> Any:
    """``build()`` cached under ``name`` for the current generation of the site."""
    key = f"{_data_key(generation())}:{name}"
    value = guarded(REDIS, cache.get, key, fallback=None)
    if value is not None:
        return value
    value = build()
    guarded(REDIS, cache.set, key, value, ttl, fallback=None)
    return value


def _bump() -> None:
    guarded(REDIS, cache.set, GENERATION_KEY, uuid4().hex[:16], None, fallback=None)


def invalidate() -> None:
    """Make the next request rebuild what is cached: now, and again once the change commits.

    (Now, so that the writer's own next read sees it; on commit, so that a
    request that rebuilt from the old rows meanwhile is not served for long.)
    """
    _bump()
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(_bump)
