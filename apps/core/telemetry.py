"""OpenTelemetry traces: one SDK set-up per process, and the W3C trace context of the moment.

A web process sets up at import of ``config.wsgi``/``config.asgi`` (before Django
loads its middleware, so the Django instrumentation's middleware is in it), a Celery
worker in each pool process at ``worker_process_init`` (never in the parent that
forks it: an exporter's thread does not survive a fork). Django, Celery, psycopg,
Redis, requests and urllib3 (the webhook sender) are instrumented with the same provider.

Spans leave the process through OTLP (http/protobuf) when the standard
``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``..._TRACES_ENDPOINT``) is set, and are printed
when ``OTEL_CONSOLE`` is on. With neither, nothing is set up and nothing is
recorded: events still carry a ``traceparent`` of their own making
(``apps.core.context``).

This module must never raise into a request or a handler: a collector that is down
costs dropped spans, not errors.
"""

from __future__ import annotations

import logging
import os
import socket

from django.conf import settings
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

logger = logging.getLogger(__name__)

_propagator = TraceContextTextMapPropagator()
DEFAULT_EXCLUDED_URLS = "/health/,/metrics"
# The provider this process records with (None: tracing is off here).
_provider: TracerProvider | None = None


def _instrumentors() -> list[tuple[object, dict]]:
    """The instrumentations, each with its options (imported only when tracing is set up)."""
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor
    from opentelemetry.instrumentation.requests import RequestsInstrumentor
    from opentelemetry.instrumentation.urllib3 import URLLib3Instrumentor

    # Probes and scrapes (every few seconds) would outnumber the requests.
    excluded = os.environ.get("OTEL_PYTHON_DJANGO_EXCLUDED_URLS", DEFAULT_EXCLUDED_URLS)
    return [
        (DjangoInstrumentor(), {"excluded_urls": excluded}),
        (CeleryInstrumentor(), {}),
        (PsycopgInstrumentor(), {}),
        (RedisInstrumentor(), {}),
        (RequestsInstrumentor(), {}),
        (URLLib3Instrumentor(), {}),  # the webhook sender's own pool
    ]


def instrument(provider: TracerProvider) -> None:
    """Record this process's spans with ``provider``: the libraries' and the relay's.

    Django's middleware is added to ``settings.MIDDLEWARE`` here, so this runs before a
    handler loads its middleware. ``setup()`` calls it; tests call it with a provider of
    their own (and ``uninstrument()`` after).
    """
    global _provider
    _provider = provider
    for instrumentor, options in _instrumentors():
        if not instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.instrument(tracer_provider=provider, **options)


def uninstrument() -> None:
    global _provider
    for instrumentor, _ in _instrumentors():
        if instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.uninstrument()
    _provider = None


def exporters() -> list:
    """The exporters the environment asks for: OTLP when an endpoint is set, the console."""
    found = []
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get(
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
    ):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        found.append(OTLPSpanExporter())  # endpoint, headers, timeout: from the standard env
    if settings.OTEL_CONSOLE:
        found.append(ConsoleSpanExporter())
    return found


def setup(role: str) -> TracerProvider | None:
    """Set the SDK up for this process (``role``: "web" or "worker"), once, if enabled.

    The service is named ``<OTEL_SERVICE_NAME>-<role>``. Returns the provider, or None
    when tracing is off (``OTEL_ENABLED``, or no exporter configured).
    """
    if _provider is not None:
        return _provider
    found = exporters() if settings.OTEL_ENABLED else []
    if not found:
        return None
    resource = Resource.create(
        {
            "service.name": f"{settings.OTEL_SERVICE_NAME}-{role}",
            "service.instance.id": f"{socket.gethostname()}:{os.getpid()}",
        }
    )
    provider = TracerProvider(resource=resource)
    for exporter in found:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    instrument(provider)
    logger.info("tracing on as %s-%s", settings.OTEL_SERVICE_NAME, role)
    return provider


def shutdown() -> None:
    """Flush the spans still buffered (a worker process that exits)."""
    if _provider is not None:
        _provider.shutdown()


def enabled() -> bool:
    return _provider is not None


def tracer(name: str) -> trace.Tracer:
    """A tracer of this process's provider (a no-op one when tracing is off)."""
    return trace.get_tracer(name, tracer_provider=_provider or trace.NoOpTracerProvider())


def current_traceparent() -> str | None:
    """The W3C ``traceparent`` of the span current now, when tracing is on and one is."""
    if _provider is None or not trace.get_current_span().get_span_context().is_valid:
        return None
    carrier: dict[str, str] = {}
    _propagator.inject(carrier)
    return carrier.get("traceparent")


def extract(traceparent: str | None):
    """The OTel context whose span is the one ``traceparent`` names (an empty one if none)."""
    return _propagator.extract({"traceparent": traceparent} if traceparent else {})
