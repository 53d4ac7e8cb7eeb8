"""The relay: claim pending events, run their subscribers per tenant, acknowledge.

Claims are serialized by an advisory lock. A claim walks the pending events in
position order (the ``outbox_pending_idx`` index, whatever the planner's
statistics say) and takes a row only when no older event of the same aggregate
is leased to a live claimer, so every subscriber sees one aggregate's events in
order, even with many workers. Each subscriber's effect commits with its
processed-event marker in the tenant schema, so a redelivered event has no
second effect. The acknowledgement is fenced on the lease: a worker that lost
its lease changes nothing.

A lease names its claimer's session-level advisory lock. A claimer whose
database session is gone (a killed worker) holds no lock any more, and the
next claim takes its rows at once; the lease's expiry is the fallback for a
claimer that is alive but stuck. A drain asked to stop (SIGTERM, a worker's
warm shutdown) finishes its batch and lets go of everything it holds.

A subscriber that fails on an event gets a ``Delivery`` row (retry with
backoff, then dead letter); later events of the same aggregate wait behind it
for that subscriber only.
"""

from __future__ import annotations

import contextlib
import logging
import mmap
import os
import random
import signal
import socket
import threading
import time
import traceback
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.core import context, error_policy
from apps.core.context import Actor, EventContext
from apps.core.error_policy import Action, ErrorPolicy
from apps.tenancy.resolver import tenant_by_schema

from . import metrics, tracing
from .envelope import ENVELOPE_COLUMNS, StoredEvent
from .errors import UnknownEventType
from .models import Delivery, DeliveryStatus
from .registry import Subscriber, subscriber, subscribers_for

logger = logging.getLogger(__name__)

CLAIM_LOCK = 0x6F7574626F78  # advisory lock serializing claims ("outbox")
# Two-key advisory locks (this class, a random key) mark a live claimer: a drain
# holds its key for as long as it runs, and its leases carry the key.
CLAIMER_LOCK_CLASS = 0x6F62

_COLUMNS = ", ".join(f"e.{name}" for name in ENVELOPE_COLUMNS)

# A claim's statements have one good plan each: walk ``outbox_pending_idx`` in
# order and stop at the window; update the chosen rows through the primary key.
# The planner finds them only while the statistics are fresh: after a burst into
# a quiet outbox (statistics that say it is empty or tiny) it estimates a handful
# of pending rows and picks a bitmap scan and a sort of every pending row, or a
# full scan of another partial index, per claim. For the claim's transaction
# only, the alternatives are ruled out, so the plan is the same whatever the
# statistics say (tests/events/test_claims.py checks it right after a burst).
CLAIM_PLAN_SETTINGS = """
       set_config('enable_seqscan', 'off', true),
       set_config('enable_bitmapscan', 'off', true),
       set_config('enable_sort', 'off', true)
"""
PIN_CLAIM_PLAN_SQL = f"SELECT {CLAIM_PLAN_SETTINGS}"
# A claim's first round trip: the claim lock, then the plan's settings.
START_CLAIM_SQL = f"SELECT pg_advisory_xact_lock(%s), {CLAIM_PLAN_SETTINGS}"

# The pending events in position order from ``after`` on.
PENDING_SCAN_SQL = """
SELECT position, tenant_id, aggregate_type, aggregate_id, lease_lock,
       lease_expires_at >= now() AS leased
FROM public.events_outbox
WHERE status = 'pending' AND position > %(after)s
ORDER BY position
LIMIT %(window)s
"""

CLAIM_EVENTS_SQL = f"""
UPDATE public.events_outbox e
SET lease_owner = %(owner)s,
    lease_lock = %(lock)s,
    lease_expires_at = now() + make_interval(secs => %(lease)s),
    claims = e.claims + 1
WHERE e.position = ANY(%(positions)s)
  AND e.position BETWEEN %(first)s AND %(last)s
  -- "still pending", said without naming the status: a condition on status would let
  -- the planner pick a partial index whose statistics a burst has made stale.
  AND e.dispatched_at IS NULL
RETURNING {_COLUMNS}
"""

# Which of these claimer keys no session holds any more. Taking the lock (for this
# transaction only) succeeds exactly when its holder is gone.
DEAD_CLAIMERS_SQL = """
SELECT k FROM unnest(%(keys)s::int[]) AS k
WHERE pg_try_advisory_xact_lock(%(lock_class)s, k)
"""

RELEASE_EVENTS_SQL = """
UPDATE public.events_outbox
SET lease_owner = '', lease_lock = NULL, lease_expires_at = NULL
WHERE position = ANY(%(positions)s) AND lease_owner = %(owner)s AND status = 'pending'
"""

ACK_EVENTS_SQL = """
UPDATE public.events_outbox
SET status = 'dispatched', dispatched_at = now(), lease_owner = '', lease_lock = NULL,
    lease_expires_at = NULL
WHERE position = ANY(%(positions)s) AND lease_owner = %(owner)s
RETURNING position
"""

HOLDS_SQL = """
SELECT DISTINCT handler, tenant_id, aggregate_type, aggregate_id
FROM public.events_delivery
WHERE (tenant_id, aggregate_type, aggregate_id) IN (SELECT * FROM unnest(%s::bigint[], %s::text[], %s::text[]))
"""

CLAIM_DELIVERIES_SQL = """
WITH candidates AS (
    SELECT d.id
    FROM public.events_delivery d
    WHERE d.status = 'retry'
      AND d.available_at <= now()
      AND (d.lease_expires_at IS NULL OR d.lease_expires_at < now())
      AND NOT EXISTS (
          SELECT 1 FROM public.events_delivery p
          WHERE p.handler = d.handler
            AND p.tenant_id = d.tenant_id
            AND p.aggregate_type = d.aggregate_type
            AND p.aggregate_id = d.aggregate_id
            AND p.position < d.position
      )
    ORDER BY d.position
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
)
UPDATE public.events_delivery d
SET lease_owner = %(owner)s,
    lease_lock = %(lock)s,
    lease_expires_at = now() + make_interval(secs => %(lease)s),
    attempts = d.attempts + 1,
    updated_at = now()
FROM candidates c
WHERE d.id = c.id
RETURNING d.id, d.handler, d.attempts, d.event_id
"""

LEASED_DELIVERY_CLAIMERS_SQL = """
SELECT DISTINCT lease_lock FROM public.events_delivery
WHERE status = 'retry' AND lease_lock IS NOT NULL AND lease_expires_at >= now()
"""

RELEASE_DELIVERIES_SQL = """
UPDATE public.events_delivery
SET lease_owner = '', lease_lock = NULL, lease_expires_at = NULL
WHERE status = 'retry' AND lease_lock = ANY(%(keys)s)
"""

# The next held-back delivery of a chain (subscriber and aggregate) becomes due now,
# unless a delivery of an earlier event of that chain still holds it back.
PROMOTE_NEXT_SQL = """
UPDATE public.events_delivery
SET status = 'retry', available_at = now(), attempts = 0, updated_at = now()
WHERE id = (
    SELECT id FROM public.events_delivery
    WHERE handler = %(handler)s AND tenant_id = %(tenant_id)s
      AND aggregate_type = %(aggregate_type)s AND aggregate_id = %(aggregate_id)s
      AND status = 'blocked'
    ORDER BY position
    LIMIT 1
)
AND NOT EXISTS (
    SELECT 1 FROM public.events_delivery
    WHERE handler = %(handler)s AND tenant_id = %(tenant_id)s
      AND aggregate_type = %(aggregate_type)s AND aggregate_id = %(aggregate_id)s
      AND position < %(position)s
)
"""


def policy() -> ErrorPolicy:
    return error_policy.policy("relay")


def new_owner() -> str:
    return f"{socket.gethostname()[:24]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


# -- claimers' liveness ----------------------------------------------------------


def hold_claimer_lock() -> int:
    """Take a fresh session-level claimer lock on this connection; returns its key."""
    with connection.cursor() as cursor:
        while True:
            key = random.randint(1, 2**31 - 1)
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [CLAIMER_LOCK_CLASS, key])
            if cursor.fetchone()[0]:
                return key


def release_claimer_lock(key: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [CLAIMER_LOCK_CLASS, key])


def _dead_claimers(cursor, keys: set[int]) -> set[int]:
    if not keys:
        return set()
    cursor.execute(DEAD_CLAIMERS_SQL, {"keys": sorted(keys), "lock_class": CLAIMER_LOCK_CLASS})
    return {row[0] for row in cursor.fetchall()}


# -- stopping -------------------------------------------------------------------

# One byte shared by a Celery worker's main process and the pool processes it
# forks (the mapping is made at import, before the fork): the main process sets
# it on a warm shutdown and every drain in the pool stops after its batch.
_STOP = mmap.mmap(-1, 1)


def request_stop() -> None:
    """Ask every drain of this process (and of a worker's pool) to stop after its batch."""
    _STOP[0] = 1


def stop_requested() -> bool:
    return _STOP[0] == 1


def clear_stop() -> None:
    _STOP[0] = 0


class _StopOnSigterm:
    """While a drain runs in a main thread, SIGTERM asks it to stop after its batch.

    Once the drain has let go of its leases, the signal gets the handling it had
    before (a process that SIGTERM would have ended ends then).
    """

    def __enter__(self):
        self.previous = None
        self.received = False
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGTERM, self._on_sigterm)
        return self

    def _on_sigterm(self, signum, frame) -> None:
        self.received = True
        request_stop()

    def __exit__(self, *exc) -> None:
        if self.previous is None:
            return
        signal.signal(signal.SIGTERM, self.previous)
        if not self.received:
            return
        logger.warning("SIGTERM: the drain stopped after its batch and released its leases")
        if self.previous is signal.SIG_DFL:
            os.kill(os.getpid(), signal.SIGTERM)
        elif callable(self.previous):
            self.previous(signal.SIGTERM, None)


# -- results ------------------------------------------------------------------


@dataclass
class Failure:
    """A subscriber that did not handle an event, to be recorded as a ``Delivery``."""

    event: StoredEvent
    handler: str
    status: str
    attempts: int = 0
    delay: float = 0.0
    error: str = ""
    trace: str = ""

    def as_delivery(self, now) -> Delivery:
        return Delivery(
            event_id=self.event.position,
            handler=self.handler,
            tenant_id=self.event.tenant_id,
            aggregate_type=self.event.aggregate_type,
            aggregate_id=self.event.aggregate_id,
            position=self.event.position,
            status=self.status,
            attempts=self.attempts,
            available_at=now + timedelta(seconds=self.delay),
            last_error=self.error[:2000],
            last_traceback=self.trace[:20000],
        )


@dataclass
class DrainStats:
    claimed: int = 0
    handled: int = 0
    failed: int = 0
    dead: int = 0
    blocked: int = 0
    retried: int = 0
    lost_leases: int = 0
    reclaimed: int = 0
    scanned: int = 0
    batches: int = 0
    more: bool = False
    seconds: float = 0.0
    by_tenant: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, other: DrainStats) -> None:
        for name in (
            "claimed",
            "handled",
            "failed",
            "dead",
            "blocked",
            "retried",
            "lost_leases",
            "reclaimed",
            "scanned",
            "batches",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for tenant, count in other.by_tenant.items():
            self.by_tenant[tenant] += count


# -- running subscribers ------------------------------------------------------


# The ledger: one row per event in its tenant, with the names of the handlers that applied it.
# A batch's rows go in one statement, each event with a key to its subscribers' names (the
# events of one type in one tenant share them), joined in SQL.
_NAMED_SQL = """
SELECT e.event_id, s.handlers
FROM unnest(%(event_ids)s::uuid[], %(set_keys)s::int[]) AS e(event_id, set_key)
JOIN (
    SELECT set_key, array_agg(handler ORDER BY ord)::varchar(120)[] AS handlers
    FROM unnest(%(keys)s::int[], %(handlers)s::text[]) WITH ORDINALITY AS s(set_key, handler, ord)
    GROUP BY set_key
) s USING (set_key)
"""
MARK_PROCESSED_SQL = f"""
INSERT INTO events_processed (event_id, handlers, processed_at)
SELECT event_id, handlers, now() FROM ({_NAMED_SQL}) n
ON CONFLICT (event_id) DO NOTHING
RETURNING event_id
"""
# Events that had a row already (a redelivery, or the pairs of a batch retried one by one):
# their rows, locked, then the names not in them yet added.
LEDGER_ROWS_SQL = """
SELECT event_id, handlers FROM events_processed WHERE event_id = ANY(%s::uuid[]) FOR UPDATE
"""
ADD_HANDLERS_SQL = f"""
UPDATE events_processed p SET handlers = p.handlers || n.handlers
FROM ({_NAMED_SQL}) n
WHERE p.event_id = n.event_id
"""


class _AllPairs:
    """Every pair asked about: what the ledger gives back when all of a batch's events were new
    to it (a first delivery, the usual case), without reading anything back."""

    def __contains__(self, pair: object) -> bool:
        return True


ALL_NEW = _AllPairs()


def _named(names_by_event: dict[uuid.UUID, list[str]]) -> dict[str, list]:
    """The parameters of ``_NAMED_SQL``: each event once, with the key of its list of names."""
    sets: dict[tuple[str, ...], int] = {}
    set_keys = [sets.setdefault(tuple(names), len(sets)) for names in names_by_event.values()]
    return {
        "event_ids": list(names_by_event),
        "set_keys": set_keys,
        "keys": [key for names, key in sets.items() for _ in names],
        "handlers": [name for names in sets for name in names],
    }


def _mark_processed(
    work: list[tuple[StoredEvent, Subscriber]],
) -> set[tuple[str, uuid.UUID]] | _AllPairs:
    """Write in the ledger that each (event, subscriber) of ``work`` is processed; return the
    pairs (handler name, event id) that were not before: ``ALL_NEW`` when none of the events
    had a row (one statement), an empty set when every pair was there."""
    if not work:
        return set()
    wanted: dict[uuid.UUID, dict[str, None]] = {}
    for event, sub in work:
        wanted.setdefault(event.event_id, {})[sub.name] = None
    with connection.cursor() as cursor:
        cursor.execute(MARK_PROCESSED_SQL, _named({e: list(n) for e, n in wanted.items()}))
        if cursor.rowcount == len(wanted):
            return ALL_NEW
        inserted = {row[0] for row in cursor.fetchall()}
        fresh = {(name, event_id) for event_id in inserted for name in wanted[event_id]}
        cursor.execute(LEDGER_ROWS_SQL, [[e for e in wanted if e not in inserted]])
        missing = {
            event_id: names
            for event_id, handlers in cursor.fetchall()
            if (names := [name for name in wanted[event_id] if name not in handlers])
        }
        if missing:
            cursor.execute(ADD_HANDLERS_SQL, _named(missing))
            fresh.update((name, event_id) for event_id, names in missing.items() for name in names)
        return fresh


def _handler_context(event: StoredEvent) -> EventContext:
    actor = event.actor
    return EventContext(
        correlation_id=event.correlation_id,
        causation_id=str(event.event_id),
        traceparent=context.child_traceparent((event.trace_context or {}).get("traceparent")),
        actor=Actor.from_dict(actor) if actor else None,
    )


def _run(sub: Subscriber, event: StoredEvent, attempt: int = 1) -> None:
    with (
        context.use(_handler_context(event)),
        tracing.handler_span(sub.name, event, attempt=attempt),
    ):
        sub.func(event)


def _run_batch(sub: Subscriber, events: list[StoredEvent]) -> None:
    """One call of the subscriber's batch function for its events (one tenant, position
    order), in the context of the last: what the batch leaves is that event's state."""
    with context.use(_handler_context(events[-1])), tracing.batch_span(sub.name, events):
        sub.batch(events)


def _run_all(
    work: list[tuple[StoredEvent, Subscriber]], fresh: set[tuple[str, uuid.UUID]] | _AllPairs
) -> None:
    """Run the fresh (not yet processed) pairs of ``work``: subscribers with a batch function
    once for all their events, after the others, which run event by event in order."""
    batches: dict[str, tuple[Subscriber, list[StoredEvent]]] = {}
    batched = settings.EVENTS["BATCH_HANDLERS"]
    for event, sub in work:
        if (sub.name, event.event_id) not in fresh:
            continue
        if sub.batch is None or not batched:
            _run(sub, event)
        else:
            batches.setdefault(sub.name, (sub, []))[1].append(event)
    for sub, events in batches.values():
        if len(events) == 1:
            _run(sub, events[0])
        else:
            _run_batch(sub, events)


def _observe_success(sub: Subscriber, event: StoredEvent) -> None:
    metrics.DISPATCHED.labels(event.event_type, sub.name).inc()
    metrics.DISPATCH_LATENCY.observe(max(0.0, (timezone.now() - event.occurred_at).total_seconds()))


def _observe_successes(work: list[tuple[StoredEvent, Subscriber]]) -> None:
    """``_observe_success`` for a batch: one counter step per event type and subscriber."""
    counts: dict[tuple[str, str], int] = defaultdict(int)
    now = timezone.now()
    for event, sub in work:
        counts[(event.event_type, sub.name)] += 1
        metrics.DISPATCH_LATENCY.observe(max(0.0, (now - event.occurred_at).total_seconds()))
    for (event_type, name), count in counts.items():
        metrics.DISPATCHED.labels(event_type, name).inc(count)


def _failure(event: StoredEvent, sub: Subscriber, error: BaseException, attempts: int) -> Failure:
    decision = policy().decide(error, attempts)
    metrics.HANDLER_FAILURES.labels(sub.name).inc()
    status = DeliveryStatus.DEAD if decision.action is Action.FAIL else DeliveryStatus.RETRY
    if status == DeliveryStatus.DEAD:
        metrics.DEAD_LETTERS.labels(sub.name).inc()
    logger.warning(
        "handler %s failed on %s #%s (attempt %s): %s -> %s",
        sub.name, event.event_type, event.position, attempts, error, status,
    )  # fmt: skip
    return Failure(
        event, sub.name, status, attempts=attempts, delay=decision.delay,
        error=f"{type(error).__name__}: {error}", trace="".join(traceback.format_exception(error)),
    )  # fmt: skip


def _run_group(
    events: list[StoredEvent], holds: set[tuple], stats: DrainStats
) -> tuple[list[Failure], bool]:
    """Run every subscriber of ``events`` (one tenant, position order) in the active schema.

    First optimistically in one transaction, a subscriber with a batch function
    called once for all its events (each still has its name written in the ledger); if any
    subscriber raises, again event by event through ``func`` with a savepoint
    each, recording failures and the events held back behind them.
    """
    work = [(event, sub) for event in events for sub in subscribers_for(event.event_type)]
    if any(sub.module for _, sub in work):
        # A module the tenant turned off: its subscribers skip the tenant's events.
        tenant = tenant_by_schema(events[0].schema_name)
        if tenant is not None and tenant.disabled_modules:
            work = [(e, sub) for e, sub in work if tenant.module_on(sub.module)]
    if not work:
        return [], True
    if not any((sub.name, *event.aggregate_key) in holds for event, sub in work):
        try:
            with transaction.atomic():
                fresh = _mark_processed(work)
                _run_all(work, fresh)
            _observe_successes(work)
            return [], True
        except Exception as error:
            logger.info(
                "a handler failed in a batch of %s (%s: %s); retrying one by one",
                len(events), type(error).__name__, error,
            )  # fmt: skip
    failures: list[Failure] = []
    for event, sub in work:
        key = (sub.name, *event.aggregate_key)
        if key in holds:
            failures.append(Failure(event, sub.name, DeliveryStatus.BLOCKED))
            stats.blocked += 1
            continue
        try:
            with transaction.atomic():
                if _mark_processed([(event, sub)]):
                    _run(sub, event)
            _observe_success(sub, event)
        except Exception as error:
            failure = _failure(event, sub, error, attempts=1)
            failures.append(failure)
            holds.add(key)
            stats.failed += 1
            stats.dead += failure.status == DeliveryStatus.DEAD
    return failures, False


def _load_holds(events: list[StoredEvent]) -> set[tuple]:
    keys = {event.aggregate_key for event in events}
    if not keys:
        return set()
    tenants, types, ids = zip(*keys, strict=True)
    with connection.cursor() as cursor:
        cursor.execute(HOLDS_SQL, [list(tenants), list(types), list(ids)])
        return {tuple(row) for row in cursor.fetchall()}


def _by_schema(events: Iterable[StoredEvent]) -> dict[str, list[StoredEvent]]:
    groups: dict[str, list[StoredEvent]] = defaultdict(list)
    for event in events:
        groups[event.schema_name].append(event)
    return groups


# -- one batch ----------------------------------------------------------------


def _dictfetchall(cursor) -> list[dict]:
    names = [column.name for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


@dataclass
class Claim:
    events: list[StoredEvent]
    positions: list[int] = field(default_factory=list)
    scanned: int = 0  # pending rows read to find them
    reclaimed: int = 0  # of them, taken over from a claimer that is gone


def _pick(cursor, *, limit: int, lock: int | None) -> Claim:
    """Positions of up to ``limit`` claimable events (as a ``Claim`` without events yet).

    An event is claimable when no older pending event of its aggregate is leased
    to a live claimer: walking in position order, an aggregate is closed from its
    first such lease on. A lease whose claimer's lock is free belongs to a dead
    claimer and counts as none: its event is taken over at once.
    """
    window = limit + 100
    max_scan = max(20 * limit, 5000)
    claim = Claim([])
    closed: set[tuple] = set()
    alive: dict[int, bool] = {}
    after = 0
    while len(claim.positions) < limit and claim.scanned < max_scan:
        cursor.execute(PENDING_SCAN_SQL, {"after": after, "window": window})
        rows = cursor.fetchall()
        claim.scanned += len(rows)
        unknown = {r[4] for r in rows if r[5] and r[4] not in (None, lock)} - alive.keys()
        if unknown:
            dead = _dead_claimers(cursor, unknown)
            alive.update({key: key not in dead for key in unknown})
        for position, tenant_id, aggregate_type, aggregate_id, lease_lock, leased in rows:
            key = (tenant_id, aggregate_type, aggregate_id)
            held = leased and (lease_lock is None or lease_lock == lock or alive[lease_lock])
            if held or key in closed:
                closed.add(key)
                continue
            claim.positions.append(position)
            claim.reclaimed += bool(leased)
            if len(claim.positions) == limit:
                break
        if len(rows) < window:
            break
        after = rows[-1][0]
    return claim


def claim_events(
    owner: str, *, limit: int, lease_seconds: float, lock: int | None = None
) -> list[StoredEvent]:
    """Lease up to ``limit`` claimable events to ``owner`` (and its claimer ``lock``)."""
    return claim_batch(owner, limit=limit, lease_seconds=lease_seconds, lock=lock).events


def claim_batch(owner: str, *, limit: int, lease_seconds: float, lock: int | None) -> Claim:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(START_CLAIM_SQL, [CLAIM_LOCK])
        claim = _pick(cursor, limit=limit, lock=lock)
        if not claim.positions:
            return claim
        params = {"positions": claim.positions, "owner": owner, "lock": lock}
        params.update(first=claim.positions[0], last=claim.positions[-1], lease=lease_seconds)
        cursor.execute(CLAIM_EVENTS_SQL, params)
        rows = _dictfetchall(cursor)
    rows.sort(key=lambda row: row["position"])
    claim.events = [StoredEvent.from_row(row) for row in rows]
    if claim.reclaimed:
        logger.warning("took over %s events leased to a relay that is gone", claim.reclaimed)
    return claim


def release_events(events: list[StoredEvent], owner: str) -> None:
    """Give back leases this owner holds, so that any claimer can take the events at once."""
    with connection.cursor() as cursor:
        cursor.execute(
            RELEASE_EVENTS_SQL, {"positions": [e.position for e in events], "owner": owner}
        )


def _ack(events: list[StoredEvent], owner: str, failures: list[Failure]) -> set[int]:
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(ACK_EVENTS_SQL, {"positions": [e.position for e in events], "owner": owner})
        acked = {row[0] for row in cursor.fetchall()}
        kept = [f.as_delivery(now) for f in failures if f.event.position in acked]
        if kept:
            Delivery.objects.bulk_create(kept, ignore_conflicts=True)
    return acked


def relay_batch(
    owner: str | None = None, *, limit: int | None = None, lock: int | None = None
) -> DrainStats:
    """Claim one batch of pending events, run their subscribers and acknowledge them."""
    config = settings.EVENTS
    owner = owner or new_owner()
    stats = DrainStats()
    claim = claim_batch(
        owner, limit=limit or config["BATCH_SIZE"], lease_seconds=config["LEASE_SECONDS"],
        lock=lock,
    )  # fmt: skip
    stats.scanned, stats.reclaimed = claim.scanned, claim.reclaimed
    events = claim.events
    if not events:
        return stats
    stats.batches = 1
    stats.claimed = len(events)
    try:
        holds = _load_holds(events)
        failures: list[Failure] = []
        for schema_name, group in _by_schema(events).items():
            with schema_context(schema_name):
                group_failures, _ = _run_group(group, holds, stats)
            failures.extend(group_failures)
            stats.by_tenant[schema_name] += len(group)
    except BaseException:
        # Whatever stopped this batch, its events need not wait for the lease to expire.
        with contextlib.suppress(Exception):
            release_events(events, owner)
        raise
    acked = _ack(events, owner, failures)
    stats.lost_leases = len(events) - len(acked)
    if stats.lost_leases:
        logger.warning(
            "lost the lease on %s events; another worker will redo them", stats.lost_leases
        )
    stats.handled = len(acked)
    return stats


# -- retries of failed deliveries --------------------------------------------


def claim_deliveries(
    owner: str, *, limit: int, lease_seconds: float, lock: int | None = None
) -> list[tuple[int, str, int, int]]:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(LEASED_DELIVERY_CLAIMERS_SQL)
        dead = _dead_claimers(cursor, {row[0] for row in cursor.fetchall()} - {lock})
        if dead:
            cursor.execute(RELEASE_DELIVERIES_SQL, {"keys": sorted(dead)})
            logger.warning("took over %s retries leased to a relay that is gone", cursor.rowcount)
        cursor.execute(
            CLAIM_DELIVERIES_SQL,
            {"limit": limit, "owner": owner, "lock": lock, "lease": lease_seconds},
        )
        return cursor.fetchall()


def _load_events(positions: list[int]) -> dict[int, StoredEvent]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(ENVELOPE_COLUMNS)} FROM public.events_outbox WHERE position = ANY(%s)",
            [positions],
        )
        return {row["position"]: StoredEvent.from_row(row) for row in _dictfetchall(cursor)}


def retry_batch(
    owner: str | None = None, *, limit: int | None = None, lock: int | None = None
) -> DrainStats:
    """Run due retries of failed deliveries, oldest event first per subscriber and aggregate."""
    config = settings.EVENTS
    owner = owner or new_owner()
    stats = DrainStats()
    claimed = claim_deliveries(
        owner, limit=limit or config["BATCH_SIZE"], lease_seconds=config["LEASE_SECONDS"],
        lock=lock,
    )  # fmt: skip
    if not claimed:
        return stats
    stats.batches = 1
    events = _load_events([position for _, _, _, position in claimed])
    outcomes: list[tuple[int, Subscriber | None, StoredEvent, BaseException | None, int]] = []
    for delivery_id, handler_name, attempts, position in claimed:
        event = events[position]
        sub = subscriber(handler_name)
        error: BaseException | None = None
        with schema_context(event.schema_name):
            try:
                if sub is None:
                    raise UnknownEventType(f"no subscriber named '{handler_name}' any more")
                with transaction.atomic():
                    if _mark_processed([(event, sub)]):
                        _run(sub, event, attempts)
            except Exception as exc:
                error = exc
        outcomes.append((delivery_id, sub, event, error, attempts))
    _settle(outcomes, owner, stats)
    return stats


def promote_next(
    cursor, *, handler: str, aggregate_key: tuple[int, str, str], position: int
) -> None:
    """After the delivery at ``position`` of a chain is gone, let the chain's next one run."""
    tenant_id, aggregate_type, aggregate_id = aggregate_key
    cursor.execute(
        PROMOTE_NEXT_SQL,
        {
            "handler": handler,
            "tenant_id": tenant_id,
            "aggregate_type": aggregate_type,
            "aggregate_id": aggregate_id,
            "position": position,
        },
    )


def _settle(outcomes, owner: str, stats: DrainStats) -> None:
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        for delivery_id, sub, event, error, attempts in outcomes:
            if error is None:
                cursor.execute(
                    "DELETE FROM public.events_delivery WHERE id = %s AND lease_owner = %s RETURNING handler",
                    [delivery_id, owner],
                )
                row = cursor.fetchone()
                if row is None:
                    stats.lost_leases += 1
                    continue
                promote_next(
                    cursor, handler=row[0], aggregate_key=event.aggregate_key,
                    position=event.position,
                )  # fmt: skip
                _observe_success(sub, event)
                stats.retried += 1
                continue
            name = sub.name if sub else "?"
            failure = (
                _failure(event, sub, error, attempts)
                if sub
                else Failure(event, name, DeliveryStatus.DEAD, attempts, error=str(error))
            )
            cursor.execute(
                """
                UPDATE public.events_delivery
                SET status = %s, available_at = %s, last_error = %s, last_traceback = %s,
                    lease_owner = '', lease_expires_at = NULL, updated_at = now()
                WHERE id = %s AND lease_owner = %s
                """,
                [
                    failure.status, now + timedelta(seconds=failure.delay), failure.error[:2000],
                    failure.trace[:20000], delivery_id, owner,
                ],
            )  # fmt: skip
            stats.failed += 1
            stats.dead += failure.status == DeliveryStatus.DEAD


# -- draining -------------------------------------------------------------------


def next_claim_size(size: int, batch: DrainStats, seconds: float) -> int:
    """The size of the claim after ``batch``, which asked for ``size`` events and took
    ``seconds`` to handle them.

    A batch that came back full and had nothing fail, held back or lost doubles the next
    claim, up to ``MAX_BATCH_SIZE``, as long as the doubled claim, at this batch's pace,
    would be handled within a quarter of the lease. A backlog then drains in large claims
    (the fixed cost of a batch and of each tenant group is paid less often, and each
    aggregate is read again once for more of its events). Anything else falls back to
    ``BATCH_SIZE``: steady traffic, a failing handler (the one-by-one fallback is dearer on a
    large batch) or a batch that itself took more than a quarter of the lease.
    """
    config = settings.EVENTS
    base = config["BATCH_SIZE"]
    budget = config["LEASE_SECONDS"] / 4
    clean = not (batch.failed or batch.blocked or batch.lost_leases)
    if batch.claimed < size or not clean or seconds > budget:
        return base
    grown = min(size * 2, max(base, config["MAX_BATCH_SIZE"]))
    return grown if seconds / batch.claimed * grown <= budget else size


def drain(
    *,
    time_budget: float | None = None,
    max_batches: int | None = None,
    on_backlog: Callable[[], object] | None = None,
    on_batch: Callable[[DrainStats], object] | None = None,
) -> DrainStats:
    """Relay pending events and due retries until none are left or the budget is spent.

    ``on_backlog`` is called once, when the first batch comes back full: a backlog
    that another worker process could help with. ``on_batch`` gets the running
    totals after every batch (progress for commands). A stop request (SIGTERM, a
    worker's warm shutdown) ends the drain after its batch, with ``more`` set.
    Claims grow while a backlog lasts (``next_claim_size``).
    """
    if connection.in_atomic_block:
        raise RuntimeError(
            "drain() must not run inside a transaction: each batch commits on its own"
        )
    started = time.monotonic()
    owner = new_owner()
    total = DrainStats()
    with schema_context("public"), _StopOnSigterm():
        lock = hold_claimer_lock()
        size = settings.EVENTS["BATCH_SIZE"]
        try:
            while not stop_requested():
                batch_started = time.monotonic()
                batch = relay_batch(owner, limit=size, lock=lock)
                size = next_claim_size(size, batch, time.monotonic() - batch_started)
                # Retries are looked for when the drain starts and once the outbox is empty,
                # not after every batch: in steady state that claim almost never finds work.
                first = total.batches == 0
                retries = (
                    retry_batch(owner, lock=lock) if first or not batch.claimed else DrainStats()
                )
                total.add(batch)
                total.add(retries)
                if on_batch is not None and (batch.batches or retries.batches):
                    on_batch(total)
                if on_backlog is not None and batch.claimed >= settings.EVENTS["BATCH_SIZE"]:
                    on_backlog()
                    on_backlog = None
                if not batch.claimed and not retries.batches:
                    break
                out_of_time = time_budget is not None and time.monotonic() - started > time_budget
                if out_of_time or (max_batches is not None and total.batches >= max_batches):
                    total.more = True
                    break
            else:
                total.more = True  # asked to stop: whatever is left is another drain's
        finally:
            with contextlib.suppress(Exception):
                release_claimer_lock(lock)
    total.seconds = time.monotonic() - started
    return total
