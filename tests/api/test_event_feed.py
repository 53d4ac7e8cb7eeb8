"""The event feed, ``GET /api/v1/events/``: a tenant's committed events in an order a poller
resumes without missing any, even when transactions commit out of position order; other
tenants' events never; 410 for a cursor behind pruning, 400 for a malformed one; who may read.

The feed serves an event only once every transaction that was running when it was written
has ended, anywhere on the server: reads that expect new events poll until they appear (other
test runs may hold a transaction open for a moment), reads that expect none read once.
"""

from __future__ import annotations

import threading
import time
import uuid
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.events.models import FeedHorizon, OutboxEvent
from apps.events.publisher import publish_many
from apps.events.services import outbox_prune
from tests.conftest import as_tenant_admin, tenant_client
from tests.eventapp.events import WidgetChanged, WidgetPriced

from .conftest import assert_problem, login_as
from .test_api_keys import bearer, make_key, staff_owner

FEED = "/api/v1/events/"
WAIT = 30.0  # seconds a poll waits for events to become readable before giving up


def commit_widgets(schema: str, *notes: str) -> list[str]:
    """One committed transaction publishing a ``testing.widget.changed`` per note; their ids."""
    with schema_context(schema), transaction.atomic():
        published = publish_many(
            [WidgetChanged(widget_id=uuid.uuid4(), version=1, note=note) for note in notes]
        )
    return [str(p.event_id) for p in published]


def read(client, **params):
    response = client.get(FEED, params)
    assert response.status_code == 200, response.content
    return response.json()


def poll(client, until, **params):
    """The feed's answer once ``until(answer)`` holds (or the last answer after ``WAIT``)."""
    deadline = time.monotonic() + WAIT
    while True:
        body = read(client, **params)
        if until(body) or time.monotonic() > deadline:
            return body
        time.sleep(0.05)


def ids(body) -> list[str]:
    return [event["id"] for event in body["results"]]


def has(*wanted):
    return lambda body: set(wanted) <= set(ids(body))


@pytest.fixture
def admin_client(live_db):
    """acme's administrator (a superuser), on committed data (the session goes afterwards)."""
    client = as_tenant_admin(tenant_client("acme"), "acme")
    yield client
    client.logout()


@pytest.fixture
def globex_admin(live_db):
    client = as_tenant_admin(tenant_client("globex"), "globex")
    yield client
    client.logout()


# -- order, envelope, resume ---------------------------------------------------------------


def test_events_come_in_order_with_their_envelope_and_resume_from_the_cursor(admin_client):
    first = commit_widgets("acme", "one", "two")
    body = poll(admin_client, has(*first))
    assert ids(body) == first
    event = body["results"][0]
    assert event["type"] == "testing.widget.changed" and event["version"] == 1
    assert event["aggregate_type"] == "widget" and event["aggregate_version"] == 1
    assert event["payload"]["note"] == "one"
    assert {"occurred_at", "position", "cursor", "correlation_id", "actor"} <= set(event)
    assert body["next"] == body["results"][-1]["cursor"]

    # Nothing new: the same cursor comes back.
    idle = read(admin_client, after=body["next"])
    assert idle == {"results": [], "next": body["next"]}

    later = commit_widgets("acme", "three")
    resumed = poll(admin_client, has(*later), after=body["next"])
    assert ids(resumed) == later

    # A small limit pages through the same order.
    paged, cursor = [], None
    while len(paged) < 3:
        page = read(admin_client, limit=1, **({"after": cursor} if cursor else {}))
        assert len(page["results"]) == 1
        paged += ids(page)
        cursor = page["next"]
    assert paged == first + later


def test_an_empty_first_read_gives_a_cursor_to_poll_with(admin_client):
    body = read(admin_client)
    assert body["results"] == [] and body["next"]
    written = commit_widgets("acme", "after the first read")
    assert ids(poll(admin_client, has(*written), after=body["next"])) == written


def test_other_tenants_events_never_appear(admin_client, globex_admin):
    theirs = commit_widgets("globex", "globex's")
    ours = commit_widgets("acme", "acme's")
    globex = globex_admin
    assert ids(poll(globex, has(*theirs))) == theirs
    assert ids(poll(admin_client, has(*ours))) == ours


def test_types_filter_by_exact_type_and_prefix(admin_client):
    changed = commit_widgets("acme", "changed")
    with schema_context("acme"), transaction.atomic():
        (priced,) = publish_many(
            [
                WidgetPriced(
                    widget_id=uuid.uuid4(), amount="1.00", currency="EUR", quantity=1, label="x"
                )
            ]
        )
    priced_id = str(priced.event_id)
    poll(admin_client, has(*changed, priced_id))
    assert ids(read(admin_client, types="testing.widget.priced")) == [priced_id]
    assert ids(read(admin_client, types="testing.*")) == [*changed, priced_id]
    assert ids(read(admin_client, types="testing.widget.changed,commerce.*")) == changed
    assert ids(read(admin_client, types="commerce.*")) == []


# -- commit order ----------------------------------------------------------------------------


class Writer(threading.Thread):
    """A transaction on its own connection: publishes when told, then commits when told."""

    def __init__(self, note: str, *, take_xid_first: bool = False) -> None:
        super().__init__(daemon=True)
        self.note = note
        self.take_xid_first = take_xid_first
        self.begun = threading.Event()
        self.publish_now = threading.Event()
        self.published = threading.Event()
        self.commit_now = threading.Event()
        self.event_id: str | None = None
        self.position: int | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with schema_context("acme"), transaction.atomic():
                if self.take_xid_first:  # as a transaction that wrote something else first
                    with connection.cursor() as cursor:
                        cursor.execute("SELECT pg_current_xact_id()")
                self.begun.set()
                assert self.publish_now.wait(WAIT)
                (published,) = publish_many(
                    [WidgetChanged(widget_id=uuid.uuid4(), version=1, note=self.note)]
                )
                self.event_id, self.position = str(published.event_id), published.position
                self.published.set()
                assert self.commit_now.wait(WAIT)
        except BaseException as error:
            self.error = error
        finally:
            self.begun.set()
            self.published.set()
            connection.close()

    def step(self, event: threading.Event, flag: threading.Event) -> None:
        flag.set()
        assert event.wait(WAIT)
        assert self.error is None, self.error


def test_an_event_that_commits_first_waits_for_an_earlier_position_still_open(admin_client):
    start = read(admin_client)["next"]
    early, late = Writer("early position"), Writer("late position")
    early.start(), late.start()
    try:
        early.step(early.published, early.publish_now)
        late.step(late.published, late.publish_now)
        assert early.position < late.position
        late.commit_now.set()
        late.join(WAIT)
        assert late.error is None, late.error
        # The later position has committed; the earlier one is still open: served alone, the
        # later one would move a poller's cursor past the earlier one for good.
        meanwhile = read(admin_client, after=start)
        assert late.event_id not in ids(meanwhile)
        early.commit_now.set()
        early.join(WAIT)
        assert early.error is None, early.error
    finally:
        for writer in (early, late):
            writer.publish_now.set(), writer.commit_now.set()
            writer.join(WAIT)
    resumed = poll(admin_client, has(early.event_id, late.event_id), after=meanwhile["next"])
    assert ids(resumed) == [early.event_id, late.event_id]


def test_an_older_transaction_writing_a_later_position_is_not_missed(admin_client):
    """The case a transaction-id filter ordered by position gets wrong: the older transaction
    (lower id, below the reader's xmin once it commits) writes position 10 after a younger
    one wrote 9 and commits first; a poller served 10 must still get 9 when it commits."""
    start = read(admin_client)["next"]
    older, younger = Writer("older", take_xid_first=True), Writer("younger")
    older.start()
    try:
        assert older.begun.wait(WAIT)
        younger.start()
        younger.step(younger.published, younger.publish_now)
        older.step(older.published, older.publish_now)
        assert younger.position < older.position
        older.commit_now.set()
        older.join(WAIT)
        assert older.error is None, older.error
        # Usually the older event is served already (its clock is below the younger one's
        # id); a transaction elsewhere on the server may hold it back too. Never the younger.
        meanwhile = read(admin_client, after=start)
        assert ids(meanwhile) in ([older.event_id], [])
        younger.commit_now.set()
        younger.join(WAIT)
        assert younger.error is None, younger.error
    finally:
        for writer in (older, younger):
            writer.publish_now.set(), writer.commit_now.set()
            if writer.ident:
                writer.join(WAIT)
    resumed = poll(admin_client, has(younger.event_id), after=meanwhile["next"])
    seen = ids(meanwhile) + ids(resumed)
    assert sorted(seen) == sorted([older.event_id, younger.event_id])  # each once
    # One order for every reader, however it polled.
    assert ids(read(admin_client, after=start)) == seen


# -- retention -------------------------------------------------------------------------------


@pytest.fixture
def horizons(live_db):
    """Pruning moves tenants' feed horizons: put them back afterwards."""
    yield
    FeedHorizon.objects.all().delete()


def test_a_cursor_behind_pruned_events_is_gone(admin_client, globex_admin, horizons):
    written = commit_widgets("acme", "a", "b", "c")
    body = poll(admin_client, has(*written))
    cursors = [event["cursor"] for event in body["results"]]
    long_ago = timezone.now() - timedelta(days=365)
    OutboxEvent.objects.filter(event_id__in=written[:2]).update(
        status="dispatched", dispatched_at=long_ago
    )
    assert outbox_prune() == 2
    assert FeedHorizon.objects.get(tenant__slug="acme").position == body["results"][1]["position"]

    gone = assert_problem(admin_client.get(FEED, {"after": cursors[0]}), 410, "feed_cursor_expired")
    assert "30 days" in gone["detail"]
    assert ids(read(admin_client, after=cursors[1])) == written[2:]
    assert ids(read(admin_client)) == written[2:]
    # Another tenant's pruning is not this tenant's horizon.
    assert read(globex_admin, after=cursors[0])["results"] == []


# -- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"after": "yesterday"}, "after"),
        ({"after": "1.2.3"}, "after"),
        ({"after": "-1.5"}, "after"),
        ({"after": "9" * 30 + ".1"}, "after"),
        ({"types": "commerce.*.created"}, "types"),
        ({"types": "Commerce.Product"}, "types"),
        ({"types": "a%"}, "types"),
        ({"limit": "0"}, "limit"),
        ({"limit": "501"}, "limit"),
        ({"limit": "many"}, "limit"),
    ],
)
def test_malformed_queries_are_400(acme_api, params, field):
    body = assert_problem(acme_api.get(FEED, params), 400)
    assert field in body["errors"], body


# -- who may read ----------------------------------------------------------------------------


@pytest.fixture
def feed_owner(acme):
    owner = staff_owner(email="feed@acme.test")
    with schema_context("acme"):
        owner.user_permissions.add(
            Permission.objects.get(content_type__app_label="events", codename="view_outboxevent")
        )
    return owner


def test_a_secret_key_with_the_scope_reads_the_feed(feed_owner, acme_client):
    _, secret = make_key(feed_owner, scopes=["events:read"])
    response = acme_client.get(FEED, **bearer(secret))
    assert response.status_code == 200, response.content


def test_a_key_without_the_scope_or_publishable_is_refused(feed_owner, acme_client):
    _, secret = make_key(feed_owner, scopes=["commerce:read", "content:read"])
    body = assert_problem(acme_client.get(FEED, **bearer(secret)), 403, "scope_missing")
    assert "events:read" in body["detail"]
    _, publishable = make_key(feed_owner, kind="publishable", scopes=[])
    assert_problem(acme_client.get(FEED, **bearer(publishable)), 403, "scope_missing")


def test_a_key_of_an_owner_without_the_permission_is_refused(acme, acme_client):
    _, secret = make_key(staff_owner(), scopes=["events:read"])
    assert_problem(acme_client.get(FEED, **bearer(secret)), 403)


def test_staff_need_the_permission_and_anonymous_requests_are_401(acme_client):
    assert_problem(acme_client.get(FEED), 401)
    login_as(acme_client, "acme", email="editor@acme.test", groups=["Editor", "Merchant"])
    assert_problem(acme_client.get(FEED), 403)
    login_as(acme_client, "acme", email="auditor@acme.test", perms=["events.view_outboxevent"])
    assert acme_client.get(FEED).status_code == 200


# -- cost ------------------------------------------------------------------------------------


@pytest.fixture
def live_feed_key(live_db):
    """A secret key with ``events:read`` of a staff user allowed to view events, committed."""
    owner = staff_owner(email="feed-live@acme.test")
    with schema_context("acme"):
        owner.user_permissions.add(
            Permission.objects.get(content_type__app_label="events", codename="view_outboxevent")
        )
    _, secret = make_key(owner, scopes=["events:read"])
    yield secret
    with schema_context("acme"):
        owner.delete()


@pytest.mark.parametrize("events", [3, 60])
def test_a_page_costs_the_same_queries_whatever_its_size(
    live_feed_key, django_assert_num_queries, events
):
    client = tenant_client("acme")
    written = commit_widgets("acme", *["n"] * events)
    headers = bearer(live_feed_key)
    poll_as = lambda: client.get(FEED, {"limit": 50, "types": "testing.*"}, **headers).json()  # noqa: E731
    deadline = time.monotonic() + WAIT
    while written[min(events, 50) - 1] not in ids(poll_as()) and time.monotonic() < deadline:
        time.sleep(0.05)
    # The key (with its owner), the owner's permissions (own and groups'), the page.
    with django_assert_num_queries(4):
        response = client.get(FEED, {"limit": 50, "types": "testing.*"}, **headers)
    assert ids(response.json()) == written[:50]
