"""A clock the test moves, put where a rate limiter reads the time (its windows are fixed)."""

from __future__ import annotations


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def time(self) -> float:
        return self.now


def frozen_clock(monkeypatch, where: str, now: float) -> Clock:
    """A ``Clock`` at ``now`` standing in for the ``time`` module at ``where``."""
    clock = Clock(now)
    monkeypatch.setattr(where, clock)
    return clock


# A whole hour (and minute) since the epoch, far from any real time the suite runs at.
RATELIMIT_NOW = 1_800_000_000


def ratelimit_clock(monkeypatch) -> Clock:
    """django-ratelimit's clock, fixed at ``RATELIMIT_NOW`` and moved only by the test.

    Never the wall clock: django-ratelimit ends each key's window at an offset of its own
    within the period (a CRC of the counted value), so a count or a wait read at a real time
    depends on when the suite runs: a window may end between two requests of a test, and
    the hourly window of 127.0.0.1 ends 30:32 past each hour, so a run a few seconds before
    it saw a wait of 7 s where an hour's was expected. At ``RATELIMIT_NOW`` that window has
    1,832 s left.
    """
    return frozen_clock(monkeypatch, "django_ratelimit.core.time", RATELIMIT_NOW)
