"""Who waits for a lock now, for tests that line sessions up on one.

PostgreSQL reads ``pg_stat_activity`` once per transaction and serves that snapshot until
the transaction ends: a test polling from inside a transaction would never see a session
that connected or started waiting after its first look. The snapshot is cleared first.
"""

from __future__ import annotations

from django.db import connections

WAITING_SQL = """
SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND wait_event_type = 'Lock'
"""

# Sessions waiting for a lock this one holds (an uncommitted row, a row lock).
WAITING_ON_ME_SQL = """
SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND pg_backend_pid() = ANY(pg_blocking_pids(pid))
"""


def lock_waiters(*, on_this_session: bool = False, using: str = "default") -> int:
    """How many sessions of the test database wait for a lock (held by this session only,
    with ``on_this_session``)."""
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(WAITING_ON_ME_SQL if on_this_session else WAITING_SQL)
        return cursor.fetchone()[0]
