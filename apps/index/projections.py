"""Projections: read models in each tenant schema, fed only by events.

A projection subscribes to event types and applies each event idempotently
(the relay's ledger guarantees once per event; the version guard below also
drops stale updates that arrive after a newer one, e.g. during a rebuild).
Every projection can be rebuilt from its source for one tenant or all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from django.db import connection, models, transaction

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
    )
    return projection_class


def projections() -> dict[str, Projection]:
    return dict(_projections)


def versioned_upsert(
    model: type[models.Model],
    *,
    key: dict[str, Any],
    version: int | None,
    values: dict[str, Any],
    computed: dict[str, tuple[str, list[Any]]] | None = None,
    replace_equal: bool = False,
) -> bool:
    """Insert or update one row, unless the stored row already reflects a newer version.

    Returns whether the row was written. ``version`` goes into ``source_version``.
    ``computed`` maps fields to an SQL expression and its parameters (a search
    vector, say). With ``replace_equal`` a row of the same version is written
    again: for projections that read the current state of their source, where
    an equal version may still carry news (a renamed category).
    """
    table = connection.ops.quote_name(model._meta.db_table)
    columns = {**key, **values, "source_version": version}
    expressions = computed or {}
    names = [model._meta.get_field(name).column for name in [*columns, *expressions]]
    placeholders = ["%s"] * len(columns) + [sql for sql, _ in expressions.values()]
    params = list(columns.values()) + [param for _, ps in expressions.values() for param in ps]
    key_names = [model._meta.get_field(name).column for name in key]
    updates = ", ".join(f"{name} = EXCLUDED.{name}" for name in names if name not in key_names)
    newer = "<=" if replace_equal else "<"
    sql = (
        f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join(placeholders)}) "
        f"ON CONFLICT ({', '.join(key_names)}) DO UPDATE SET {updates} "
        f"WHERE EXCLUDED.source_version IS NULL OR {table}.source_version IS NULL "
        f"OR {table}.source_version {newer} EXCLUDED.source_version"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount == 1
