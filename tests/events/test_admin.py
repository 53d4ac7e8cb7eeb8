"""The outbox and its deliveries in the operators' admin (public domain)."""

from __future__ import annotations

import html
import re
import uuid

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from apps.core.context import Actor
from apps.events import relay
from apps.events.models import Delivery, DeliveryStatus, OutboxEvent, OutboxStatus
from tests.conftest import ADMIN_PASSWORD
from tests.eventapp.models import Effect
from tests.eventapp.services import widget_change
from tests.events.support import (
    FAILING_NOTE,
    committed_operator,
    make_dead_letters,
    publish_widgets,
)

OUTBOX = "/admin/events/outboxevent/"
DELIVERIES = "/admin/events/delivery/"


@pytest.fixture
def dead_letters(clean_events, rds, settings):
    return make_dead_letters(rds, settings)


@pytest.fixture
def live_operator(clean_events):
    with committed_operator() as client:
        yield client


def page(response) -> str:
    assert response.status_code == 200, response.content[:1000]
    return response.content.decode()


def results_table(response) -> str:
    content = page(response)
    start = content.find('id="result_list"')
    return content[start : content.find("</table>", start)] if start >= 0 else ""


# -- outbox events ------------------------------------------------------------


def test_outbox_list_shows_the_events_of_every_tenant(operator_client):
    (acme_event,) = publish_widgets("acme", "hello")
    (globex_event,) = publish_widgets("globex", "hi")
    content = page(operator_client.get(OUTBOX))
    for event in (acme_event, globex_event):
        assert f">{event.position}<" in content
        assert event.aggregate_id in content
    assert "testing.widget.changed" in content
    assert ">acme<" in content and ">globex<" in content
    assert "Pending" in content


def test_outbox_list_costs_the_same_queries_for_3_or_33_events(
    operator_client, django_assert_max_num_queries
):
    publish_widgets("acme", "a", "b")
    publish_widgets("globex", "c")
    with CaptureQueriesContext(connection) as few:
        page(operator_client.get(OUTBOX))
    publish_widgets("acme", *[f"acme-{i}" for i in range(15)])
    publish_widgets("globex", *[f"globex-{i}" for i in range(15)])
    with django_assert_max_num_queries(len(few)):
        content = page(operator_client.get(OUTBOX))
    assert content.count("testing.<wbr>widget.<wbr>changed</td>") == 33


def test_outbox_filters_by_tenant_event_type_and_status(operator_client, acme, globex):
    acme_done, acme_waiting = publish_widgets("acme", "done", "waiting")
    (globex_event,) = publish_widgets("globex", "other")
    OutboxEvent.objects.filter(pk=acme_done.pk).update(status=OutboxStatus.DISPATCHED)

    only_acme = results_table(operator_client.get(OUTBOX, {"tenant__id__exact": acme.pk}))
    assert acme_done.aggregate_id in only_acme and acme_waiting.aggregate_id in only_acme
    assert globex_event.aggregate_id not in only_acme

    dispatched = results_table(operator_client.get(OUTBOX, {"status__exact": "dispatched"}))
    assert acme_done.aggregate_id in dispatched
    assert acme_waiting.aggregate_id not in dispatched

    filters = page(operator_client.get(OUTBOX))
    assert "?event_type=testing.widget.changed" in filters
    by_type = results_table(operator_client.get(OUTBOX, {"event_type": "testing.widget.changed"}))
    assert globex_event.aggregate_id in by_type
    other_type = results_table(operator_client.get(OUTBOX, {"event_type": "tenancy.domain.added"}))
    assert globex_event.aggregate_id not in other_type


def test_an_aggregate_links_to_its_event_history(operator_client):
    first, second = publish_widgets("acme", "one", "two", widget_id=uuid.uuid4())
    (elsewhere,) = publish_widgets("acme", "three")
    detail = page(operator_client.get(f"{OUTBOX}{first.pk}/change/"))
    link = html.unescape(
        re.search(r'href="([^"]+)" title="every event of this aggregate"', detail)[1]
    )
    history = results_table(operator_client.get(link))
    assert f">{first.position}<" in history and f">{second.position}<" in history
    assert elsewhere.aggregate_id not in history


def test_outbox_search_matches_event_aggregate_and_correlation_ids(operator_client):
    target, other = publish_widgets("acme", "target", "other")
    OutboxEvent.objects.filter(pk=target.pk).update(correlation_id="req-4711")
    for term in (
        str(target.event_id),
        str(target.event_id).upper(),
        target.aggregate_id,
        "req-4711",
    ):
        found = results_table(operator_client.get(OUTBOX, {"q": term}))
        assert target.aggregate_id in found, term
        assert other.aggregate_id not in found, term
    for junk in ("nothing-like-it", "%", "' OR 1=1 --", "0" * 500):
        assert target.aggregate_id not in results_table(operator_client.get(OUTBOX, {"q": junk}))


def test_event_page_is_read_only_and_shows_escaped_pretty_json(operator_client):
    with schema_context("acme"):
        widget = widget_change(
            widget_id=uuid.uuid4(),
            note='<script>alert("x")</script> & more',
            actor=Actor("user", "7", "<i>eve</i>"),
        )
    event = OutboxEvent.objects.get(aggregate_id=str(widget.id))
    url = f"{OUTBOX}{event.pk}/change/"
    content = page(operator_client.get(url))
    assert "<script>alert" not in content and "<i>eve</i>" not in content
    text = html.unescape(content)
    assert '\n  "note": "<script>alert(\\"x\\")</script> & more",\n' in text
    assert '"label": "<i>eve</i>"' in text
    assert '"traceparent": "00-' in text
    assert 'name="_save"' not in content
    assert operator_client.get(f"{OUTBOX}add/").status_code == 403
    assert operator_client.get(f"{url.removesuffix('change/')}delete/").status_code == 403
    operator_client.post(url, {"event_type": "changed.by.hand"})
    assert OutboxEvent.objects.get(pk=event.pk).event_type == "testing.widget.changed"


def test_odd_rows_render_without_errors(operator_client):
    (event,) = publish_widgets("acme", "odd")
    OutboxEvent.objects.filter(pk=event.pk).update(
        payload=["not", "a", "dict", {"<k>": None}],
        actor="just a string",
        trace_context=[1, 2.5, True],
        aggregate_version=None,
        event_type="legacy.thing.happened",
        schema_version=99,
    )
    content = page(operator_client.get(f"{OUTBOX}{event.pk}/change/"))
    assert "&quot;just a string&quot;" in content
    assert "&quot;&lt;k&gt;&quot;: null" in content
    assert "legacy.thing.happened" in page(operator_client.get(OUTBOX))
    OutboxEvent.objects.filter(pk=event.pk).update(payload="a bare string")
    assert "&quot;a bare string&quot;" in page(operator_client.get(f"{OUTBOX}{event.pk}/change/"))


@pytest.mark.parametrize(
    "query",
    [
        f"{OUTBOX}?aggregate_id=%00",
        f"{OUTBOX}?event_type=%00",
        f"{OUTBOX}?status__exact=a%00b",
        f"{OUTBOX}?q=%00",
        f"{OUTBOX}?tenant__id__exact=abc",
        f"{OUTBOX}?o=99",
        f"{OUTBOX}abc/change/",
        f"{OUTBOX}99999999999999999999999/change/",
        f"{DELIVERIES}?handler=%00",
        f"{DELIVERIES}?tenant__id__exact=%00",
        f"{DELIVERIES}abc/change/",
    ],
)
def test_odd_query_strings_get_a_page_not_an_error(operator_client, query):
    publish_widgets("acme", "present")
    operator_client.raise_request_exception = False
    assert operator_client.get(query).status_code in (200, 302)


def test_replay_action_sends_the_selected_events_again(operator_client):
    chosen, left_alone = publish_widgets("acme", "chosen", "left alone")
    OutboxEvent.objects.update(status=OutboxStatus.DISPATCHED)
    response = operator_client.post(
        OUTBOX, {"action": "replay", "_selected_action": [chosen.pk]}, follow=True
    )
    assert "Requeued 1 event for the relay" in page(response)
    assert OutboxEvent.objects.get(pk=chosen.pk).status == OutboxStatus.PENDING
    assert OutboxEvent.objects.get(pk=chosen.pk).dispatched_at is None
    assert OutboxEvent.objects.get(pk=left_alone.pk).status == OutboxStatus.DISPATCHED


def test_an_operator_who_may_only_view_cannot_replay(public_client, django_user_model):
    viewer = django_user_model.objects.create_user("viewer", password="pw-viewer-123")
    viewer.is_staff = True
    viewer.save()
    viewer.user_permissions.add(Permission.objects.get(codename="view_outboxevent"))
    public_client.force_login(viewer)
    (event,) = publish_widgets("acme", "watched")
    OutboxEvent.objects.update(status=OutboxStatus.DISPATCHED)
    content = page(public_client.get(OUTBOX))
    assert event.aggregate_id in content
    assert "Replay selected events" not in content
    public_client.post(OUTBOX, {"action": "replay", "_selected_action": [event.pk]})
    assert OutboxEvent.objects.get(pk=event.pk).status == OutboxStatus.DISPATCHED


def test_tenant_admins_do_not_see_the_outbox(acme_client):
    response = acme_client.post(
        "/admin/login/?next=/admin/", {"username": "admin@acme.test", "password": ADMIN_PASSWORD}
    )
    assert response.status_code == 302
    assert acme_client.get(OUTBOX).status_code == 404
    assert acme_client.get(DELIVERIES).status_code == 404


def test_anonymous_visitors_are_sent_to_the_login(public_client):
    response = public_client.get(OUTBOX)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


# -- deliveries (committed: the relay makes them) ------------------------------


def test_delivery_list_shows_dead_letters_and_held_back_events(dead_letters, live_operator):
    content = results_table(live_operator.get(DELIVERIES))
    assert content.count(">test.recorder<") == 3
    assert content.count(">testing.widget.changed<") == 3
    assert "Dead letter" in content and "Held behind an earlier failure" in content
    assert ">acme<" in content and ">globex<" in content
    assert html.escape(f"InjectedFailure: always failing on {FAILING_NOTE}") in content

    only_dead = results_table(live_operator.get(DELIVERIES, {"status__exact": "dead"}))
    assert only_dead.count(">test.recorder<") == 2
    acme_only = results_table(
        live_operator.get(DELIVERIES, {"tenant__id__exact": dead_letters.acme_dead.tenant_id})
    )
    assert ">globex<" not in acme_only and acme_only.count(">test.recorder<") == 2


def test_delivery_list_costs_the_same_queries_for_more_rows(
    dead_letters, live_operator, django_assert_max_num_queries
):
    with CaptureQueriesContext(connection) as few:
        page(live_operator.get(DELIVERIES))
    publish_widgets("acme", *[FAILING_NOTE] * 6)
    publish_widgets("globex", *[FAILING_NOTE] * 6)
    relay.drain()
    assert Delivery.objects.count() == 15
    with django_assert_max_num_queries(len(few)):
        content = results_table(live_operator.get(DELIVERIES))
    assert content.count(">test.recorder<") == 15


def test_delivery_page_shows_the_error_and_traceback_preformatted(dead_letters, live_operator):
    url = f"{DELIVERIES}{dead_letters.acme_dead.pk}/change/"
    content = page(live_operator.get(url))
    escaped_note = html.escape(FAILING_NOTE)
    assert f"<pre>InjectedFailure: always failing on {escaped_note}</pre>" in content
    assert "<pre>Traceback (most recent call last):" in content
    assert f"&quot;note&quot;: &quot;{escaped_note}&quot;" in content
    assert f"{OUTBOX}{dead_letters.acme_dead.event_id}/change/" in content
    assert 'name="_save"' not in content
    assert live_operator.get(f"{DELIVERIES}add/").status_code == 403

    Delivery.objects.filter(pk=dead_letters.acme_dead.pk).update(last_error="", last_traceback="")
    OutboxEvent.objects.filter(pk=dead_letters.acme_dead.event_id).update(payload=[None])
    content = page(live_operator.get(url))
    assert '<pre class="events-json">[\n  null\n]</pre>' in content
    assert "<pre>Traceback" not in content


def test_retry_now_requeues_failed_deliveries_and_skips_held_back_ones(
    dead_letters, live_operator, rds
):
    rds.delete(f"test:always_fail:{FAILING_NOTE}")
    chosen = [dead_letters.acme_dead.pk, dead_letters.acme_blocked.pk, dead_letters.globex_dead.pk]
    response = live_operator.post(
        DELIVERIES, {"action": "requeue", "_selected_action": chosen}, follow=True
    )
    content = page(response)
    assert "Requeued 2 deliveries" in content
    assert "Skipped 1 held-back" in content
    statuses = dict(Delivery.objects.values_list("pk", "status"))
    assert statuses[dead_letters.acme_dead.pk] == DeliveryStatus.RETRY
    assert statuses[dead_letters.acme_blocked.pk] == DeliveryStatus.BLOCKED
    assert statuses[dead_letters.globex_dead.pk] == DeliveryStatus.RETRY
    assert Delivery.objects.get(pk=dead_letters.acme_dead.pk).attempts == 0

    relay.drain()
    assert not Delivery.objects.exists()
    with schema_context("acme"):
        assert Effect.objects.filter(note=FAILING_NOTE).count() == 2
    with schema_context("globex"):
        assert Effect.objects.filter(note=FAILING_NOTE).count() == 1


def test_discard_asks_first_then_drops_and_lets_the_next_event_go(dead_letters, live_operator):
    selected = {"action": "discard", "_selected_action": [dead_letters.acme_dead.pk]}
    confirmation = page(live_operator.post(DELIVERIES, selected))
    assert "Discard 1 delivery?" in confirmation
    assert "Yes, discard" in confirmation
    assert Delivery.objects.filter(pk=dead_letters.acme_dead.pk).exists()

    response = live_operator.post(DELIVERIES, {**selected, "post": "yes"}, follow=True)
    assert "Discarded 1 delivery." in page(response)
    assert not Delivery.objects.filter(pk=dead_letters.acme_dead.pk).exists()
    promoted = Delivery.objects.get(pk=dead_letters.acme_blocked.pk)
    assert promoted.status == DeliveryStatus.RETRY
    assert Delivery.objects.get(pk=dead_letters.globex_dead.pk).status == DeliveryStatus.DEAD
