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


@contextmanager
def handler_span(handler: str, event: StoredEvent, *, attempt: int = 1) -> Iterator[None]:
    """Run the body in a span "handle <event type> by <handler>", child of the event's writer."""
    if not telemetry.enabled():
        yield
        return
    parent = telemetry.extract((event.trace_context or {}).get("traceparent"))
    drain = trace.get_current_span().get_span_context()
    with telemetry.tracer(__name__).start_as_current_span(
        f"handle {event.event_type} by {handler}",
        context=parent,
        kind=trace.SpanKind.CONSUMER,
        links=[trace.Link(drain)] if drain.is_valid else None,
        attributes={
            "tenant.schema": event.schema_name,
            "event.id": str(event.event_id),
            "event.type": event.event_type,
            "event.position": event.position,
            "event.handler": handler,
            "event.attempt": attempt,
        },
    ):
        yield
