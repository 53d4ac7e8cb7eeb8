"""Request-scoped context that travels with events: correlation id, causation, trace, actor.

A request's correlation id comes from ``X-Request-ID`` (when it is a sane
token) or is generated, and is echoed on the response. Event handlers run with
the handled event's correlation id and the event itself as the cause, so an
event published by a handler keeps the chain.
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

REQUEST_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
TRACEPARENT_RE = re.compile(r"00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")


@dataclass(frozen=True)
class Actor:
    """Who caused a change: a user of a tenant, an API key, or the system itself."""

    kind: str  # "user" | "api_key" | "system"
    id: str
    label: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "id": self.id, "label": self.label}

    @classmethod
    def from_user(cls, user) -> Actor:
        return cls("user", str(user.pk), user.get_username())

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
    """A W3C ``traceparent`` with a fresh span id, in the given trace or a new one."""
    return f"00-{trace_id or secrets.token_hex(16)}-{secrets.token_hex(8)}-01"


def child_traceparent(parent: str | None) -> str:
    match = TRACEPARENT_RE.fullmatch(parent or "")
    return new_traceparent(match.group(1) if match else None)


def current() -> EventContext:
    """The active context, or a fresh one (a command or a shell has no request).

    Wrap several writes in ``use(...)`` to give them one correlation id.
    """
    context = _current.get()
    if context is None:
        return EventContext(correlation_id=new_correlation_id(), traceparent=new_traceparent())
    return context


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
