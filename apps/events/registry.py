"""Subscribers: the functions that react to events, each under a stable name.

The name keys the processed-event ledger and the dead letters, so renaming a
subscriber makes it see every retained event as new.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .envelope import StoredEvent

ALL = "*"

HandlerFunc = Callable[["StoredEvent"], None]
# Takes every event of one tenant that a relay batch has for the subscriber, in position
# order, and must leave the same effect as ``func`` on each in turn (see ``Subscriber``).
BatchFunc = Callable[[list["StoredEvent"]], None]


@dataclass(frozen=True)
class Subscriber:
    name: str
    event_types: frozenset[str]
    func: HandlerFunc
    # The module switch it belongs to (apps.core.modules): a tenant that turned the module
    # off has its events skipped by this subscriber. Empty: it runs for every tenant.
    module: str = ""
    # Optional: the events of one batch and tenant at once. For subscribers whose effect is a
    # re-read of current state (projections): several versions of one aggregate need one
    # re-read, many aggregates one query. When it raises, the relay falls back to ``func``
    # event by event, so retries and dead letters stay per event.
    batch: BatchFunc | None = None

    def wants(self, event_type: str) -> bool:
        return ALL in self.event_types or event_type in self.event_types


_subscribers: dict[str, Subscriber] = {}
_by_type: dict[str, list[Subscriber]] = {}


def subscribe(
    name: str,
    event_types: list[str] | tuple[str, ...] | str,
    func: HandlerFunc,
    *,
    module: str = "",
    batch: BatchFunc | None = None,
) -> Subscriber:
    types = frozenset([event_types] if isinstance(event_types, str) else event_types)
    existing = _subscribers.get(name)
    if existing is not None and existing.func.__qualname__ != func.__qualname__:
        raise ValueError(f"subscriber name '{name}' is taken by {existing.func.__qualname__}")
    subscriber = Subscriber(name, types, func, module, batch)
    _subscribers[name] = subscriber
    _by_type.clear()
    return subscriber


def handles(*event_types: str, name: str, module: str = "", batch: BatchFunc | None = None):
    """Decorator: ``@handles("content.node.published", name="index.content_listing")``."""

    def decorate(func: HandlerFunc) -> HandlerFunc:
        subscribe(name, event_types, func, module=module, batch=batch)
        return func

    return decorate


def subscribers_for(event_type: str) -> list[Subscriber]:
    found = _by_type.get(event_type)
    if found is None:
        found = sorted(
            (s for s in _subscribers.values() if s.wants(event_type)), key=lambda s: s.name
        )
        _by_type[event_type] = found
    return found


def subscriber(name: str) -> Subscriber | None:
    return _subscribers.get(name)


def all_subscribers() -> list[Subscriber]:
    return sorted(_subscribers.values(), key=lambda s: s.name)
