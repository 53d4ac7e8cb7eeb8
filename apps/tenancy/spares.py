"""Spare schemas: copies of the template made ahead of time, so that a new tenant waits
for a rename instead of a copy.

Copying the template builds every index of a tenant (about 330 B-tree builds, each
synced to disk by PostgreSQL): 80 ms on a quiet machine, seconds on a busy one.
``ALTER SCHEMA ... RENAME`` is a catalog update. The pool is refilled out of band
(beat's ``tenancy.refill_spares``, and a refill sent after each tenant that took
one), each copy in its own short transaction under the template's shared lock.

A spare is never a tenant's until it is renamed: it has no ``Tenant`` row, and its
name starts with "_" like the template's, so no slug can take it and nothing that
walks tenants (``migrate_schemas``, ``migrate_tenants``, the relay, beat jobs, the
admin) sees it. Everything inside refers to its own objects by OID (sequences in
column defaults, trigger functions, foreign keys, views), so a renamed spare is the
same schema as a clone made under the new name.

A spare records the digest of the tenant migrations it was copied with. One whose
digest is not the code's is stale: never used, dropped by the next refill, and every
spare goes when ``template_refresh`` rebuilds the template.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction

from . import locks, template
from .models import SpareSchema

logger = logging.getLogger(__name__)

SPARE_PREFIX = "_spare_"
# Held (for the session) by one refill at a time, so two refills never both top the pool
# up to its target.
_REFILL_LOCK_KEY = locks.SPARE_REFILL


@functools.cache
def current_state() -> str:
    """The digest of the code's tenant migrations: what a usable spare was copied with."""
    names = sorted(f"{app}.{name}" for app, name in template.expected_tenant_migrations())
    return hashlib.sha256("\n".join(names).encode()).hexdigest()


def pool_target() -> int:
    """How many spares to keep ready (``TENANT_SPARE_SCHEMAS``; 0 turns the pool off)."""
    return max(0, int(settings.TENANT_SPARE_SCHEMAS))


def spare_take(schema_name: str) -> bool:
    """Rename one current spare to ``schema_name``, in the caller's transaction; False when
    none is free. The caller holds the template's shared lock (``template_lock_shared``).

    ``SKIP LOCKED``: two tenants created at once take two different spares, and a spare
    a rolled-back creation had taken is free again with its row.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("a spare is taken inside the provisioning transaction")
    spare = (
        SpareSchema.objects.select_for_update(skip_locked=True)
        .filter(template_state=current_state())
        .order_by("pk")
        .first()
    )
    if spare is None:
        return False
    with connection.cursor() as cursor:
        cursor.execute(f'ALTER SCHEMA "{spare.name}" RENAME TO "{schema_name}"')
    spare.delete()
    return True


def _drop(spares: list[SpareSchema]) -> int:
    """Drop these spares (locked by the caller): schemas and rows."""
    with connection.cursor() as cursor:
        for spare in spares:
            cursor.execute(f'DROP SCHEMA IF EXISTS "{spare.name}" CASCADE')
    SpareSchema.objects.filter(pk__in=[spare.pk for spare in spares]).delete()
    return len(spares)


def spares_drop(*, stale_only: bool = False) -> int:
    """Drop every spare (or only the stale ones), in the caller's transaction; how many went.

    ``template_refresh`` drops them all when it rebuilds the template (they are copies of
    the one it replaces), and the stale ones when the template was migrated in place
    (``migrate_tenants``). Waits for a refill's transaction holding one.
    """
    spares = SpareSchema.objects.select_for_update().order_by("pk")
    if stale_only:
        spares = spares.exclude(template_state=current_state())
    return _drop(list(spares))


@dataclass
class RefillResult:
    created: int = 0
    dropped: int = 0
    ready: int = 0
    # Why the pool could not be filled ("" when it was): a template not current, a refill
    # already running elsewhere.
    skipped: str = ""
    names: list[str] = field(default_factory=list)


def spares_refill(
    target: int | None = None, *, on_progress: Callable[[int, int], None] | None = None
) -> RefillResult:
    """Drop stale spares (and any beyond ``target``), then copy the template into new ones
    until ``target`` current spares exist (default ``TENANT_SPARE_SCHEMAS``).

    Each copy is its own short transaction (a savepoint when called inside one, as tests
    do) under the template's shared lock: a refresh of the template waits for at most one
    copy, and tenants are created meanwhile. Nothing is copied from a template that is not
    current. ``on_progress(done, wanted)`` is called after each copy. One refill at a time:
    another one started meanwhile returns at once.
    """
    target = pool_target() if target is None else max(0, target)
    result = RefillResult()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [_REFILL_LOCK_KEY])
        if not cursor.fetchone()[0]:
            result.skipped = "another refill is running"
            return result
    try:
        result.dropped = _drop_unwanted(target)
        wanted = target - SpareSchema.objects.filter(template_state=current_state()).count()
        for done in range(1, wanted + 1):
            name = _copy_one()
            if name is None:
                result.skipped = f"the template schema is {template.template_status()}"
                break
            result.created += 1
            result.names.append(name)
            if on_progress:
                on_progress(done, wanted)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_REFILL_LOCK_KEY])
    result.ready = SpareSchema.objects.filter(template_state=current_state()).count()
    if result.created or result.dropped:
        logger.info(
            "spare schemas: %d copied, %d dropped, %d ready",
            result.created,
            result.dropped,
            result.ready,
        )
    return result


def _drop_unwanted(target: int) -> int:
    """Drop the stale spares and the newest current ones beyond ``target``, skipping any a
    creation holds; how many went."""
    with transaction.atomic():
        free = list(SpareSchema.objects.select_for_update(skip_locked=True).order_by("pk"))
        stale = [spare for spare in free if spare.template_state != current_state()]
        current = [spare for spare in free if spare.template_state == current_state()]
        return _drop(stale + current[target:])


def _copy_one() -> str | None:
    """Copy the template into a new spare, in a transaction of its own; its name, or None
    when the template is not current."""
    name = f"{SPARE_PREFIX}{secrets.token_hex(8)}"
    with transaction.atomic():
        template.template_lock_shared()
        if template.template_status() != "current":
            return None
        template.clone_template(name)
        SpareSchema.objects.create(name=name, template_state=current_state())
    return name


@dataclass(frozen=True)
class SpareInfo:
    name: str
    current: bool
    created_at: object


def spares_list() -> list[SpareInfo]:
    """The pool, oldest first, each spare with whether it is usable by this code."""
    state = current_state()
    return [
        SpareInfo(spare.name, spare.template_state == state, spare.created_at)
        for spare in SpareSchema.objects.order_by("pk")
    ]
