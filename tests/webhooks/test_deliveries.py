"""Deliveries made from the outbox, signed, retried, recorded; the breaker; redelivery.

Committed data: the relay runs its subscribers as a worker would (``drain()``), and each
attempt is made by the service the webhook worker's task calls. Time is moved by moving
a delivery's ``next_attempt_at``, never by sleeping.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from apps.events.models import OutboxEvent
from apps.tenancy.models import DueWork, Tenant
from apps.webhooks import selectors, services
from apps.webhooks.models import WebhookDelivery
from tests.conftest import as_tenant_admin, tenant_client

from .conftest import endpoint_in, publish_widget, relay

pytestmark = pytest.mark.usefixtures("committed")

EVENT = "testing.widget.changed"


def deliveries(schema: str = "acme") -> list:
    with schema_context(schema):
        return list(selectors.deliveries().order_by("pk"))


def attempt(delivery, schema: str = "acme"):
    with schema_context(schema):
        return services.delivery_attempt(delivery_id=delivery.pk)


def make_due(delivery, schema: str = "acme") -> None:
    """Move the next attempt into the past: the retry's time has come."""
    with schema_context(schema):
        type(delivery).objects.filter(pk=delivery.pk).update(
            next_attempt_at=timezone.now() - timedelta(seconds=1)
        )


def reload(delivery, schema: str = "acme"):
    with schema_context(schema):
        delivery.refresh_from_db()
        return delivery


def test_an_event_reaches_the_receiver_signed_as_standard_webhooks_says(receiver):
    _, secret = endpoint_in("acme", receiver.url, [EVENT], description="Shop sync")
    widget = publish_widget("acme", "hello")
    relay()
    (delivery,) = deliveries()

    outcome = attempt(delivery)

    assert outcome.status_code == 200
    (request,) = receiver.received
    assert request.path == "/hooks?source=platform"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"].startswith("PlatformWebhooks/")
    # Verified as a receiver would, with the library of the standard.
    body = Webhook(secret).verify(request.body, request.headers)
    event = OutboxEvent.objects.get(aggregate_id=str(widget.id))
    assert request.headers["webhook-id"] == f"msg_{event.event_id.hex}"
    assert body["id"] == str(event.event_id)
    assert body["type"] == EVENT
    assert body["version"] == event.schema_version
    assert body["aggregate"] == {"type": event.aggregate_type, "id": str(widget.id), "version": 1}
    assert body["payload"]["note"] == "hello"
    assert body["occurred_at"].endswith("Z")
    # Another secret does not verify it.
    with pytest.raises(WebhookVerificationError):
        Webhook(services.signing.secret_new()).verify(request.body, request.headers)
    delivery = reload(delivery)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 200)
    with schema_context("acme"):
        (logged,) = selectors.attempts(delivery.pk)
    assert (logged.status_code, logged.succeeded, logged.response_excerpt) == (200, True, "ok")


def test_a_rolled_back_write_makes_no_delivery(receiver):
    endpoint_in("acme", receiver.url)
    with pytest.raises(RuntimeError), schema_context("acme"), transaction.atomic():
        publish_widget("acme", "never committed")
        raise RuntimeError("the write fails after publishing")
    relay()
    assert OutboxEvent.objects.count() == 0
    assert deliveries() == []


def test_one_delivery_per_matching_endpoint_even_when_the_relay_delivers_the_event_twice(
    receivers,
):
    everything, _ = endpoint_in("acme", receivers().url, ["*"])
    testing, _ = endpoint_in("acme", receivers().url, ["testing.*"])
    endpoint_in("acme", receivers().url, ["commerce.*"])  # another module's events only
    endpoint_in("acme", receivers().url, ["*"], is_active=False)
    endpoint_in("globex", receivers().url, ["*"])  # another tenant's
    publish_widget("acme")
    relay()
    made = deliveries()
    assert sorted(d.endpoint_id for d in made) == sorted([everything.pk, testing.pk])
    assert deliveries("globex") == []

    # The relay hands the event over again (a reclaimed lease, a replayed dead letter):
    OutboxEvent.objects.update(status="pending", dispatched_at=None)
    relay()
    assert [d.pk for d in deliveries()] == [d.pk for d in made]
    # And the subscriber itself, run twice on the same event, makes no second row.
    from apps.events.envelope import ENVELOPE_COLUMNS, StoredEvent

    row = OutboxEvent.objects.values(*ENVELOPE_COLUMNS).get()
    with schema_context("acme"):
        assert services.deliveries_create_for_event(StoredEvent.from_row(row)) == []
    assert len(deliveries()) == 2


def test_the_subscriber_costs_one_query_per_event_for_a_tenant_without_endpoints(
    django_assert_num_queries,
):
    from apps.events.envelope import ENVELOPE_COLUMNS, StoredEvent

    publish_widget("globex")
    event = StoredEvent.from_row(OutboxEvent.objects.values(*ENVELOPE_COLUMNS).get())

    def make(url: str, types: list[str]) -> None:
        services.endpoint_create(url=url, event_types=types)
        with connection.cursor() as cursor:  # the schema switch (the relay's, done already)
            cursor.execute("SELECT 1")

    with schema_context("globex"):
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        with django_assert_num_queries(1):
            assert services.deliveries_create_for_event(event) == []
        # With endpoints of which none wants the event: the same one read.
        make("http://127.0.0.1:9/in", ["commerce.*"])
        with django_assert_num_queries(1):
            assert services.deliveries_create_for_event(event) == []
        # Some want it: one insert and the sweep's due-work mark more, however many they are.
        make("http://127.0.0.1:9/a", ["testing.*"])
        make("http://127.0.0.1:9/b", ["*"])
        with django_assert_num_queries(3):
            assert len(services.deliveries_create_for_event(event)) == 2


def test_in_one_transaction_the_endpoints_are_read_once_and_a_change_is_seen(
    django_assert_num_queries,
):
    """The relay runs a tenant's events of a batch in one transaction: they share one read of
    the endpoints. An endpoint written in that transaction is read again."""
    from apps.events.envelope import ENVELOPE_COLUMNS, StoredEvent

    for note in ("one", "two", "three"):
        publish_widget("globex", note)
    events = [
        StoredEvent.from_row(row)
        for row in OutboxEvent.objects.order_by("position").values(*ENVELOPE_COLUMNS)
    ]
    with schema_context("globex"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")  # the schema switch (the relay's, done already)
        with django_assert_num_queries(1):
            for event in events:
                assert services.deliveries_create_for_event(event) == []
        services.endpoint_create(url="http://127.0.0.1:9/in", event_types=["testing.*"])
        # One read, one insert per event, one due-work mark for them all.
        with django_assert_num_queries(2 + len(events)):
            for event in events:
                assert len(services.deliveries_create_for_event(event)) == 1
        transaction.set_rollback(True)
    # Another transaction reads again: what it holds is not the rolled-back endpoint.
    with schema_context("globex"), transaction.atomic():
        assert services.deliveries_create_for_event(events[0]) == []


@transaction.atomic
def _deliveries_in_a_transaction(event) -> list[int]:
    # Decorated: every call enters the same atomic block object, each a new transaction.
    return services.deliveries_create_for_event(event)


def test_a_transaction_entered_through_the_same_atomic_block_reads_and_marks_anew():
    """What one transaction remembers (the endpoints, the sweep's mark) is not taken for
    another's, even when both enter the same atomic block object."""
    from apps.events.envelope import ENVELOPE_COLUMNS, StoredEvent

    def event(note: str) -> StoredEvent:
        publish_widget("globex", note)
        row = OutboxEvent.objects.filter(payload__note=note).values(*ENVELOPE_COLUMNS).get()
        return StoredEvent.from_row(row)

    globex = Tenant.objects.get(slug="globex")
    sweep = DueWork.objects.filter(tenant=globex, kind="webhooks.sweep")
    with schema_context("globex"):
        assert _deliveries_in_a_transaction(event("first")) == []  # no endpoint yet
    # An endpoint made meanwhile by another process (here: another thread's connection).
    made = threading.Thread(target=endpoint_in, args=("globex", "http://127.0.0.1:9/in"))
    made.start()
    made.join()
    with schema_context("globex"):
        assert len(_deliveries_in_a_transaction(event("second"))) == 1
    assert sweep.exists()
    sweep.delete()  # a sweep's visit settled it
    with schema_context("globex"):
        assert len(_deliveries_in_a_transaction(event("third"))) == 1
    assert sweep.exists()  # this transaction's delivery is marked again


@pytest.mark.parametrize("count", [2, 12])
def test_a_relay_batch_writes_all_its_deliveries_with_one_statement(
    count, django_assert_num_queries
):
    """The batch function: one read of the endpoints, one insert for every (endpoint, event)
    pair, one due-work mark, whatever the number of events; in the events' order."""
    from apps.events.envelope import ENVELOPE_COLUMNS, StoredEvent

    for number in range(count):
        publish_widget("globex", f"note {number}")
    events = [
        StoredEvent.from_row(row)
        for row in OutboxEvent.objects.order_by("position").values(*ENVELOPE_COLUMNS)
    ]
    with schema_context("globex"):
        first, _ = services.endpoint_create(url="http://127.0.0.1:9/a", event_types=["testing.*"])
        second, _ = services.endpoint_create(url="http://127.0.0.1:9/b", event_types=["*"])
        services.endpoint_create(url="http://127.0.0.1:9/c", event_types=["commerce.*"])
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")  # the schema switch (the relay's, done already)
            with django_assert_num_queries(3):
                created = services.deliveries_create_for_events(events)
            made = list(WebhookDelivery.objects.filter(pk__in=created).order_by("pk"))
            # Again in this transaction (a replayed batch): the endpoints are known, the insert
            # makes nothing, and nothing is marked.
            with django_assert_num_queries(1):
                assert services.deliveries_create_for_events(events) == []
    assert [(d.event_id, d.endpoint_id) for d in made] == [
        (event.event_id, endpoint.pk) for event in events for endpoint in (first, second)
    ]
    assert {d.payload["id"] for d in made} == {str(event.event_id) for event in events}


def test_failures_are_retried_with_backoff_and_every_attempt_is_recorded(receiver, settings):
    receiver.answers = [500, 503]
    receiver.body = b"x" * 5000
    endpoint_in("acme", receiver.url)
    publish_widget("acme")
    relay()
    (delivery,) = deliveries()

    before = timezone.now()
    assert attempt(delivery).status_code == 500
    delivery = reload(delivery)
    assert delivery.status == "pending"
    # About 5 s later (the schedule's first step, with 20 % jitter).
    assert before + timedelta(seconds=3.9) <= delivery.next_attempt_at
    assert delivery.next_attempt_at <= timezone.now() + timedelta(seconds=6.1)
    assert attempt(delivery) is None  # not due yet: nothing is sent
    assert len(receiver.received) == 1

    make_due(delivery)
    before = timezone.now()
    assert attempt(delivery).status_code == 503
    delivery = reload(delivery)
    assert before + timedelta(seconds=23.9) <= delivery.next_attempt_at  # about 30 s
    assert delivery.next_attempt_at <= timezone.now() + timedelta(seconds=36.1)

    make_due(delivery)
    assert attempt(delivery).status_code == 200
    delivery = reload(delivery)
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("delivered", 3, None)
    with schema_context("acme"):
        log = list(selectors.attempts(delivery.pk))
    assert [a.status_code for a in log] == [500, 503, 200]
    assert all(len(a.response_excerpt) == 1024 for a in log)
    # Every attempt carried the same webhook-id.
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 1


def test_a_delivery_fails_after_the_last_step_of_the_schedule(receiver, settings):
    settings.WEBHOOKS = {**settings.WEBHOOKS, "BREAKER_FAILURES": 100}
    steps = len(settings.WEBHOOKS["RETRY_SCHEDULE_SECONDS"])
    receiver.answers = [500] * (steps + 1)
    endpoint_in("acme", receiver.url)
    publish_widget("acme")
    relay()
    (delivery,) = deliveries()
    delays = []
    for _ in range(steps):
        before = timezone.now()
        attempt(delivery)
        delivery = reload(delivery)
        assert delivery.status == "pending"
        delays.append((delivery.next_attempt_at - before).total_seconds())
        make_due(delivery)
    attempt(delivery)
    delivery = reload(delivery)
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("failed", 9, None)
    # Growing delays, up to about 12 hours: about a day in all.
    assert delays == sorted(delays)
    assert 0.8 * 12 * 3600 <= delays[-1] <= 1.2 * 12 * 3600
    assert 0.8 * 86400 <= sum(delays) <= 1.2 * 86400


def test_an_endpoint_that_keeps_failing_is_disabled_and_the_administrators_are_told(
    receiver, settings, mailoutbox
):
    settings.WEBHOOKS = {**settings.WEBHOOKS, "BREAKER_FAILURES": 3}
    receiver.answers = [500] * 10
    endpoint, _ = endpoint_in("acme", receiver.url, description="ERP bridge")
    publish_widget("acme", "one")
    publish_widget("acme", "two")
    relay()
    first, second = deliveries()
    attempt(first)
    attempt(second)
    make_due(first)
    assert mailoutbox == []
    attempt(first)  # the third failure in a row

    with schema_context("acme"):
        endpoint.refresh_from_db()
    assert not endpoint.is_active
    assert "3 attempts in a row failed" in endpoint.disabled_reason
    (mail,) = mailoutbox
    assert mail.to == ["admin@acme.test"]
    assert "ERP bridge" in mail.subject and receiver.url in mail.body
    # No more requests to it: the pending delivery fails without one.
    make_due(second)
    sent = len(receiver.received)
    assert attempt(second).status_code is None
    assert len(receiver.received) == sent
    assert reload(second).status == "failed"
    # New events make no deliveries for it.
    publish_widget("acme", "three")
    relay()
    assert len(deliveries()) == 2

    # The admin shows why, on the list and on the endpoint's page.
    admin = as_tenant_admin(tenant_client("acme"))
    listing = admin.get("/admin/webhooks/webhookendpoint/")
    assert "ERP bridge is disabled" in listing.content.decode()
    page = admin.get(f"/admin/webhooks/webhookendpoint/{endpoint.pk}/change/")
    assert "3 attempts in a row failed" in page.content.decode()
    # An administrator enables it again: a fresh breaker.
    response = admin.post(
        "/admin/webhooks/webhookendpoint/",
        {"action": "enable", "_selected_action": [endpoint.pk]},
    )
    assert response.status_code == 302
    with schema_context("acme"):
        endpoint.refresh_from_db()
    assert (endpoint.is_active, endpoint.disabled_reason, endpoint.consecutive_failures) == (
        True, "", 0,
    )  # fmt: skip


def test_410_gone_disables_the_endpoint_at_once(receiver, mailoutbox):
    receiver.answers = [410]
    endpoint, _ = endpoint_in("acme", receiver.url)
    publish_widget("acme")
    relay()
    (delivery,) = deliveries()
    attempt(delivery)
    with schema_context("acme"):
        endpoint.refresh_from_db()
    assert not endpoint.is_active and "410" in endpoint.disabled_reason
    assert reload(delivery).status == "failed"
    assert len(mailoutbox) == 1


def test_redelivery_sends_a_past_delivery_again_with_the_same_id(receiver):
    _, secret = endpoint_in("acme", receiver.url)
    publish_widget("acme")
    relay()
    (delivery,) = deliveries()
    attempt(delivery)
    assert reload(delivery).status == "delivered"

    admin = as_tenant_admin(tenant_client("acme"))
    response = admin.post(
        "/admin/webhooks/webhookdelivery/",
        {"action": "redeliver", "_selected_action": [delivery.pk]},
    )
    assert response.status_code == 302
    assert reload(delivery).status == "pending"
    attempt(delivery)

    first, again = receiver.received
    assert first.headers["webhook-id"] == again.headers["webhook-id"]
    assert first.body == again.body
    Webhook(secret).verify(again.body, again.headers)
    delivery = reload(delivery)
    assert (delivery.status, delivery.attempts) == ("delivered", 2)


def test_the_connection_goes_to_the_checked_address_with_the_names_host_header(
    receiver, monkeypatch
):
    from apps.webhooks import addresses

    monkeypatch.setattr(addresses, "resolve", lambda host, port: ["127.0.0.1"])
    url = f"http://hooks.partner.test:{receiver.port}/in"
    endpoint_in("acme", url)
    publish_widget("acme")
    relay()
    (delivery,) = deliveries()
    assert attempt(delivery).status_code == 200
    (request,) = receiver.received
    assert request.headers["Host"] == f"hooks.partner.test:{receiver.port}"


def test_a_name_that_resolves_to_a_private_address_at_delivery_time_gets_no_request(
    receiver, monkeypatch, settings
):
    """Registered while the name pointed to a public address; now it points here."""
    from apps.webhooks import addresses

    answers = {"rebind.partner.test": ["93.184.216.34"]}
    monkeypatch.setattr(addresses, "resolve", lambda host, port: answers[host])
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = False
    endpoint_in("acme", f"http://rebind.partner.test:{receiver.port}/in")
    answers["rebind.partner.test"] = ["127.0.0.1"]
    publish_widget("acme")
    relay()
    (delivery,) = deliveries()

    outcome = attempt(delivery)

    assert outcome.status_code is None and "127.0.0.1" in outcome.error
    assert receiver.received == []
    delivery = reload(delivery)
    assert delivery.status == "pending" and "private" in delivery.last_error


def test_the_sweep_hands_over_overdue_deliveries(receiver, settings, monkeypatch):
    """A lost enqueue: the sweep finds the overdue delivery (its task is run here)."""
    from apps.tenancy.models import Tenant
    from apps.webhooks import tasks

    settings.WEBHOOKS = {**settings.WEBHOOKS, "SWEEP_GRACE_SECONDS": 0}
    endpoint_in("acme", receiver.url)
    publish_widget("acme")
    relay()
    (delivery,) = deliveries()
    sent = []

    def run_now(*args, kwargs=None, **options):
        sent.append(kwargs)
        tenant = Tenant.objects.get(slug=kwargs["tenant"])
        return tasks.deliver.run(delivery_id=kwargs["delivery_id"], tenant=tenant)

    monkeypatch.setattr(tasks.deliver, "apply_async", run_now)
    make_due(delivery)
    assert tasks.sweep.run() == 1
    assert sent == [{"delivery_id": delivery.pk, "tenant": "acme"}]
    assert reload(delivery).status == "delivered"
    assert tasks.sweep.run() == 0  # nothing is due any more
    connection.set_schema_to_public()


def test_admins_see_endpoints_by_name_and_the_secret_once(receiver):
    admin = as_tenant_admin(tenant_client("acme"))
    response = admin.post(
        "/admin/webhooks/webhookendpoint/add/",
        {
            "description": "Warehouse",
            "url": receiver.url,
            "event_types": "testing.*\ncommerce.order.placed",
            "is_active": "on",
        },
    )
    assert response.status_code == 200, response.content[:2000]
    with schema_context("acme"):
        (endpoint,) = selectors.endpoints()
    assert endpoint.secret in response.content.decode()
    assert endpoint.event_types == ["testing.*", "commerce.order.placed"]
    listing = admin.get("/admin/webhooks/webhookendpoint/").content.decode()
    assert "Warehouse" in listing and endpoint.secret not in listing
    page = admin.get(f"/admin/webhooks/webhookendpoint/{endpoint.pk}/change/").content.decode()
    assert endpoint.secret not in page


def test_the_admin_refuses_an_unsafe_url_with_a_form_error(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = False
    admin = as_tenant_admin(tenant_client("acme"))
    response = admin.post(
        "/admin/webhooks/webhookendpoint/add/",
        {"url": "https://169.254.169.254/latest", "event_types": "*", "is_active": "on"},
    )
    assert response.status_code == 200
    assert "private, local or reserved address" in response.content.decode()
    with schema_context("acme"):
        assert not selectors.endpoints().exists()


def test_staff_without_the_permission_do_not_see_webhooks(django_user_model):
    from tests.factories import UserFactory

    with schema_context("acme"):
        user = UserFactory(email="editor@acme.test", is_staff=True)
    client = Client(HTTP_HOST=tenant_client("acme").defaults["HTTP_HOST"])
    with schema_context("acme"):
        client.force_login(user)
    assert client.get("/admin/webhooks/webhookendpoint/").status_code == 403
    with schema_context("acme"):
        user.delete()


def test_redirects_are_not_followed(receiver):
    receiver.answers = [302]
    endpoint_in("acme", receiver.url)
    publish_widget("acme")
    relay()
    (delivery,) = deliveries()
    assert attempt(delivery).status_code == 302
    assert len(receiver.received) == 1  # the Location was not asked for
    assert reload(delivery).status == "pending"


def test_a_receiver_that_does_not_answer_in_time_is_a_recorded_failure(receivers, settings):
    settings.WEBHOOKS = {**settings.WEBHOOKS, "READ_TIMEOUT_SECONDS": 0.3}
    silent = receivers(hold=True, hold_seconds=10)
    endpoint_in("acme", silent.url)
    publish_widget("acme")
    relay()
    (delivery,) = deliveries()
    outcome = attempt(delivery)
    silent.release.set()
    assert outcome.status_code is None and "timed out" in outcome.error.lower()
    with schema_context("acme"):
        (logged,) = selectors.attempts(delivery.pk)
    assert logged.status_code is None and "timed out" in logged.error.lower()
    assert reload(delivery).status == "pending"


def test_an_endpoint_failing_for_a_day_is_disabled(receiver, settings, mailoutbox):
    receiver.answers = [500]
    endpoint, _ = endpoint_in("acme", receiver.url)
    with schema_context("acme"):
        type(endpoint).objects.filter(pk=endpoint.pk).update(
            consecutive_failures=2, failing_since=timezone.now() - timedelta(hours=25)
        )
    publish_widget("acme")
    relay()
    (delivery,) = deliveries()
    attempt(delivery)
    with schema_context("acme"):
        endpoint.refresh_from_db()
    assert not endpoint.is_active and "25 hours" in endpoint.disabled_reason
    assert len(mailoutbox) == 1


def test_after_a_rotation_both_secrets_sign_for_a_while(receiver, settings):
    endpoint, old_secret = endpoint_in("acme", receiver.url)
    with schema_context("acme"):
        _, new_secret = services.endpoint_rotate_secret(endpoint_id=endpoint.pk)
    publish_widget("acme", "during the overlap")
    relay()
    (delivery,) = deliveries()
    attempt(delivery)
    (request,) = receiver.received
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    Webhook(new_secret).verify(request.body, request.headers)
    Webhook(old_secret).verify(request.body, request.headers)  # a receiver not yet switched

    with schema_context("acme"):
        type(endpoint).objects.filter(pk=endpoint.pk).update(
            previous_secret_until=timezone.now() - timedelta(seconds=1)
        )
        services.delivery_redeliver(delivery_id=delivery.pk)
    attempt(delivery)
    later = receiver.received[-1]
    Webhook(new_secret).verify(later.body, later.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old_secret).verify(later.body, later.headers)


def test_finished_deliveries_past_the_retention_are_pruned(receiver):
    from apps.webhooks import tasks

    receiver.answers = [200, 500]
    endpoint_in("acme", receiver.url)
    publish_widget("acme", "delivered")
    publish_widget("acme", "pending")
    relay()
    done, pending = deliveries()
    attempt(done)
    attempt(pending)
    assert tasks.prune.run() == 0  # nothing is past the retention yet
    assert tasks.prune.run(now=timezone.now() + timedelta(days=31)) == 1
    assert [d.pk for d in deliveries()] == [pending.pk]
    with schema_context("acme"):
        assert not selectors.attempts(done.pk).exists()
        assert selectors.attempts(pending.pk).count() == 1


def test_admins_change_an_endpoint_and_rotate_its_secret(receiver):
    endpoint, secret = endpoint_in("acme", receiver.url, description="Old name")
    admin = as_tenant_admin(tenant_client("acme"))
    response = admin.post(
        f"/admin/webhooks/webhookendpoint/{endpoint.pk}/change/",
        {"description": "New name", "url": receiver.url, "event_types": "testing.*, *"},
    )
    assert response.status_code == 302, response.content[:2000]
    with schema_context("acme"):
        endpoint.refresh_from_db()
    assert (endpoint.description, endpoint.event_types, endpoint.is_active) == (
        "New name", ["testing.*", "*"], False,
    )  # fmt: skip

    rotated = admin.post(
        "/admin/webhooks/webhookendpoint/",
        {"action": "rotate_secret", "_selected_action": [endpoint.pk]},
    )
    assert rotated.status_code == 200 and "no-store" in rotated["Cache-Control"]
    with schema_context("acme"):
        endpoint.refresh_from_db()
    assert endpoint.secret != secret and endpoint.secret in rotated.content.decode()
    assert endpoint.previous_secret == secret


def test_https_speaks_tls_to_the_name_at_the_checked_address(
    receivers, monkeypatch, settings, tmp_path
):
    """The connection goes to the address that was checked; TLS names the URL's host (SNI)
    and checks the certificate against it, so only the real receiver is spoken to."""
    from apps.webhooks import addresses

    from .conftest import certificate

    cert, key = certificate(tmp_path, "hooks.partner.test")
    secure = receivers(tls=(cert, key))
    monkeypatch.setattr(addresses, "resolve", lambda host, port: ["127.0.0.1"])
    settings.WEBHOOKS = {**settings.WEBHOOKS, "CA_BUNDLE": cert}
    settings.WEBHOOKS_ALLOW_HTTP = False
    _, secret = endpoint_in("acme", f"https://hooks.partner.test:{secure.port}/in")
    publish_widget("acme")
    relay()
    (delivery,) = deliveries()

    assert attempt(delivery).status_code == 200
    (request,) = secure.received
    assert request.headers["Host"] == f"hooks.partner.test:{secure.port}"
    Webhook(secret).verify(request.body, request.headers)

    # A certificate for another name (a receiver that is not the one registered): refused.
    other_cert, other_key = certificate(tmp_path, "someone.else.test")
    impostor = receivers(tls=(other_cert, other_key))
    settings.WEBHOOKS = {**settings.WEBHOOKS, "CA_BUNDLE": other_cert}
    with schema_context("acme"):
        services.endpoint_update(
            endpoint_id=delivery.endpoint_id, url=f"https://hooks.partner.test:{impostor.port}/in"
        )
        services.delivery_redeliver(delivery_id=delivery.pk)
    outcome = attempt(delivery)
    assert outcome.status_code is None and outcome.error.startswith("SSLError")
    assert "doesn't match" in outcome.error
    assert impostor.received == []
