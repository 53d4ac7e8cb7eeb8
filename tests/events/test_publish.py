"""publish(): validated, versioned events written in the caller's transaction, and nowhere else."""

import uuid
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test import Client
from django_tenants.utils import schema_context
from hypothesis import given
from hypothesis import strategies as st

from apps.core import context
from apps.events import publisher
from apps.events.errors import EventValidationError, PublishOutsideTransaction, UnknownEventType
from apps.events.models import OutboxEvent
from apps.events.publisher import publish, publish_many
from apps.events.schema import load, upcast
from apps.tenancy.errors import TenantRequired
from tests.eventapp.events import WidgetChanged, WidgetPriced, WidgetStatusChanged
from tests.eventapp.models import Widget
from tests.eventapp.services import widget_change

NIL = uuid.UUID(int=0)


def _priced(**overrides):
    values = {
        "widget_id": uuid.uuid4(), "amount": Decimal("9.99"), "currency": "EUR",
        "quantity": 3, "label": "spring sale",
    }  # fmt: skip
    return WidgetPriced(**{**values, **overrides})


# -- transactions ---------------------------------------------------------------


def test_commit_leaves_exactly_one_row_per_event(acme):
    widget_id = uuid.uuid4()
    with schema_context("acme"):
        widget_change(widget_id=widget_id, note="first")
        widget_change(widget_id=widget_id, note="second")
    rows = list(OutboxEvent.objects.filter(aggregate_id=str(widget_id)).order_by("position"))
    assert [(r.event_type, r.aggregate_version, r.payload["note"]) for r in rows] == [
        ("testing.widget.changed", 1, "first"),
        ("testing.widget.changed", 2, "second"),
    ]
    assert rows[0].tenant_id == acme.pk and rows[0].schema_name == "acme"
    assert rows[0].status == "pending"


def test_rollback_leaves_no_row(acme):
    widget_id = uuid.uuid4()
    with schema_context("acme"), pytest.raises(RuntimeError, match="boom"), transaction.atomic():
        widget_change(widget_id=widget_id, note="doomed")
        raise RuntimeError("boom")
    assert not OutboxEvent.objects.filter(aggregate_id=str(widget_id)).exists()
    with schema_context("acme"):
        assert not Widget.objects.filter(id=widget_id).exists()


def test_publish_outside_a_transaction_raises(clean_events):
    event = WidgetChanged(widget_id=uuid.uuid4(), version=1, note="x")
    with schema_context("acme"), pytest.raises(PublishOutsideTransaction):
        publish(event)
    assert not OutboxEvent.objects.exists()


def test_publish_needs_a_tenant(db):
    with pytest.raises(TenantRequired), transaction.atomic():
        publish(WidgetChanged(widget_id=uuid.uuid4(), version=1, note="x"))


def test_publish_many_writes_in_the_order_given_across_chunks(clean_events, monkeypatch):
    monkeypatch.setattr(publisher, "MANY_CHUNK", 4)
    widget_id = uuid.uuid4()
    events = [WidgetChanged(widget_id=widget_id, version=n, note=f"n{n}") for n in range(1, 11)]
    with schema_context("acme"), transaction.atomic():
        published = publish_many(events)
    rows = list(OutboxEvent.objects.filter(aggregate_id=str(widget_id)).order_by("position"))
    assert [row.aggregate_version for row in rows] == list(range(1, 11))
    assert [p.position for p in published] == [row.position for row in rows]
    assert [p.event_id for p in published] == [row.event_id for row in rows]


def test_publish_many_outside_a_transaction_writes_nothing(clean_events):
    widget_id = uuid.uuid4()
    good = WidgetChanged(widget_id=widget_id, version=1, note="fine")
    with schema_context("acme"), pytest.raises(PublishOutsideTransaction):
        publish_many([good])
    assert not OutboxEvent.objects.filter(aggregate_id=str(widget_id)).exists()


def test_invalid_event_aborts_the_callers_transaction(acme):
    widget_id = uuid.uuid4()
    with schema_context("acme"), pytest.raises(EventValidationError), transaction.atomic():
        Widget.objects.create(id=widget_id)
        publish(WidgetChanged(widget_id=widget_id, version=0, note="x"))
    with schema_context("acme"):
        assert not Widget.objects.filter(id=widget_id).exists()


# -- validation rules -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: WidgetChanged(widget_id=NIL, version=1, note="x"), "widget_id"),
        (lambda: WidgetChanged(widget_id="not-a-uuid", version=1, note="x"), "widget_id"),
        (lambda: WidgetChanged(widget_id=uuid.uuid4(), version=1, note=""), "note"),
        (lambda: WidgetChanged(widget_id=uuid.uuid4(), version=1, note="   "), "note"),
        (lambda: WidgetChanged(widget_id=uuid.uuid4(), version=1, note="x" * 256), "note"),
        (lambda: WidgetChanged(widget_id=uuid.uuid4(), version=0, note="x"), "version"),
        (lambda: WidgetChanged(widget_id=uuid.uuid4(), version=1, note="x", extra=1), "extra"),
        (lambda: _priced(currency="EURO"), "currency"),
        (lambda: _priced(currency="XXY"), "currency"),
        (lambda: _priced(amount=Decimal("-0.01")), "amount"),
        (lambda: _priced(quantity=-1), "quantity"),
        (lambda: _priced(label="y" * 41), "label"),
        (
            lambda: WidgetStatusChanged(
                widget_id=uuid.uuid4(), from_status="draft", to_status="draft"
            ),
            "to_status",
        ),
    ],
)
def test_each_rule_rejects_its_bad_input_naming_the_field(build, field):
    with pytest.raises(EventValidationError) as caught:
        build()
    assert caught.value.field == field
    assert caught.value.event_type.startswith("testing.widget.")
    assert field in str(caught.value)


def test_valid_events_normalize():
    priced = _priced(currency=" usd ")
    assert priced.currency == "USD"
    changed = WidgetStatusChanged(
        widget_id=uuid.uuid4(), from_status="draft", to_status="published"
    )
    assert changed.to_status == "published"


def test_mutating_a_validated_event_is_impossible():
    event = WidgetChanged(widget_id=uuid.uuid4(), version=1, note="x")
    with pytest.raises(Exception, match="frozen"):
        event.note = ""


def test_an_event_cannot_be_built_without_validation():
    # pydantic's two ways around validation validate for events: publish() trusts its input.
    with pytest.raises(EventValidationError, match="widget_id"):
        WidgetChanged.model_construct(widget_id=NIL, version=1, note="x")
    event = WidgetChanged(widget_id=uuid.uuid4(), version=1, note="x")
    with pytest.raises(EventValidationError, match="version"):
        event.model_copy(update={"version": 0})
    later = event.model_copy(update={"version": 2, "note": "  trimmed  "})
    assert (later.widget_id, later.version, later.note) == (event.widget_id, 2, "trimmed")
    assert event.model_copy() == event


def test_publish_stores_the_payload_as_validation_normalizes_it(acme):
    widget_id = uuid.uuid4()
    unchecked = WidgetPriced.model_construct(
        widget_id=widget_id, amount=Decimal("9.99"), currency=" usd ", quantity=3, label="x"
    )
    with schema_context("acme"), transaction.atomic():
        publish(unchecked)
    stored = OutboxEvent.objects.get(aggregate_id=str(widget_id))
    assert stored.payload["currency"] == "USD"


@given(st.text(max_size=300))
def test_text_fields_accept_only_bounded_non_empty_strings(note):
    try:
        event = WidgetChanged(widget_id=uuid.uuid4(), version=1, note=note)
    except EventValidationError as exc:
        assert exc.field == "note"
        assert not note.strip() or len(note.strip()) > 255
    else:
        assert 1 <= len(event.note) <= 255


# -- versions ------------------------------------------------------------------------------


def test_upcaster_turns_a_stored_v1_payload_into_v2():
    v1 = {"tenant_id": 7, "slug": "old-shop", "name": "Old Shop", "version": 1}
    version, payload = upcast("tenancy.tenant.created", 1, v1)
    assert version == 2
    assert payload == {**v1, "default_locale": "en"}
    event = load("tenancy.tenant.created", 1, v1)
    assert event.default_locale == "en" and event.schema_version == 2
    assert v1 == {"tenant_id": 7, "slug": "old-shop", "name": "Old Shop", "version": 1}


def test_current_version_round_trips_unchanged():
    payload = {"tenant_id": 7, "slug": "s", "name": "S", "default_locale": "de", "version": 3}
    assert load("tenancy.tenant.created", 2, payload).payload() == payload


def test_unknown_types_and_versions_are_permanent_errors():
    with pytest.raises(UnknownEventType):
        load("testing.nothing.happened", 1, {})
    with pytest.raises(UnknownEventType):
        upcast("testing.widget.changed", 0, {})


# -- envelope --------------------------------------------------------------------------


def test_envelope_fields(acme, django_user_model):
    parent = context.new_traceparent()
    with schema_context("acme"):
        user = django_user_model.objects.get(username="admin@acme.test")
        with context.use(context.EventContext(correlation_id="req-42", traceparent=parent)):
            widget_change(widget_id=uuid.uuid4(), note="enveloped", actor=user)
            widget_change(widget_id=uuid.uuid4(), note="enveloped too", actor=user)
    row, other = OutboxEvent.objects.filter(payload__note__startswith="enveloped").order_by(
        "position"
    )
    assert row.event_id.version == 7
    assert row.schema_version == 1
    assert row.aggregate_type == "widget" and row.aggregate_version == 1
    assert row.actor == {"kind": "user", "id": str(user.pk), "label": "admin@acme.test"}
    assert row.correlation_id == "req-42"
    assert row.causation_id is None
    # Each event is a new span in the request's trace.
    spans = [r.trace_context["traceparent"].split("-") for r in (row, other)]
    trace_id = parent.split("-")[1]
    assert [(s[0], s[1], s[3]) for s in spans] == [("00", trace_id, "01")] * 2
    assert len({s[2] for s in spans} | {parent.split("-")[2]}) == 3
    # The statement's time: the row occurred and became pending at once, in the database.
    assert row.occurred_at == row.pending_since
    assert row.occurred_at < other.occurred_at
    assert 0 < row.feed_clock <= other.feed_clock


def test_the_insert_is_seen_by_query_counts_and_survives_a_new_connection(
    clean_events, django_assert_num_queries
):
    # publish() keeps its cursor per connection: one made while queries went unlogged must not
    # hide the INSERT from a count, and a reconnect must not leave it on the old connection.
    widget_id = uuid.uuid4()
    events = [WidgetChanged(widget_id=widget_id, version=n, note=f"cursor {n}") for n in (1, 2, 3)]
    with schema_context("acme"):
        with transaction.atomic():
            publish(events[0])
        connection.close()
        with transaction.atomic():
            publish(events[1])
        with django_assert_num_queries(3) as captured, transaction.atomic():
            publish(events[2])
        statements = [query["sql"].split()[0] for query in captured.captured_queries]
        assert statements == ["BEGIN", "INSERT", "COMMIT"]
    rows = OutboxEvent.objects.filter(aggregate_id=str(widget_id)).order_by("position")
    assert [row.aggregate_version for row in rows] == [1, 2, 3]


def test_event_ids_are_time_ordered(acme):
    with schema_context("acme"):
        for n in range(5):
            widget_change(widget_id=uuid.uuid4(), note=f"ordered-{n}")
    ids = list(
        OutboxEvent.objects.filter(payload__note__startswith="ordered-")
        .order_by("position")
        .values_list("event_id", flat=True)
    )
    assert ids == sorted(ids)


def test_request_id_is_taken_from_the_header_and_returned(acme):
    response = Client(HTTP_HOST="acme.localhost").get("/", HTTP_X_REQUEST_ID="abc-123")
    assert response["X-Request-ID"] == "abc-123"
    generated = Client(HTTP_HOST="acme.localhost").get("/", HTTP_X_REQUEST_ID="bad id\n")
    assert generated["X-Request-ID"] != "bad id\n"
    assert uuid.UUID(generated["X-Request-ID"])
