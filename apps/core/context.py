"""Request-scoped context that travels with events: correlation id, causation, trace, actor.

A request's correlation id comes from ``X-Request-ID`` (when it is a sane
token) or is generated, and is echoed on the response. Event handlers run with
the handled event's correlation id and the event itself as the cause, so an
event published by a handler keeps the chain.
"""

from __future__ import annotations

import random
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from functools import lru_cache

REQUEST_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
TRACEPARENT_RE = re.compile(r"00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")


@dataclass(frozen=True)
class Actor:
    """Who caused a change: a user of a tenant, an API key (acting for its ``owner``, a user),
    or the system itself."""

    kind: str  # "user" | "api_key" | "system"
    id: str
    label: str = ""
    owner: Actor | None = None

    def as_dict(self) -> dict:
        value = {"kind": self.kind, "id": self.id, "label": self.label}
        if self.owner is not None:
            value["owner"] = self.owner.as_dict()
        return value

    @classmethod
    def from_dict(cls, value: dict) -> Actor:
        owner = value.get("owner")
        return cls(
            value["kind"],
            value["id"],
            value.get("label", ""),
            cls.from_dict(owner) if isinstance(owner, dict) else None,
        )

    @classmethod
    def from_user(cls, user) -> Actor:
        return cls("user", str(user.pk), user.get_username())

    @classmethod
    def from_api_key(cls, key) -> Actor:
        """The key by its id and name, acting for its owner."""
        return cls("api_key", str(key.pk), key.name, cls.from_user(key.owner))

    @classmethod
    def resolve(cls, actor, context: EventContext | None = None) -> Actor | None:
        """The actor to record for a write that names ``actor`` (an ``Actor``, a user or None).

        A user who is the owner of the API key the current request came with is recorded as
        that key (``act_with_key``), so the audit trail names the integration: services take
        the user (their rights, their foreign keys), and no delivery code has to know.
        Without an actor, the context's (``context``, by default the current one).
        """
        if isinstance(actor, Actor):
            return actor
        ambient = (context or current()).actor
        if getattr(actor, "is_authenticated", False):
            user = cls.from_user(actor)
            if ambient is not None and ambient.kind == "api_key" and ambient.owner == user:
                return ambient
            return user
        return ambient

    @classmethod
    def system(cls, name: str) -> Actor:
        return cls("system", name, name)


@dataclass(frozen=True)
class EventContext:
    correlation_id: str
    causation_id: str | None = None
    traceparent: str | None = None
    actor: Actor | None = None


_current: ContextVar[EventContext | None] = ContextVar("event_context", default=None)


def new_correlation_id() -> str:
    return str(uuid.uuid4())


def clean_request_id(raw: str | None) -> str:
    if raw and REQUEST_ID_RE.fullmatch(raw):
        return raw
    return new_correlation_id()


def new_traceparent(trace_id: str | None = None) -> str:
    """A W3C ``traceparent`` with a fresh span id, in the given trace or a new one.

    The ids are random, not secret (as OpenTelemetry's own generator makes them): ``random``
    costs a fraction of a system call, and every published event takes one.
    """
    trace = trace_id or f"{random.getrandbits(128) or 1:032x}"  # all zeros is not an id
    return f"00-{trace}-{random.getrandbits(64) or 1:016x}-01"


TRACEPARENT_LENGTH = 55


@lru_cache(maxsize=1024)
def _trace_id(traceparent: str) -> str | None:
    match = TRACEPARENT_RE.fullmatch(traceparent)
    return match.group(1) if match else None


def child_traceparent(parent: str | None) -> str:
    """A new span in ``parent``'s trace (a new trace when ``parent`` is not a traceparent).
    A request's or a handler's events share their parent: it is parsed once (only a string
    of a traceparent's length can be one, so a header cannot fill the cache with long ones)."""
    is_one = parent is not None and len(parent) == TRACEPARENT_LENGTH
    return new_traceparent(_trace_id(parent) if is_one else None)


def current() -> EventContext:
    """The active context, or a fresh one (a command or a shell has no request).

    Wrap several writes in ``use(...)`` to give them one correlation id.
    """
    context = _current.get()
    if context is None:
        return EventContext(correlation_id=new_correlation_id(), traceparent=new_traceparent())
    return context


def active() -> EventContext | None:
    """The context set by a request or a handler, or None (unlike ``current()``)."""
    return _current.get()


def act_with_key(key) -> None:
    """Name API key ``key`` as the actor of the current request's writes (see
    ``Actor.resolve``). Only within a request's context (``RequestContextMiddleware`` restores
    the previous one when the request ends); a no-op outside one."""
    context = _current.get()
    if context is not None:
        _current.set(replace(context, actor=Actor.from_api_key(key)))


@contextmanager
def use(context: EventContext) -> Iterator[EventContext]:
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)


class RequestContextMiddleware:
    """Sets the correlation id and trace of a request and returns ``X-Request-ID``."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        correlation_id = clean_request_id(request.META.get("HTTP_X_REQUEST_ID"))
        traceparent = child_traceparent(request.META.get("HTTP_TRACEPARENT"))
        request.correlation_id = correlation_id
        with use(EventContext(correlation_id=correlation_id, traceparent=traceparent)):
            response = self.get_response(request)
        response["X-Request-ID"] = correlation_id
        return response
