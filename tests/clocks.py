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
