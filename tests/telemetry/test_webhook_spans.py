"""A webhook's HTTP request (the sender's urllib3 pool) is a span of the task that sends it,
and the receiver gets that span as its parent in ``traceparent``."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context
from opentelemetry.trace import SpanKind

from apps.core import telemetry
from apps.events.relay import drain
from apps.webhooks import selectors, services
from tests.webhooks.conftest import (  # noqa: F401
    committed,
    endpoint_in,
    local_receivers_allowed,
    publish_widget,
    receiver,
    receivers,
)

from .conftest import traceparent_of

pytestmark = pytest.mark.usefixtures("committed", "local_receivers_allowed")


def test_a_webhook_request_is_a_child_of_the_sending_span(receiver, spans):  # noqa: F811
    endpoint_in("acme", receiver.url, ["testing.widget.changed"])
    publish_widget("acme")
    drain()
    with schema_context("acme"):
        (delivery,) = selectors.deliveries()
    tracer = telemetry.tracer("tests")
    with tracer.start_as_current_span("webhooks.deliver") as task, schema_context("acme"):
        outcome = services.delivery_attempt(delivery_id=delivery.pk)
    assert outcome.succeeded
    (request,) = [
        s
        for s in spans.get_finished_spans()
        if s.kind == SpanKind.CLIENT and s.attributes.get("http.method") == "POST"
    ]
    assert request.parent.span_id == task.get_span_context().span_id
    (received,) = receiver.received
    headers = {name.lower(): value for name, value in received.headers.items()}
    assert headers["traceparent"] == traceparent_of(request)
