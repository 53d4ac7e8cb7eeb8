"""What the benches share to print their figures: a percentile, a table under its header, the
database server's version."""

from __future__ import annotations

import os
import platform
from collections.abc import Iterable

import django
from django.db import connection


def log(message: str) -> None:
    print(message, flush=True)


def sql(statement: str, params=None) -> list[tuple]:
    """``statement``'s rows (none for a statement that returns none)."""
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


def scalar(statement: str, params=None):
    return sql(statement, params)[0][0]


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


def machine(note: str = "") -> str:
    """What the figures were measured on: versions, CPUs, the load before the run (and
    ``note``, such as the settings)."""
    model = "?"
    with open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return (
        f"Python {platform.python_version()}, Django {django.get_version()}, PostgreSQL "
        f"{server_version()}; {os.cpu_count()} CPUs ({model}); load average before the run "
        f"{os.getloadavg()[0]:.2f}" + (f"; {note}" if note else "")
    )
