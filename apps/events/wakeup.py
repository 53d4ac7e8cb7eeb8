"""Coalesced wake-ups of the relay: many commits, one drain task.

A commit sets a short-lived Redis flag; only the commit that sets it sends a
drain task, and the drain clears the flag when it starts, so events committed
during a drain schedule exactly one more. With Redis down nothing is sent:
events wait in PostgreSQL and the beat sweep drains them when Redis is back.
"""

from __future__ import annotations

import logging
import os
import threading
import time

import redis
from celery import current_app
from django.conf import settings

from apps.core import kv
from apps.core.breakers import REDIS, guarded

logger = logging.getLogger(__name__)
FLAG = "events:drain:requested"
# Sent by name: the commit path never imports the relay's task module.
DRAIN_TASK = "events.drain"


def _redis() -> redis.Redis:
    return kv.client()


HELPER_FLAG = "events:drain:helper"


def _send_once(flag: str) -> bool:
    """Send a drain task unless ``flag`` says one is already on its way."""
    if _redis().set(flag, "1", nx=True, ex=settings.EVENTS["WAKEUP_COALESCE_SECONDS"]):
        current_app.send_task(DRAIN_TASK, retry=False)
        return True
    return False


def request_drain() -> bool:
    """Ask for a drain now. Never raises: the beat sweep is the safety net."""
    return guarded(REDIS, _send_once, FLAG, fallback=False)


def request_helper() -> bool:
    """Ask one more worker process to join a drain that found a backlog (at most one per window)."""
    return guarded(REDIS, _send_once, HELPER_FLAG, fallback=False)


class _Sender:
    """A per-process thread that sends wake-ups, so a commit never waits on Redis.

    Many pokes while a send is in flight collapse into one more send, and sends are
    at least ``WAKEUP_MIN_INTERVAL_SECONDS`` apart: under a steady stream of commits
    the thread makes one Redis call per interval instead of one per commit (each
    call took CPU and the GIL from the committing threads). An idle process sends at
    once; a busy one delays a wake-up by at most the interval, while the relay it
    would wake is usually still draining anyway.
    """

    def __init__(self) -> None:
        self._wanted = threading.Event()
        self._lock = threading.Lock()
        self._pid: int | None = None

    def poke(self) -> None:
        if self._pid != os.getpid():
            with self._lock:
                if self._pid != os.getpid():
                    self._wanted = threading.Event()
                    threading.Thread(target=self._run, name="relay-wakeup", daemon=True).start()
                    self._pid = os.getpid()
        if not self._wanted.is_set():  # set() takes a lock and wakes the thread: once is enough
            self._wanted.set()

    def _run(self) -> None:
        wanted = self._wanted
        interval = settings.EVENTS["WAKEUP_MIN_INTERVAL_SECONDS"]
        while True:
            wanted.wait()
            wanted.clear()
            sent_at = time.monotonic()
            request_drain()
            # Commits during the send or the pause set ``wanted`` again: one send for them all.
            pause = interval - (time.monotonic() - sent_at)
            if pause > 0:
                time.sleep(pause)


_sender = _Sender()


def request_drain_soon() -> None:
    """The commit path's wake-up: hand it to this process's sender thread and return."""
    _sender.poke()


def clear() -> None:
    guarded(REDIS, _redis().delete, FLAG, fallback=None)
