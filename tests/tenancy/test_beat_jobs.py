"""Every beat job that works per tenant visits only the tenants whose work is due.

Each job's work is made in acme through the services that make it in production (so the
due-work mark is theirs, not the test's); the other tenants are idle ones (rows in
``public`` without a schema: visiting one would fail at once), each with work marked for
later, and a suspended one whose work is overdue. Time is moved by the ``now`` a job runs
at, as beat's next runs would see it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from uuid import uuid4

import pytest
from django.conf import settings
from django.db import connection
from django.http import HttpResponse
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.api import idempotency
from apps.api import tasks as api_tasks
from apps.api.models import IdempotentResponse
from apps.commerce import carts, order_emails, orders
from apps.commerce import services as commerce
from apps.commerce import tasks as commerce_tasks
from apps.commerce.models import OrderEmail
from apps.commerce.payments import base as payment_base
from apps.commerce.payments import services as payments
from apps.content import services as content
from apps.content import tasks as content_tasks
from apps.content.models import Node, NodeStatus
from apps.events.envelope import ENVELOPE_COLUMNS, StoredEvent
from apps.events.models import OutboxEvent
from apps.tenancy.models import DueWork, Tenant, TenantStatus
from apps.webhooks import services as webhooks
from apps.webhooks import tasks as webhooks_tasks
from apps.webhooks.models import WebhookDelivery
from tests.commerce.conftest import make_location, make_product, make_variant
from tests.commerce.order_factories import line_draft, order_draft
from tests.eventapp.services import widget_change


@dataclass(frozen=True)
class Job:
    task: Callable[..., int]  # the beat task itself, called as a worker runs it
    kind: str
    make_work: Callable[[], datetime]  # in acme: work through the services; when it is due
    queries: int  # one run that finds acme's work due, whatever the number of tenants
    # The sweep hands a delivery to the workers and leaves it pending: it stays due (and is
    # handed again) until a worker has taken it.
    leaves_work: bool = False


def _scheduled_node() -> datetime:
    node = content.node_create(
        data=content.NodeInput(
            kind="post",
            translations=[content.TranslationInput(locale="en", title="Soon")],
            publish_at=timezone.now() + timedelta(minutes=5),
        )
    )
    return node.publish_at


def _reservation() -> datetime:
    variant, main = make_variant(make_product("Held shirt")), make_location()
    commerce.stock_adjust(variant_id=variant.pk, location_id=main.pk, delta=3, reason="received")
    (held,) = commerce.stock_reserve(
        lines=[commerce.ReservationLine(variant.pk, main.pk, 1)], reference="checkout-1"
    )
    return held.expires_at


def _visitor_cart() -> datetime:
    commerce.store_settings_update(default_currency="USD", enabled_currencies=["USD"])
    cart = carts.cart_for(token=None, customer_id=None, currency="USD", locale="en", create=True)
    return cart.updated_at + carts.STALE_AFTER


def _idempotent_answer() -> datetime:
    claim = idempotency.Claim(
        scope="s" * 64, lock_id=1, principal="user:1", method="POST", path="/api/v1/posts",
        key="k1", fingerprint="0" * 64,
    )  # fmt: skip
    claim.record(HttpResponse(b"{}", status=201, content_type="application/json"))
    stored = IdempotentResponse.objects.get(scope=claim.scope)
    return stored.created_at + idempotency.RETENTION


def _event() -> StoredEvent:
    import uuid

    widget_change(widget_id=uuid.uuid4(), note="due")
    row = OutboxEvent.objects.order_by("-position").values(*ENVELOPE_COLUMNS).first()
    return StoredEvent.from_row(row)


def _pending_delivery() -> datetime:
    webhooks.endpoint_create(url="http://127.0.0.1:9/in", event_types=["*"])
    (created,) = webhooks.deliveries_create_for_event(_event())
    delivery = WebhookDelivery.objects.get(pk=created)
    return delivery.next_attempt_at + timedelta(seconds=settings.WEBHOOKS["SWEEP_GRACE_SECONDS"])


def _finished_delivery() -> datetime:
    endpoint, _secret = webhooks.endpoint_create(url="http://127.0.0.1:9/in", event_types=["*"])
    (created,) = webhooks.deliveries_create_for_event(_event())
    # A disabled endpoint's delivery fails at its attempt, without a request.
    webhooks.endpoint_update(endpoint_id=endpoint.pk, is_active=False)
    webhooks.delivery_attempt(delivery_id=created)
    delivery = WebhookDelivery.objects.get(pk=created)
    assert delivery.status == "failed"
    return delivery.created_at + webhooks.retention()


def _unsent_email() -> datetime:
    """An order's confirmation whose send never answered (the test's transaction never
    commits, so the handler's send never runs): tried again after the hand-over time."""
    order = orders.order_create(order_draft([line_draft()]))
    order_emails.order_email_send(order_id=order.pk, kind="confirmation", event_id=uuid4())
    return OrderEmail.objects.get(order=order).next_attempt_at


def _abandoned_charge() -> datetime:
    """A charge's first step (its attempt written before the provider is called), as a worker
    that died right after it leaves it: looked up once the reconciliation period is over.
    By bank transfer, whose provider is not called over the network (the test's transaction
    is open): it is settled as not received."""
    attempt = payments._charge_start(
        "checkout:abandoned", Decimal("9.90"), "EUR", payment_base.provider("manual"), None
    )
    return attempt.updated_at + payments.reconcile_after()


JOBS = {
    "publish_due": Job(content_tasks.publish_due, content.PUBLISH_DUE, _scheduled_node, 14),
    "expire_reservations": Job(
        commerce_tasks.expire_reservations, commerce.EXPIRE_RESERVATIONS, _reservation, 19
    ),
    "prune_stale_carts": Job(
        commerce_tasks.prune_stale_carts, carts.PRUNE_STALE_CARTS, _visitor_cart, 16
    ),
    "prune_idempotent_responses": Job(
        api_tasks.prune_idempotent_responses, idempotency.PRUNE_JOB, _idempotent_answer, 10
    ),
    "webhooks_sweep": Job(
        webhooks_tasks.sweep, webhooks.SWEEP_JOB, _pending_delivery, 8, leaves_work=True
    ),
    "webhooks_prune": Job(webhooks_tasks.prune, webhooks.PRUNE_JOB, _finished_delivery, 15),
    "retry_order_emails": Job(
        commerce_tasks.retry_order_emails, order_emails.RETRY_ORDER_EMAILS, _unsent_email, 15
    ),
    "reconcile_payments": Job(
        commerce_tasks.reconcile_payments, payments.RECONCILE_PAYMENTS, _abandoned_charge, 19
    ),
}


def _idle_tenants(count: int, kind: str) -> list[Tenant]:
    """``count`` active tenants whose work is marked for tomorrow, and a suspended one whose
    work is overdue: none of them may be visited."""
    tenants = []
    for number in range(count + 1):
        suspended = number == count
        tenant = Tenant.objects.create(
            schema_name=f"idle_{number}", slug=f"idle-{number}", name=f"Idle {number}",
            status=TenantStatus.SUSPENDED if suspended else TenantStatus.ACTIVE,
        )  # fmt: skip
        later = timedelta(days=-1) if suspended else timedelta(days=400)
        DueWork.objects.create(tenant=tenant, kind=kind, due_at=timezone.now() + later)
        tenants.append(tenant)
    return tenants


@pytest.fixture
def setting_up(acme, globex, settings):
    """acme with work made for each job; no other mark (some tests commit and leave theirs)."""
    settings.WEBHOOKS_ALLOW_HTTP = True  # the endpoints name a port of this machine
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True
    DueWork.objects.all().delete()

    def make(job: Job) -> datetime:
        with schema_context("acme"):
            due = job.make_work()
        connection.set_schema_to_public()
        return due

    return make


def _mark(tenant: Tenant, kind: str) -> datetime | None:
    return DueWork.objects.filter(tenant=tenant, kind=kind).values_list("due_at", flat=True).first()


@pytest.mark.parametrize("job", JOBS.values(), ids=JOBS.keys())
def test_a_run_visits_only_the_tenant_whose_work_is_due(job, setting_up, acme, globex):
    due = setting_up(job)
    idle = _idle_tenants(3, job.kind)
    assert _mark(acme, job.kind) == due

    # Not yet: nobody is visited (a visit of an idle tenant would fail: it has no schema).
    assert job.task(now=due - timedelta(seconds=1)) == 0
    assert _mark(acme, job.kind) == due

    with CaptureQueriesContext(connection) as run:
        assert job.task(now=due + timedelta(seconds=1)) == 1
    schemas = {tenant.schema_name for tenant in [globex, *idle]}
    assert not [q["sql"] for q in run.captured_queries if any(s in q["sql"] for s in schemas)]
    # The others' marks stay as they were.
    assert {t.pk: _mark(t, job.kind) is not None for t in idle} == {t.pk: True for t in idle}
    if job.leaves_work:
        assert _mark(acme, job.kind) == due
        return
    # The work is done and nothing of it is left: the mark went; the next run visits nobody.
    assert _mark(acme, job.kind) is None
    assert job.task(now=due + timedelta(days=1)) == 0


@pytest.mark.parametrize("idle_count", [1, 10])  # 3 and 12 tenants with acme and globex
@pytest.mark.parametrize("job", JOBS.values(), ids=JOBS.keys())
def test_a_run_costs_the_same_queries_whatever_the_number_of_tenants(
    job, idle_count, setting_up, django_assert_num_queries
):
    due = setting_up(job)
    _idle_tenants(idle_count, job.kind)
    assert Tenant.objects.count() == idle_count + 3
    with django_assert_num_queries(job.queries):
        assert job.task(now=due + timedelta(seconds=1)) == 1


def test_the_next_due_time_is_kept_when_work_is_left(setting_up, acme):
    job = JOBS["publish_due"]
    due = setting_up(job)
    with schema_context("acme"):
        later = content.node_create(
            data=content.NodeInput(
                kind="post",
                translations=[content.TranslationInput(locale="en", title="Later")],
                publish_at=due + timedelta(days=2),
            )
        )
    connection.set_schema_to_public()
    assert _mark(acme, job.kind) == due  # the earliest wins

    assert job.task(now=due + timedelta(seconds=1)) == 1
    assert _mark(acme, job.kind) == later.publish_at  # moved to what is left
    assert job.task(now=later.publish_at) == 1
    assert _mark(acme, job.kind) is None
    with schema_context("acme"):
        assert Node.objects.get(pk=later.pk).status == NodeStatus.PUBLISHED
