"""The tenant's event feed: its retained outbox rows in an order a poller can resume safely.

An integrator polls ``feed_page(after=<its last cursor>)`` and must never miss an event. The
outbox ``position`` alone cannot promise that: it comes from a sequence when the row is
inserted, and transactions commit in any order. A reader that served position 10 and moved its
cursor there would skip 9 when 9's transaction commits later. Serving only rows whose writing
transaction id lies below the reader's snapshot xmin, still ordered by position, is not enough
either: a transaction that took its id early (it wrote something else first) can insert
position 10 after a younger one inserted 9, and commit while 9's is still open; 10 is then
below xmin and served, and 9 comes too late.

So every row carries a feed clock, taken by its INSERT (``models.FEED_CLOCK_SQL``): the xmax of
that statement's snapshot (one past the newest transaction id completed when it ran), and never
less than the writing transaction's own id plus one. The feed's order is ``(feed_clock,
position)``, not the position's, and a read serves only rows with ``feed_clock <= xmin`` of its
own snapshot (the oldest transaction still running, anywhere on the server):

* Every such row is final. Its transaction id is below its clock, hence below xmin: the
  transaction has ended, so the row is visible now if it ever will be.
* Every row not yet written, or written by a transaction still open, has a greater clock. Its
  transaction's id is at least xmin, and its clock exceeds its id. So the rows a read serves
  form a prefix of the order that never changes again, and a cursor (the last row's clock and
  position) resumes exactly after what was read.
* An event written after another event's transaction committed comes after it: the later
  INSERT's snapshot xmax is past the earlier transaction, xmax never goes down, and an equal
  clock leaves the sequence's order. Writers serialised by a row lock (two changes of one
  aggregate) are therefore served in the order they committed. Events of transactions that
  ran at the same time have no order between them to keep; the feed's is fixed once served.

The price: an event shows up only once every transaction that was running when it committed
has ended, so a long transaction anywhere on the database server holds the feed back (not
other writes) for as long as it runs.

Pruning (``services.outbox_prune``) records per tenant the greatest feed place it deleted
(``FeedHorizon``). A cursor before it has missed events for good: ``FeedCursorExpired`` (410).
Reading always takes one query: the frontier, the horizon and the page together.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import connection
from django.utils.translation import gettext

from .errors import FeedCursorExpired, FeedQueryInvalid

MAX_LIMIT = 500
DEFAULT_LIMIT = 100
# Exact types (``commerce.product.created``) or prefixes (``commerce.*``, ``commerce.product.*``).
TYPE_RE = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*)?|\*")
MAX_TYPES = 50
CURSOR_RE = re.compile(r"(\d{1,18})\.(\d{1,18})")


@dataclass(frozen=True, order=True)
class FeedCursor:
    """A place in the feed: everything up to and including (clock, position) has been read."""

    clock: int
    position: int

    def __str__(self) -> str:
        return f"{self.clock}.{self.position}"

    @classmethod
    def parse(cls, raw: str) -> FeedCursor:
        match = CURSOR_RE.fullmatch(raw or "")
        if match is None:
            raise FeedQueryInvalid(
                gettext("The cursor is malformed: pass the next cursor of an earlier answer."),
                field="after",
            )
        return cls(int(match.group(1)), int(match.group(2)))


@dataclass(frozen=True)
class FeedEvent:
    position: int
    cursor: FeedCursor
    event_id: UUID
    event_type: str
    schema_version: int
    occurred_at: datetime
    aggregate_type: str
    aggregate_id: str
    aggregate_version: int | None
    correlation_id: str
    causation_id: UUID | None
    actor: dict[str, Any] | None
    payload: dict[str, Any]


@dataclass(frozen=True)
class FeedPage:
    events: list[FeedEvent]
    next: FeedCursor


def parse_types(raw: str | None) -> list[str]:
    """``a.b.c,d.*`` as a list of event types and prefixes; ``FeedQueryInvalid`` otherwise."""
    if not raw:
        return []
    types = [part.strip() for part in raw.split(",") if part.strip()]
    bad = [part for part in types if not TYPE_RE.fullmatch(part) or len(part) > 120]
    if bad or len(types) > MAX_TYPES:
        raise FeedQueryInvalid(
            gettext(
                "types takes up to %(count)s event types separated by commas, each exact "
                "(commerce.product.created) or a prefix ending in .* (commerce.*)."
            )
            % {"count": MAX_TYPES},
            field="types",
        )
    return types


def _type_filter(types: Sequence[str]) -> tuple[str, list[Any]]:
    if not types or "*" in types:
        return "", []
    exact = [t for t in types if not t.endswith(".*")]
    prefixes = [t[:-1] for t in types if t.endswith(".*")]  # "commerce.*" -> "commerce."
    # LIKE patterns from checked names: only letters, digits, '_' (escaped) and dots.
    patterns = [prefix.replace("_", r"\_") + "%" for prefix in prefixes]
    return (
        " AND (e.event_type = ANY(%s::text[]) OR e.event_type LIKE ANY(%s::text[]))",
        [exact, patterns],
    )


FEED_SQL = """
WITH head AS (
    SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS frontier,
           h.feed_clock AS pruned_clock, h.position AS pruned_position
    FROM (SELECT 1) AS one
    LEFT JOIN public.events_feed_horizon h ON h.tenant_id = %s
)
SELECT head.frontier, head.pruned_clock, head.pruned_position,
       e.position, e.feed_clock, e.event_id, e.event_type, e.schema_version, e.occurred_at,
       e.aggregate_type, e.aggregate_id, e.aggregate_version, e.correlation_id, e.causation_id,
       e.actor, e.payload
FROM head LEFT JOIN LATERAL (
    SELECT e.* FROM public.events_outbox e
    WHERE e.tenant_id = %s AND (e.feed_clock, e.position) > (%s, %s)
      AND e.feed_clock <= head.frontier{types}
    ORDER BY e.feed_clock, e.position
    LIMIT %s
) e ON true
"""


def feed_page(
    *,
    tenant_id: int,
    after: FeedCursor | None = None,
    types: Sequence[str] = (),
    limit: int = DEFAULT_LIMIT,
) -> FeedPage:
    """The tenant's next events after ``after`` (from the oldest retained without it), at most
    ``limit``, of the given ``types`` (exact or ``prefix.*``; all without).

    ``next`` is where to resume: the last event's cursor, ``after`` itself when nothing is new,
    or for a first read with nothing to show, the current frontier. Raises
    ``FeedCursorExpired`` when pruning has removed events after ``after``.
    """
    limit = max(1, min(limit, MAX_LIMIT))
    start = after or FeedCursor(0, 0)
    type_sql, type_params = _type_filter(types)
    with connection.cursor() as cursor:
        cursor.execute(
            FEED_SQL.format(types=type_sql),  # constant text; values are parameters
            [tenant_id, tenant_id, start.clock, start.position, *type_params, limit],
        )
        rows = cursor.fetchall()
    frontier, pruned_clock, pruned_position = rows[0][:3]
    pruned = None if pruned_clock is None else FeedCursor(pruned_clock, pruned_position)
    if after is not None and pruned is not None and pruned > after:
        raise FeedCursorExpired(
            gettext(
                "Events after this cursor were deleted: the feed keeps events for "
                "%(days)s days. Start again without a cursor and reconcile from the API."
            )
            % {"days": settings.EVENTS["RETENTION_DAYS"]}
        )
    events = [_event(row[3:]) for row in rows if row[3] is not None]
    if events:
        return FeedPage(events=events, next=events[-1].cursor)
    # Nothing after the cursor yet: resume from it. A first read that finds nothing resumes
    # after the frontier: everything up to it is final, and none of it was asked for.
    return FeedPage(events=[], next=after or FeedCursor(frontier + 1, 0))


def _event(row: Sequence[Any]) -> FeedEvent:
    (position, clock, event_id, event_type, schema_version, occurred_at, aggregate_type,
     aggregate_id, aggregate_version, correlation_id, causation_id, actor, payload) = row  # fmt: skip
    return FeedEvent(
        position=position,
        cursor=FeedCursor(clock, position),
        event_id=event_id,
        event_type=event_type,
        schema_version=schema_version,
        occurred_at=occurred_at,
        aggregate_type=aggregate_type,
        aggregate_id=aggregate_id,
        aggregate_version=aggregate_version,
        correlation_id=correlation_id,
        causation_id=causation_id,
        actor=_json(actor),
        payload=_json(payload),
    )


def _json(value: Any) -> Any:
    # Django's connection reads jsonb as text.
    return json.loads(value) if isinstance(value, str) else value
