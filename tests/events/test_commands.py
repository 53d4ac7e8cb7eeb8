"""The operators' commands: outbox_status, drain_outbox, replay_events, requeue_dead_letters."""

from __future__ import annotations

import json
from argparse import ArgumentTypeError
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django_tenants.utils import schema_context
from hypothesis import given
from hypothesis import strategies as st

from apps.events import relay
from apps.events.management.options import UNITS, parse_since
from apps.events.models import Delivery, DeliveryStatus, OutboxEvent, OutboxStatus
from tests.eventapp.models import Effect
from tests.events.support import FAILING_NOTE, make_dead_letters, publish_widgets

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, no_color=True)
    return out.getvalue()


def line_of(output: str, first_word: str) -> list[str]:
    for line in output.splitlines():
        words = line.split()
        if words and words[0] == first_word:
            return words
    raise AssertionError(f"no line for {first_word} in:\n{output}")


def effects(schema: str) -> int:
    with schema_context(schema):
        return Effect.objects.count()


@pytest.fixture
def dead_letters(clean_events, rds, settings):
    return make_dead_letters(rds, settings)


# -- outbox_status ---------------------------------------------------------------


def test_outbox_status_shows_the_backlog_per_tenant(db):
    publish_widgets("acme", "a", "b", "c")
    publish_widgets("globex", "d")
    OutboxEvent.objects.filter(schema_name="acme").update(
        pending_since=datetime.now(UTC) - timedelta(minutes=5, seconds=30)
    )
    output = run("outbox_status")
    assert line_of(output, "acme")[:4] == ["acme", "3", "5m", "30s"]
    assert line_of(output, "globex")[1] == "1"
    assert line_of(output, "TOTAL")[:4] == ["TOTAL", "4", "5m", "30s"]
    assert output.index("acme") < output.index("globex")  # the larger backlog first
    assert "Last dispatched: never" in output


def test_outbox_status_says_so_when_all_is_clear(db):
    assert "Nothing pending, no retries, no dead letters." in run("outbox_status")


def test_outbox_status_json_counts_backlog_and_troubles_per_tenant(dead_letters):
    publish_widgets("globex", "waiting", "waiting too")
    report = json.loads(run("outbox_status", "--json"))
    tenants = {row["tenant"]: row for row in report["tenants"]}
    assert tenants["acme"]["dead"] == 1 and tenants["acme"]["held_back"] == 1
    assert tenants["acme"]["pending"] == 0 and tenants["acme"]["oldest_pending_age_seconds"] is None
    assert tenants["globex"]["dead"] == 1 and tenants["globex"]["pending"] == 2
    assert tenants["globex"]["oldest_pending_age_seconds"] >= 0
    assert report["totals"] == {
        **report["totals"],
        "pending": 2,
        "retry": 0,
        "held_back": 1,
        "dead": 2,
    }
    dispatched = datetime.fromisoformat(report["last_dispatched_at"])
    assert (
        dispatched
        == OutboxEvent.objects.exclude(dispatched_at=None).latest("dispatched_at").dispatched_at
    )


def test_outbox_status_text_warns_about_dead_letters(dead_letters):
    output = run("outbox_status")
    assert line_of(output, "acme")[-3:] == ["0", "1", "1"]
    assert "2 dead letter(s)" in output
    assert "Last dispatched: never" not in output


# -- drain_outbox -------------------------------------------------------------------


def test_drain_outbox_relays_everything_and_sums_up(clean_events):
    publish_widgets("acme", "a", "b", "c")
    publish_widgets("globex", "d", "e")
    output = run("drain_outbox")
    assert "claimed 5, handled 5, failed 0, dead 0, held back 0" in output
    assert "per tenant (schema): acme 3, globex 2" in output
    assert "events/s" in output
    assert "more work is waiting" not in output
    assert not OutboxEvent.objects.filter(status=OutboxStatus.PENDING).exists()
    assert (effects("acme"), effects("globex")) == (3, 2)


def test_drain_outbox_stops_at_the_batch_limit_with_progress(clean_events, settings):
    settings.EVENTS = {**settings.EVENTS, "BATCH_SIZE": 2, "MAX_BATCH_SIZE": 2}
    publish_widgets("acme", "a", "b", "c", "d", "e")
    output = run("drain_outbox", "--max-batches", "2")
    progress = [line for line in output.splitlines() if line.startswith("  batch ")]
    assert [line.split(":")[0].split() for line in progress] == [["batch", "1"], ["batch", "2"]]
    assert "claimed 4, handled 4" in output
    assert "more work is waiting" in output
    assert OutboxEvent.objects.filter(status=OutboxStatus.PENDING).count() == 1
    assert "claimed 1, handled 1" in run("drain_outbox", "--time-budget", "60")


def test_drain_outbox_reports_dead_letters_and_held_back_events(clean_events, rds, settings):
    settings.EVENTS = {**settings.EVENTS, "MAX_ATTEMPTS": 1}
    rds.set(f"test:always_fail:{FAILING_NOTE}", 1)
    (first,) = publish_widgets("acme", FAILING_NOTE)
    publish_widgets("acme", FAILING_NOTE, widget_id=first.aggregate_id)
    output = run("drain_outbox")
    assert "claimed 2, handled 2, failed 1, dead 1, held back 1" in output
    assert "1 new dead letter(s)" in output


def test_drain_outbox_with_nothing_to_do(clean_events):
    assert "Nothing to drain" in run("drain_outbox")


@pytest.mark.parametrize(
    "args",
    [
        ("--time-budget", "0"),
        ("--time-budget", "soon"),
        ("--time-budget", "nan"),
        ("--max-batches", "-1"),
        ("--max-batches", "1.5"),
    ],
)
def test_drain_outbox_rejects_bad_limits(db, args):
    with pytest.raises(CommandError, match=args[0]):
        run("drain_outbox", *args)


def test_drain_outbox_refuses_to_run_inside_a_transaction(db):
    with transaction.atomic(), pytest.raises(CommandError, match="inside a transaction"):
        run("drain_outbox")


# -- replay_events ------------------------------------------------------------------


def test_replay_events_requeues_one_tenants_events_since_a_time(clean_events):
    acme_events = publish_widgets("acme", "a", "b")
    publish_widgets("globex", "c")
    relay.drain()
    output = run("replay_events", "--tenant", "acme", "--since", "1h")
    assert "Requeued 2 event(s) of tenant acme since" in output
    statuses = dict(OutboxEvent.objects.values_list("schema_name", "status").distinct())
    assert statuses == {"acme": OutboxStatus.PENDING, "globex": OutboxStatus.DISPATCHED}
    relay.drain()
    assert effects("acme") == 2  # the recorder had processed them: it skips them

    output = run(
        "replay_events", "--tenant", "acme", "--since", "1h", "--handler", "test.recorder",
        "--type", "testing.widget.changed",
    )  # fmt: skip
    assert "Requeued 2 event(s)" in output and "test.recorder will apply them again" in output
    relay.drain()
    with schema_context("acme"):
        applied = Effect.objects.values_list("event_id", flat=True)
        assert sorted(applied) == sorted([e.event_id for e in acme_events] * 2)
    assert effects("globex") == 1


def test_replay_events_dry_run_counts_by_type_and_changes_nothing(db):
    old, recent, newest = publish_widgets("acme", "old", "recent", "newest")
    publish_widgets("globex", "elsewhere")
    OutboxEvent.objects.update(status=OutboxStatus.DISPATCHED)
    OutboxEvent.objects.filter(pk=old.pk).update(occurred_at=datetime.now(UTC) - timedelta(hours=3))
    output = run("replay_events", "--tenant", "acme", "--since", "2h", "--dry-run")
    assert "Dry run: would requeue 2 event(s) of tenant acme" in output
    assert "  testing.widget.changed: 2" in output
    assert not OutboxEvent.objects.filter(status=OutboxStatus.PENDING).exists()
    assert "Requeued 2 event(s)" in run("replay_events", "--tenant", "acme", "--since", "2h")
    pending = set(
        OutboxEvent.objects.filter(status=OutboxStatus.PENDING).values_list("pk", flat=True)
    )
    assert pending == {recent.pk, newest.pk}


def test_replay_events_accepts_an_iso_time(db):
    publish_widgets("acme", "a")
    OutboxEvent.objects.update(status=OutboxStatus.DISPATCHED)
    since = (datetime.now(UTC) - timedelta(minutes=10)).isoformat()
    assert "Requeued 1 event(s)" in run("replay_events", "--tenant", "acme", "--since", since)
    assert "Requeued 0 event(s)" in run("replay_events", "--tenant", "globex", "--since", since)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--tenant", "nobody", "--since", "1h"), "unknown tenant 'nobody'"),
        (("--tenant", "Not A Slug!", "--since", "1h"), "--tenant"),
        (("--tenant", "acme", "--since", "yesterday"), "neither an ISO 8601 time"),
        (("--tenant", "acme", "--since", "2999-01-01"), "in the future"),
        (("--tenant", "acme", "--since", "1h", "--type", "no.such.type"), "unknown event type"),
        (("--tenant", "acme", "--since", "1h", "--handler", "nobody"), "unknown subscriber"),
        (("--since", "1h"), "--tenant"),
        (("--tenant", "acme"), "--since"),
    ],
)
def test_replay_events_rejects_bad_input_with_a_clear_message(db, args, message):
    publish_widgets("acme", "untouched")
    OutboxEvent.objects.update(status=OutboxStatus.DISPATCHED)
    with pytest.raises(CommandError, match=message):
        run("replay_events", *args)
    assert not OutboxEvent.objects.filter(status=OutboxStatus.PENDING).exists()


# -- requeue_dead_letters --------------------------------------------------------------


def test_requeue_dead_letters_dry_run_lists_them_and_changes_nothing(dead_letters):
    output = run("requeue_dead_letters", "--dry-run")
    assert "Dry run: would requeue 2 dead letter(s)" in output
    assert f"#{dead_letters.acme_dead.pk} acme test.recorder <- testing.widget.changed" in output
    assert f"#{dead_letters.globex_dead.pk} globex test.recorder" in output
    assert f"InjectedFailure: always failing on {FAILING_NOTE}" in output
    assert Delivery.objects.filter(status=DeliveryStatus.DEAD).count() == 2


def test_requeue_dead_letters_of_one_tenant(dead_letters, rds):
    rds.delete(f"test:always_fail:{FAILING_NOTE}")
    assert "Requeued 1 dead letter(s)." in run("requeue_dead_letters", "--tenant", "acme")
    statuses = dict(Delivery.objects.values_list("pk", "status"))
    assert statuses == {
        dead_letters.acme_dead.pk: DeliveryStatus.RETRY,
        dead_letters.acme_blocked.pk: DeliveryStatus.BLOCKED,
        dead_letters.globex_dead.pk: DeliveryStatus.DEAD,
    }
    relay.drain()
    assert effects("acme") == 2  # the dead letter, then the event held back behind it
    assert list(Delivery.objects.values_list("pk", flat=True)) == [dead_letters.globex_dead.pk]


def test_requeue_dead_letters_by_handler_and_ids(dead_letters):
    assert "Requeued 0 dead letter(s)." in run("requeue_dead_letters", "--handler", "nobody")
    output = run(
        "requeue_dead_letters", "--handler", "test.recorder",
        "--id", str(dead_letters.globex_dead.pk), str(dead_letters.acme_blocked.pk),
    )  # fmt: skip
    assert "Requeued 1 dead letter(s)." in output
    assert "1 of the 2 given id(s) are not dead letters" in output
    assert Delivery.objects.get(pk=dead_letters.globex_dead.pk).status == DeliveryStatus.RETRY
    assert Delivery.objects.get(pk=dead_letters.acme_dead.pk).status == DeliveryStatus.DEAD


def test_requeue_dead_letters_rejects_an_unknown_tenant(db):
    with pytest.raises(CommandError, match="unknown tenant 'nobody'"):
        run("requeue_dead_letters", "--tenant", "nobody")


# -- --since ----------------------------------------------------------------------------


@given(amount=st.integers(min_value=0, max_value=100_000), unit=st.sampled_from(sorted(UNITS)))
def test_relative_since_counts_back_from_now(amount, unit):
    assert parse_since(f"{amount}{unit}", now=NOW) == NOW - timedelta(**{UNITS[unit]: amount})


@given(st.datetimes(max_value=datetime(2025, 5, 31), timezones=st.just(UTC)))
def test_iso_since_round_trips(moment):
    assert parse_since(moment.isoformat(), now=NOW) == moment


@given(st.datetimes(min_value=datetime(2025, 6, 2)))
def test_a_since_in_the_future_is_refused(moment):
    with pytest.raises(ArgumentTypeError, match="in the future"):
        parse_since(moment.isoformat(), now=NOW)


@given(st.text(max_size=40))
def test_since_gives_a_time_in_the_past_or_a_clear_error(raw):
    try:
        moment = parse_since(raw, now=NOW)
    except ArgumentTypeError as error:
        assert raw in str(error)
    else:
        assert moment.tzinfo is not None and moment <= NOW


def test_discarding_the_middle_of_a_chain_keeps_the_rest_held_back(clean_events, rds, settings):
    import uuid as _uuid

    from django_tenants.utils import schema_context

    from apps.events import relay, services
    from apps.events.models import Delivery
    from tests.eventapp.services import widget_change

    settings.EVENTS = {**settings.EVENTS, "MAX_ATTEMPTS": 1}
    widget_id = _uuid.uuid4()
    with schema_context("acme"):
        for note in ("c1", "c2", "c3"):
            rds.set(f"test:always_fail:{note}", 1)
            widget_change(widget_id=widget_id, note=note)
    relay.drain()
    chain = list(Delivery.objects.order_by("position"))
    assert [d.status for d in chain] == ["dead", "blocked", "blocked"]
    services.deliveries_discard(ids=[chain[1].pk])
    assert [d.status for d in Delivery.objects.order_by("position")] == ["dead", "blocked"]
