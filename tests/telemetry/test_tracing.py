"""A request, the outbox rows it wrote and every handler run for them form one trace."""

from __future__ import annotations

import uuid

from django.db import transaction
from django_tenants.utils import schema_context
from opentelemetry import trace
from opentelemetry.trace import SpanKind

from apps.core import context, telemetry
from apps.events.models import OutboxEvent
from apps.events.publisher import publish
from apps.events.relay import drain
from tests.conftest import as_tenant_admin, tenant_client
from tests.eventapp.events import WidgetStatusChanged
from tests.eventapp.services import widget_change

from .conftest import traceparent_of


def _handler_spans(spans) -> list:
    return [s for s in spans.get_finished_spans() if s.name.startswith("handle ")]


def test_handler_spans_are_children_of_the_request_that_wrote_their_events(
    committed_content, spans
):
    client = as_tenant_admin(tenant_client("acme"))
    response = client.post(
        "/api/v1/posts/",
        {"translations": {"en": {"title": "Traced"}}},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    (server,) = [s for s in spans.get_finished_spans() if s.kind == SpanKind.SERVER]
    assert server.attributes["http.route"] == "api/v1/posts/$"

    rows = {str(row.event_id): row for row in OutboxEvent.objects.all()}
    assert rows, "the write published no event"
    for row in rows.values():
        assert row.trace_context["traceparent"] == traceparent_of(server)

    drain()
    handled = _handler_spans(spans)
    from_request = [s for s in handled if s.attributes["event.id"] in rows]
    # Every event of the request ran at least one handler (the webhooks' subscriber takes all).
    assert {s.attributes["event.id"] for s in from_request} == set(rows)
    for span in from_request:
        row = rows[span.attributes["event.id"]]
        assert span.context.trace_id == server.context.trace_id
        assert span.parent is not None and span.parent.span_id == server.context.span_id
        assert span.kind == SpanKind.CONSUMER
        assert span.name == f"handle {row.event_type} by {span.attributes['event.handler']}"
        assert span.attributes["event.type"] == row.event_type
        assert span.attributes["tenant.schema"] == "acme"
        assert span.attributes["event.attempt"] == 1
    # Events published by those handlers continue the same trace under the handler's span.
    ids = {s.context.span_id for s in handled}
    for span in handled:
        assert span.context.trace_id == server.context.trace_id
        assert span.parent.span_id in ids | {server.context.span_id}


def test_an_event_published_by_a_handler_is_handled_under_that_handlers_span(clean_events, spans):
    root = telemetry.tracer("tests").start_span("operator command")
    with trace.use_span(root, end_on_exit=True), schema_context("acme"), transaction.atomic():
        publish(WidgetStatusChanged(widget_id=uuid.uuid4(), from_status="draft", to_status="live"))
    drain()
    handled = {s.attributes["event.handler"]: s for s in _handler_spans(spans)}
    chain, recorder = handled["test.chain"], handled["test.recorder"]
    assert chain.parent.span_id == root.context.span_id
    assert recorder.parent.span_id == chain.context.span_id
    assert recorder.context.trace_id == root.context.trace_id


def test_without_tracing_rows_keep_the_context_trace_and_no_span_is_made(clean_events):
    assert not telemetry.enabled()
    incoming = context.new_traceparent()
    with (
        context.use(context.EventContext(correlation_id="c-1", traceparent=incoming)),
        schema_context("acme"),
    ):
        widget_change(widget_id=uuid.uuid4(), note="untraced")
    (row,) = OutboxEvent.objects.all()
    written = row.trace_context["traceparent"]
    assert written.split("-")[1] == incoming.split("-")[1]  # the same trace
    assert written != incoming  # a span of its own in it
    assert context.TRACEPARENT_RE.fullmatch(written)


def test_probes_make_no_span(db, spans):
    client = tenant_client("acme")
    assert client.get("/health/live").status_code == 200
    assert client.get("/").status_code in {200, 302}
    served = [s for s in spans.get_finished_spans() if s.kind == SpanKind.SERVER]
    assert [s.attributes["http.url"].split("?")[0] for s in served] == ["http://acme.localhost/"]
