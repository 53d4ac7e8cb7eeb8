"""Through a real Celery worker: its handler spans reach an OTLP collector as children of the
request that wrote their events."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.trace import SpanKind

from apps.core import logs
from apps.events.models import OutboxEvent
from tests.conftest import as_tenant_admin, tenant_client
from tests.events.conftest import wait_for

pytestmark = pytest.mark.integration


class Collector:
    """A local OTLP/HTTP receiver (the outside system): the spans it was sent, by resource."""

    def __init__(self) -> None:
        self.spans: list[tuple[str, object]] = []
        received = self.spans

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                request = ExportTraceServiceRequest.FromString(body)
                for resource_spans in request.resource_spans:
                    service = next(
                        a.value.string_value
                        for a in resource_spans.resource.attributes
                        if a.key == "service.name"
                    )
                    for scope_spans in resource_spans.scope_spans:
                        received.extend((service, span) for span in scope_spans.spans)
                reply = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def collector():
    made = Collector()
    yield made
    made.close()


def test_a_workers_handler_spans_continue_the_requests_trace(
    committed_content, workers, collector, spans
):
    worker = workers.start(
        LOG_FORMAT="json",
        OTEL_EXPORTER_OTLP_ENDPOINT=collector.url,
        OTEL_SERVICE_NAME="traced",
        OTEL_BSP_SCHEDULE_DELAY="100",
    )
    client = as_tenant_admin(tenant_client("acme"))
    response = client.post(
        "/api/v1/posts/",
        {"translations": {"en": {"title": "Far"}}},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    (server,) = [s for s in spans.get_finished_spans() if s.kind == SpanKind.SERVER]
    event_ids = {str(row.event_id) for row in OutboxEvent.objects.all()}
    assert event_ids

    def handler_spans():
        found = {}
        for service, span in list(collector.spans):
            attributes = {a.key: a.value for a in span.attributes}
            if span.name.startswith("handle ") and "event.id" in attributes:
                found.setdefault(attributes["event.id"].string_value, []).append((service, span))
        return found if event_ids <= found.keys() else None

    handled = wait_for(handler_spans, message=workers.logs)
    for event_id in event_ids:
        for service, span in handled[event_id]:
            assert service == "traced-worker"
            assert span.trace_id == server.context.trace_id.to_bytes(16, "big")
            assert span.parent_span_id == server.context.span_id.to_bytes(8, "big")

    # The worker's own log lines (Celery's handlers) are JSON with the context fields too:
    # a task's lines name the trace of the task's span.
    def task_lines() -> list[dict]:
        lines = [json.loads(line) for line in workers.log(worker).splitlines() if line[:1] == "{"]
        return [line for line in lines if line["logger"] == "celery.app.trace"]

    tasks = wait_for(task_lines, message=workers.logs)
    assert all(set(logs.CONTEXT_FIELDS) <= line.keys() for line in tasks)
    assert all(line["trace_id"] for line in tasks)
