"""Spans recorded in memory: a provider of the test's own, every library instrumented with it."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from apps.core import telemetry
from tests.events.conftest import clean_events, workers  # noqa: F401
from tests.index.support import committed_content  # noqa: F401


@pytest.fixture
def spans():
    """The finished spans of this test (``spans.get_finished_spans()``).

    Set up before the test's first request: the Django instrumentation adds its middleware
    to the settings, which a client loads on its first request.
    """
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    telemetry.instrument(provider)
    yield exporter
    telemetry.uninstrument()
    provider.shutdown()


def traceparent_of(span) -> str:
    context = span.get_span_context()
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{context.trace_flags:02x}"
