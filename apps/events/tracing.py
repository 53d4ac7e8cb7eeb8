"""The relay's spans: each handler run continues the trace of the write that published its event.

The outbox row keeps the ``traceparent`` that was current when the event was written
(the request's span, or the span of the handler that published it). A handler's span
takes that span as its parent, so a request, its events and everything their handlers
did (queries, HTTP calls, further events) form one trace. The drain that claimed the
event (a Celery task of its own trace) is linked, not a parent.

With tracing off, nothing is started: the relay pays one check per handler run.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry import trace

from apps.core import telemetry

from .envelope import StoredEvent


def _span(handler: str, event: StoredEvent, *, attempt: int, batch: int = 1):
    parent = telemetry.extract((event.trace_context or {}).get("traceparent"))
    drain = trace.get_current_span().get_span_context()
    attributes = {
        "tenant.schema": event.schema_name,
        "event.id": str(event.event_id),
        "event.type": event.event_type,
        "event.position": event.position,
        "event.handler": handler,
        "event.attempt": attempt,
    }
    if batch > 1:
        attributes["event.batch_size"] = batch
    return telemetry.tracer(__name__).start_as_current_span(
        f"handle {event.event_type} by {handler}",
        context=parent,
        kind=trace.SpanKind.CONSUMER,
        links=[trace.Link(drain)] if drain.is_valid else None,
        attributes=attributes,
    )


@contextmanager
def handler_span(handler: str, event: StoredEvent, *, attempt: int = 1) -> Iterator[None]:
    """Run the body in a span "handle <event type> by <handler>", child of the event's writer."""
    if not telemetry.enabled():
        yield
        return
    with _span(handler, event, attempt=attempt):
        yield


@contextmanager
def batch_span(handler: str, events: list[StoredEvent]) -> Iterator[None]:
    """A batch function's run: each event's trace gets its "handle" span (so every write's
    trace still shows its handlers); the run itself is timed in the last event's, the one
    whose state the batch leaves (``event.batch_size`` says how many it covered)."""
    if not telemetry.enabled():
        yield
        return
    for event in events[:-1]:
        with _span(handler, event, attempt=1, batch=len(events)):
            pass
    with _span(handler, events[-1], attempt=1, batch=len(events)):
        yield
