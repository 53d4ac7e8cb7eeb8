"""Projections: read models in each tenant schema, fed only by events.

A projection subscribes to event types and applies each event idempotently
(the relay's ledger guarantees once per event; the version guard below also
drops stale updates that arrive after a newer one, e.g. during a rebuild).
Every projection can be rebuilt from its source for one tenant or all.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, ClassVar
from uuid import UUID

from django.db import connection, models, transaction
from django.utils import timezone

from apps.events.envelope import StoredEvent
from apps.events.registry import subscribe

_projections: dict[str, Projection] = {}


class Projection:
    name: ClassVar[str]
    event_types: ClassVar[tuple[str, ...]]
    model: ClassVar[type[models.Model]]
    # The module switch it serves: skipped for tenants that turned the module off.
    module: ClassVar[str] = ""

    def apply(self, event: StoredEvent) -> None:
        raise NotImplementedError

    # Optional: ``apply`` for the events of one relay batch and tenant (position order), with
    # the same end state as applying them one by one (``apps.events.registry.Subscriber``).
    apply_many: ClassVar[Callable[[Any, list[StoredEvent]], None] | None] = None

    # -- rebuilding -------------------------------------------------------

    def source(self) -> Iterable[Any]:
        """Items to rebuild from, in the active tenant schema."""
        raise NotImplementedError

    def source_count(self) -> int:
        raise NotImplementedError

    def rebuild_item(self, item: Any) -> None:
        raise NotImplementedError

    def reset(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {connection.ops.quote_name(self.model._meta.db_table)}")

    def rebuild(self, progress: Callable[[int, int], None] | None = None) -> int:
        """Rebuild this projection in the active tenant, in one transaction."""
        total = self.source_count()
        done = 0
        with transaction.atomic():
            self.reset()
            for item in self.source():
                self.rebuild_item(item)
                done += 1
                if progress and (done % 500 == 0 or done == total):
                    progress(done, total)
        if progress and total == 0:
            progress(0, 0)
        return done


def register(projection_class: type[Projection]) -> type[Projection]:
    """Class decorator: register a projection and subscribe it to its events."""
    projection = projection_class()
    _projections[projection.name] = projection
    subscribe(
        f"projection.{projection.name}",
        projection.event_types,
        projection.apply,
        module=projection.module,
        batch=projection.apply_many,
    )
    return projection_class


def projections() -> dict[str, Projection]:
    return dict(_projections)


@dataclass(frozen=True)
class Upsert:
    """One row for ``versioned_upsert_many``: its key, its version and its values."""

    key: dict[str, Any]
    version: int | None
    values: dict[str, Any]


def versioned_upsert(
    model: type[models.Model],
    *,
    key: dict[str, Any],
    version: int | None,
    values: dict[str, Any],
    computed: dict[str, str] | None = None,
    replace_equal: bool = False,
) -> bool:
    """Insert or update one row, unless the stored row already reflects a newer version.

    Returns whether the row was written. ``version`` goes into ``source_version``.
    ``computed`` maps fields to an SQL expression over the row's other columns (a
    search vector, say). With ``replace_equal`` a row of the same version is written
    again: for projections that read the current state of their source, where an
    equal version may still carry news (a renamed category).
    """
    row = Upsert(key, version, values)
    return versioned_upsert_many(model, [row], computed=computed, replace_equal=replace_equal) == 1


def _json_value(value: Any) -> Any:
    # Full precision: timestamps are compared with the write model's.
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, UUID | Decimal):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} into a projection row")


def versioned_upsert_many(
    model: type[models.Model],
    rows: list[Upsert],
    *,
    computed: dict[str, str] | None = None,
    computed_from: tuple[str, ...] = (),
    replace_equal: bool = False,
) -> int:
    """``versioned_upsert`` for many rows in one statement; returns how many were written.

    The rows must name the same fields and have distinct keys (one statement cannot
    update a row twice). They travel as one JSON document read back with the table's
    row type: the statement's text is the same whatever the number of rows, so it is
    parsed once per process, and there is one parameter to send instead of thousands.

    ``computed_from`` names the fields the ``computed`` expressions read: a stored row
    whose values of these equal the new row's keeps its computed values instead of
    computing them again (a search vector costs far more than the rest of the row).
    """
    if not rows:
        return 0
    table = connection.ops.quote_name(model._meta.db_table)
    computed = computed or {}
    first = rows[0]
    fields = [*first.key, *first.values, "source_version"]
    names = [model._meta.get_field(name).column for name in fields]
    extra = [model._meta.get_field(name).column for name in computed]
    document = json.dumps(
        [
            dict(zip(names, [*row.key.values(), *row.values.values(), row.version], strict=True))
            for row in rows
        ],
        default=_json_value,
    )
    key_names = [model._meta.get_field(name).column for name in first.key]
    updates = ", ".join(
        f"{name} = EXCLUDED.{name}" for name in [*names, *extra] if name not in key_names
    )
    newer = "<=" if replace_equal else "<"
    # The computed expressions name the record's columns (``VECTOR_FROM_COLUMNS``).
    expressions = list(computed.values())
    source = f"jsonb_populate_recordset(NULL::{table}, %s::jsonb)"
    if computed_from and computed:
        # The stored row of each key beside the new one: where the columns the expressions
        # read are unchanged, its computed values are taken as they are.
        read = [model._meta.get_field(name).column for name in computed_from]
        same = (
            f"s.{key_names[0]} IS NOT NULL AND "
            f"ROW({', '.join(f's.{name}' for name in read)}) IS NOT DISTINCT FROM "
            f"ROW({', '.join(f'v.{name}' for name in read)})"
        )
        stored = ", ".join(f"s.{name} AS stored__{name}" for name in extra)
        join = " AND ".join(f"s.{name} = v.{name}" for name in key_names)
        source = (
            f"(SELECT v.*, {same} AS unchanged__, {stored} FROM {source} v "
            f"LEFT JOIN {table} s ON {join}) v"
        )
        expressions = [
            f"CASE WHEN unchanged__ THEN stored__{name} ELSE {expression} END"
            for name, expression in zip(extra, expressions, strict=True)
        ]
    sql = (
        f"INSERT INTO {table} ({', '.join([*names, *extra])}) "
        f"SELECT {', '.join([*names, *expressions])} "
        f"FROM {source} "
        f"ON CONFLICT ({', '.join(key_names)}) DO UPDATE SET {updates} "
        f"WHERE EXCLUDED.source_version IS NULL OR {table}.source_version IS NULL "
        f"OR {table}.source_version {newer} EXCLUDED.source_version"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [document])
        return cursor.rowcount


def write_by_locale(
    model: type[models.Model],
    key: str,
    items: list[tuple[Any, int | None, dict[str, dict[str, Any]]]],
    *,
    computed: dict[str, str],
    computed_from: tuple[str, ...] = (),
) -> None:
    """Make the stored rows of each source be its rows by locale, for a listing keyed by
    (``key``, locale): one upsert of every row (unless a stored row is newer) and one delete
    of the stale ones. ``items`` holds (source id, version, rows by locale); a source without
    rows (gone, unlisted) loses those not newer than its version (with none, all)."""
    now = timezone.now()
    upserts = [
        Upsert(
            key={key: source, "locale": locale},
            version=version,
            values={**values, "indexed_at": now},
        )
        for source, version, rows in items
        for locale, values in rows.items()
    ]
    versioned_upsert_many(
        model, upserts, computed=computed, computed_from=computed_from, replace_equal=True
    )
    delete_stale(model, key, [(source, version, list(rows)) for source, version, rows in items])


def delete_stale(
    model: type[models.Model], key: str, kept: list[tuple[Any, int | None, list[str]]]
) -> int:
    """Delete the rows of these sources that are not in the locales kept, in one statement.

    ``kept`` holds (source id, version, locales): a source's other rows go, unless they
    reflect a newer version than ``version`` (None: whatever their version; a source that
    is gone keeps no locale).
    """
    if not kept:
        return 0
    table = connection.ops.quote_name(model._meta.db_table)
    field = model._meta.get_field(key)
    column = connection.ops.quote_name(field.column)
    array = f"{field.db_type(connection)}[]"
    pairs = [(source, locale) for source, _, locales in kept for locale in locales]
    sql = (
        f"DELETE FROM {table} t USING unnest(%s::{array}, %s::bigint[]) AS v(source, version) "
        f"WHERE t.{column} = v.source "
        "AND (v.version IS NULL OR t.source_version <= v.version) "
        f"AND (t.{column}, t.locale) NOT IN (SELECT * FROM unnest(%s::{array}, %s::text[]))"
    )
    params = [
        [source for source, _, _ in kept],
        [version for _, version, _ in kept],
        [source for source, _ in pairs],
        [locale for _, locale in pairs],
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def newest_versions(named: Iterable[tuple[Any, int | None]]) -> dict[Any, int | None]:
    """Source id -> the newest version its events name (None once any of them names none),
    in the order the sources first appear."""
    versions: dict[Any, int | None] = {}
    for source, version in named:
        if source not in versions:
            versions[source] = version
        elif version is None or versions[source] is None:
            versions[source] = None
        else:
            versions[source] = max(versions[source], version)
    return versions


def sources_behind(model: type[models.Model], key: str, versions: dict[Any, int | None]) -> list:
    """Of the sources in ``versions`` (from ``newest_versions``), those whose stored rows may
    not show that version yet, in one query: all but the sources every row of which has a newer
    ``source_version``.

    A row newer than an event was built from a later state, and that state includes the event:
    an aggregate's events are written under its lock, each naming the aggregate's version after
    it (a deletion, the next one). An event without a version, or whose source has no row (not
    listed, or not yet), leaves the source to be read.
    """
    known = [(source, version) for source, version in versions.items() if version is not None]
    if not known:
        return list(versions)
    table = connection.ops.quote_name(model._meta.db_table)
    field = model._meta.get_field(key)
    column = connection.ops.quote_name(field.column)
    sql = (
        f"SELECT v.source FROM unnest(%s::{field.db_type(connection)}[], %s::bigint[]) "
        f"AS v(source, version) JOIN {table} t ON t.{column} = v.source "
        "GROUP BY v.source, v.version "
        "HAVING bool_and(coalesce(t.source_version > v.version, false))"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [[source for source, _ in known], [version for _, version in known]])
        shown = {row[0] for row in cursor.fetchall()}
    return [source for source in versions if source not in shown]
