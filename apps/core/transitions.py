"""A status machine as a table of transitions, the one implementation every module's uses.

A module spells its machine out once (content's ``NODE_TRANSITIONS``, commerce's
``PRODUCT_TRANSITIONS``); its transition service checks every change against that table and
its admin actions and API endpoints are derived from it. Core knows nothing of the modules'
statuses or events: a transition's ``event`` is whatever its owner publishes when it is
taken, and the owner words its own refusals (they are translated, and differ by module).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from .errors import InvalidTransition

EventT = TypeVar("EventT")


@dataclass(frozen=True)
class Transition(Generic[EventT]):
    """One action of a status machine: from any of ``sources`` to ``target``."""

    action: str
    sources: frozenset[str]
    target: str
    event: EventT  # what the owner publishes when the transition is taken
    label: str  # what a user clicks ("Publish")
    past: str = ""  # what the user is told once it is done ("published"), where the owner says it


class TransitionTable(Generic[EventT]):
    """The status machine, the one place it is spelled out; delivery code derives its actions.

    ``unknown(status, action)`` words the refusal of an action the table does not have,
    ``refusal(status, transition)`` that of a known action from a status it does not start
    from; both refusals raise ``InvalidTransition`` (409).
    """

    def __init__(
        self,
        transitions: Iterable[Transition[EventT]],
        *,
        refusal: Callable[[str, Transition[EventT]], str],
        unknown: Callable[[str, str], str],
    ) -> None:
        self.by_action = {transition.action: transition for transition in transitions}
        self._refusal = refusal
        self._unknown = unknown

    @property
    def actions(self) -> tuple[str, ...]:
        return tuple(self.by_action)

    def get(self, action: str) -> Transition[EventT] | None:
        return self.by_action.get(action)

    def available(self, status: str) -> list[Transition[EventT]]:
        """The transitions an item in ``status`` can take."""
        return [t for t in self.by_action.values() if status in t.sources]

    def check(self, status: str, action: str) -> Transition[EventT]:
        """The transition ``action`` from ``status``; ``InvalidTransition`` when there is none."""
        transition = self.by_action.get(action)
        if transition is None:
            raise InvalidTransition(self._unknown(status, action), current=status)
        if status not in transition.sources:
            raise InvalidTransition(
                self._refusal(status, transition), current=status, target=transition.target
            )
        return transition
