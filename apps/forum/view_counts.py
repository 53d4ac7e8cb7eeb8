"""Topic page views, counted in Redis and added to the topics by beat, a minute at a time.

A page view must not write to PostgreSQL (a popular topic would serialize its readers on one
row lock): each view is one HINCRBY in the tenant's hash, and ``forum.flush_views`` adds the
counts to ``Topic.views_count`` for the tenants that had views, never looping over every
tenant. With Redis down a view goes uncounted (fail open); the page is served all the same.
"""

from __future__ import annotations

import logging
import uuid

import redis
from django.db import connection
from django_tenants.utils import schema_context

from apps.core import kv
from apps.core.breakers import REDIS, guarded
from apps.tenancy.selectors import tenant_list

from .services import topic_views_add

logger = logging.getLogger(__name__)

SCHEMAS = "forum:views:schemas"  # the schemas that have views to flush


def _redis() -> redis.Redis:
    return kv.client()


def _key(schema: str) -> str:
    return f"forum:views:{schema}"


def _record(schema: str, topic_id: int) -> bool:
    pipe = _redis().pipeline(transaction=False)
    pipe.hincrby(_key(schema), str(topic_id), 1)
    pipe.sadd(SCHEMAS, schema)
    pipe.execute()
    return True


def record_view(topic_id: int) -> bool:
    """Count one view of ``topic_id`` in the active tenant; whether it was counted."""
    return guarded(REDIS, _record, connection.schema_name, int(topic_id), fallback=False)


def _take(schema: str) -> dict[int, int]:
    """The schema's counts, taken atomically (views recorded meanwhile go to a new hash)."""
    client = _redis()
    client.srem(SCHEMAS, schema)
    taking = f"{_key(schema)}:taking:{uuid.uuid4().hex}"
    try:
        client.rename(_key(schema), taking)
    except redis.ResponseError:  # no such key: nothing recorded
        return {}
    counts = client.hgetall(taking)
    client.delete(taking)
    return {int(topic): int(views) for topic, views in counts.items()}


def _give_back(schema: str, counts: dict[int, int]) -> None:
    pipe = _redis().pipeline(transaction=False)
    for topic_id, views in counts.items():
        pipe.hincrby(_key(schema), str(topic_id), views)
    pipe.sadd(SCHEMAS, schema)
    pipe.execute()


def flush_views() -> int:
    """Add the recorded views to their topics, tenant by tenant; the number of topics updated.

    Only the tenants with recorded views are visited. Counts that could not be written
    (the database away) go back to Redis for the next flush.
    """
    client = _redis()
    schemas = {member.decode() for member in client.smembers(SCHEMAS)}
    if not schemas:
        return 0
    known = set(
        tenant_list(active_only=True)
        .filter(schema_name__in=schemas)
        .values_list("schema_name", flat=True)
    )
    updated = 0
    for schema in sorted(schemas):
        counts = _take(schema)
        if schema not in known or not counts:
            continue
        try:
            with schema_context(schema):
                updated += topic_views_add(counts=counts)
        except Exception:
            _give_back(schema, counts)
            raise
    return updated
