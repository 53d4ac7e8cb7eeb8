"""One policy for what to do when an operation fails: retry (with backoff), fail, or ignore.

The event relay and, later, webhook delivery decide through it, so retry
behaviour is the same everywhere and configured in one place.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import Enum


class Action(Enum):
    RETRY = "retry"
    FAIL = "fail"  # give up: dead letter, alert
    IGNORE = "ignore"  # the failure does not matter; treat as done


class PermanentError(Exception):
    """Retrying cannot help (bad payload, unknown type): go straight to the dead letters."""


@dataclass(frozen=True)
class Decision:
    action: Action
    delay: float = 0.0
    reason: str = ""


@dataclass(frozen=True)
class ErrorPolicy:
    max_attempts: int = 8
    base_delay: float = 1.0
    max_delay: float = 300.0
    jitter: float = 0.25  # +/- this fraction of the delay
    # Fixed delays before attempts 2, 3, ... (webhooks: 5 s, 30 s, 2 min, ...) instead of
    # doubling ``base_delay``; the last one repeats.
    schedule: tuple[float, ...] = ()
    permanent: tuple[type[BaseException], ...] = (PermanentError,)
    ignored: tuple[type[BaseException], ...] = ()

    def backoff(self, attempt: int) -> float:
        """Delay before attempt ``attempt + 1``: base * 2^(attempt-1), capped, or the
        ``schedule``'s delay; with jitter."""
        if self.schedule:
            delay = self.schedule[min(max(0, attempt - 1), len(self.schedule) - 1)]
        else:
            delay = min(self.max_delay, self.base_delay * (2 ** max(0, attempt - 1)))
        spread = delay * self.jitter
        return max(0.0, delay + random.uniform(-spread, spread))

    def decide(self, error: BaseException, attempt: int) -> Decision:
        """What to do after ``attempt`` attempts (1 = the first) ended in ``error``."""
        if isinstance(error, self.ignored):
            return Decision(Action.IGNORE, reason=type(error).__name__)
        if isinstance(error, self.permanent):
            return Decision(Action.FAIL, reason=f"permanent: {type(error).__name__}")
        if attempt >= self.max_attempts:
            return Decision(Action.FAIL, reason=f"gave up after {attempt} attempts")
        return Decision(Action.RETRY, delay=self.backoff(attempt))
