"""Log lines as JSON with their context (tenant, request, correlation, trace, user by id), and
never an email address or a secret."""

from __future__ import annotations

import io
import json
import logging
import string
import uuid

import pytest
from django.contrib.auth import get_user_model
from django_tenants.utils import schema_context
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.provisional import domains
from opentelemetry.trace import SpanKind

from apps.core import context, logs
from apps.events import registry
from apps.events.relay import drain
from tests.conftest import TEST_TENANTS
from tests.eventapp.services import widget_change

EMAIL = "jane.doe@example.com"
logger = logging.getLogger("tests.telemetry")


@pytest.fixture
def json_lines():
    """The console handler of ``LOGGING`` writing JSON into a buffer: its lines, parsed."""
    (console,) = [h for h in logging.getLogger().handlers if h.name == "console"]
    buffer = io.StringIO()
    stream, formatter = console.setStream(buffer), console.formatter
    console.setFormatter(logs.JsonFormatter())

    def lines() -> list[dict]:
        return [json.loads(line) for line in buffer.getvalue().splitlines()]

    lines.raw = buffer.getvalue
    yield lines
    console.setStream(stream)
    console.setFormatter(formatter)


def _admin(slug: str = "acme"):
    with schema_context(slug):
        return get_user_model().objects.get(username=TEST_TENANTS[slug][1])


def test_a_requests_log_line_names_its_tenant_request_trace_and_user(acme_api, spans, json_lines):
    path = f"/api/v1/posts/{uuid.uuid4()}/?ref={EMAIL}"
    response = acme_api.get(path, HTTP_X_REQUEST_ID="req-42")
    assert response.status_code == 404
    (line,) = [line for line in json_lines() if line["logger"] == "django.request"]
    (server,) = [s for s in spans.get_finished_spans() if s.kind == SpanKind.SERVER]
    assert line["level"] == "WARNING"
    assert line["tenant"] == "acme"
    assert line["request_id"] == line["correlation_id"] == "req-42"
    assert line["trace_id"] == format(server.context.trace_id, "032x")
    assert line["span_id"] == format(server.context.span_id, "016x")
    assert line["user"] == str(_admin().pk)
    assert "time" in line and line["message"].startswith("Not Found: /api/v1/posts/")
    # Django hands the request over as an extra: its text (the full path) is masked.
    assert "ref=[email]" in line["request"]
    assert EMAIL not in json_lines.raw() and TEST_TENANTS["acme"][1] not in json_lines.raw()


def test_a_handlers_log_line_names_its_event_context_and_masks_secrets(
    clean_events, monkeypatch, json_lines
):
    # A subscriber of this test only: the registry is restored after it.
    monkeypatch.setattr(registry, "_subscribers", dict(registry._subscribers))
    monkeypatch.setattr(registry, "_by_type", {})

    def tell(event) -> None:
        logger.warning(
            "mailing %s, password=%s", EMAIL, "hunter2",
            extra={"api_key": "k-123", "to": [EMAIL], "event_id": str(event.event_id)},
        )  # fmt: skip

    registry.subscribe("test.log_teller", "testing.widget.changed", tell)
    admin = _admin()
    incoming = context.new_traceparent()
    with (
        context.use(context.EventContext(correlation_id="corr-7", traceparent=incoming)),
        schema_context("acme"),
    ):
        widget_change(widget_id=uuid.uuid4(), note="logged", actor=admin)
    drain()

    (line,) = [line for line in json_lines() if line["logger"] == "tests.telemetry"]
    assert line["tenant"] == "acme"
    assert line["correlation_id"] == "corr-7"
    assert line["request_id"] is None
    assert line["user"] == str(admin.pk)
    assert line["trace_id"] == incoming.split("-")[1]
    assert line["message"] == "mailing [email], password=***"
    assert line["api_key"] == "***"
    assert line["to"] == ["[email]"]
    raw = json_lines.raw()
    assert EMAIL not in raw and "hunter2" not in raw and "k-123" not in raw


def test_a_traceback_is_masked_too(db, json_lines):
    try:
        raise ValueError(f"cannot reach {EMAIL} with token=s3cr3t-value")
    except ValueError:
        logger.exception("delivery failed")
    (line,) = [line for line in json_lines() if line["logger"] == "tests.telemetry"]
    assert "ValueError: cannot reach [email] with token=***" in line["exc_info"]
    assert line["tenant"] == "public" and line["user"] is None
    assert EMAIL not in json_lines.raw() and "s3cr3t-value" not in json_lines.raw()


def test_plain_lines_are_masked_as_well(db, caplog):
    record = logging.makeLogRecord(
        {"msg": "reset for %s", "args": (EMAIL,), "levelno": logging.INFO, "cookie": "abc"}
    )
    assert logs.RedactFilter().filter(record)
    assert logs.ContextFilter().filter(record)
    text = logs.PlainFormatter("%(message)s %(tenant)s").format(record)
    assert text == "reset for [email] public"
    assert record.cookie == logs.MASK


# Addresses as people have them: a local part of letters, digits and "._%+-", any domain.
ADDRESSES = st.builds(
    "{}@{}".format, st.from_regex(r"[A-Za-z0-9._%+-]{1,30}", fullmatch=True), domains()
)


@given(
    email=ADDRESSES,
    key=st.sampled_from(["password", "api_key", "Authorization", "X-Api-Key", "token", "secret"]),
    value=st.text(alphabet=string.ascii_letters + string.digits + "-_.~+/", min_size=1),
    sep=st.sampled_from(["=", ": ", '": "', "='"]),
)
def test_no_email_or_secret_value_survives_redaction(email, key, value, sep):
    text = f"mail to {email} failed; {key}{sep}{value} was refused"
    masked = logs.redact_text(text)
    assert email not in masked
    assert f"{key}{sep}{logs.MASK}" in masked
    assert masked.startswith("mail to ") and masked.endswith(" was refused")
