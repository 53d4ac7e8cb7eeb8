"""What the benches share to print their figures: a percentile, a table under its header, the
database server's version."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection


def percentile(values: list[float], share: float) -> float:
    """The value at ``share`` (0.99 for p99) of ``values``, nearest rank; 0 for none."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def print_table(header: str, rows: Iterable[str]) -> None:
    """``header``, a rule as long as it, then each row."""
    print(header)
    print("-" * len(header))
    for row in rows:
        print(row)


def server_version() -> str:
    """The PostgreSQL server's version, as it reports it."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return cursor.fetchone()[0]
