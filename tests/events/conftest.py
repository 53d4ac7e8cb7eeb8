"""Fixtures of the event backbone's tests: widgets, clean outbox, real Celery workers."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection
from django_tenants.utils import schema_context

from apps.events.models import Delivery, OutboxEvent
from apps.events.selectors import reset_health_cache
from tests.conftest import subprocess_database_url

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def rds() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


def _wipe_events() -> None:
    Delivery.objects.all().delete()
    OutboxEvent.objects.all().delete()
    for schema in ("acme", "globex"):
        with schema_context(schema), connection.cursor() as cursor:
            cursor.execute(
                "TRUNCATE events_processed, eventapp_effect, eventapp_widget, index_aggregate_activity"
            )


@pytest.fixture
def clean_events(live_db):
    """Committed-data tests: start and end with an empty outbox and empty tenant tables."""
    _wipe_events()
    reset_health_cache()
    yield
    connection.set_schema_to_public()
    _wipe_events()
    reset_health_cache()


class Workers:
    """Real Celery worker processes against the test database and Redis."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.procs: list[tuple[subprocess.Popen, Path]] = []

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings.test",
            DATABASE_URL=subprocess_database_url(),
            PYTHONPATH=str(ROOT),
        )
        env.update(extra)
        return env

    def start(
        self, *, concurrency: int = 1, beat: bool = False, queues: str | None = None,
        **extra_env: str,
    ) -> subprocess.Popen:  # fmt: skip
        name = f"w{len(self.procs)}"
        log = self.tmp_path / f"{name}.log"
        command = [
            sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel", "INFO",
            "--concurrency", str(concurrency), "--pool", "prefork", "-n", f"{name}@%h",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
        ]  # fmt: skip
        if queues:
            command += ["-Q", queues]
        if beat:
            command += ["--beat", "--schedule", str(self.tmp_path / f"{name}-beat")]
        proc = subprocess.Popen(
            command, cwd=ROOT, env=self.env(**extra_env), stdout=log.open("w"),
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        self.procs.append((proc, log))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if "ready." in log.read_text():
                return proc
            if proc.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError(f"worker did not start:\n{log.read_text()[-3000:]}")

    def kill(self, proc: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        proc.wait(timeout=10)

    def stop_all(self) -> None:
        for proc, _ in self.procs:
            if proc.poll() is None:
                self.kill(proc)

    def logs(self) -> str:
        return "\n".join(log.read_text()[-4000:] for _, log in self.procs)

    def log(self, proc: subprocess.Popen) -> str:
        """The whole log of one worker so far."""
        return next(log for started, log in self.procs if started is proc).read_text()


@pytest.fixture
def workers(clean_events, tmp_path):
    pool = Workers(tmp_path)
    yield pool
    pool.stop_all()


def wait_for(predicate, *, timeout: float = 20, interval: float = 0.05, message=""):
    """Poll ``predicate`` until it returns something truthy; fail with ``message`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    detail = message() if callable(message) else message
    raise AssertionError(f"condition not met within {timeout} s\n{detail}")
