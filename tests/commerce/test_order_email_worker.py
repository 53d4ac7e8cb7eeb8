"""A Celery worker killed between an order's placement and its confirmation email, with a
real worker process, the test database and a local SMTP server.

What the design guarantees. ``order_emails.order_email_send`` writes the ``OrderEmail`` row
(one per order and kind) in the relay's tenant transaction, with the relay's ledger row, and
sends after that transaction commits:

- a worker that dies before that commit (here: while its insert of the row waits) leaves
  nothing behind; the next worker takes its lease over (its claimer lock is gone, so no
  lease expiry is waited for) and sends the email, once;
- a worker that dies after that commit and before the SMTP server has accepted the
  message leaves the row unsent, its attempt counted, and the event handled: beat's
  ``commerce.retry_order_emails`` sends it once the hand-over time is past. (Had the server
  accepted the message just before the worker died, the customer would get it twice, with
  one ``Message-ID``: SMTP cannot say which it was.)
"""

from __future__ import annotations

import signal
from uuid import uuid4

import pytest
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.commerce import orders
from apps.commerce.models import OrderEmail
from apps.commerce.order_emails import RETRY_ORDER_EMAILS
from apps.events.models import OutboxEvent
from apps.tenancy.models import DueWork
from config.celery import app as celery_app
from tests.events.conftest import Workers, wait_for
from tests.events.test_claims import _claimer_locks_held
from tests.locks import lock_waiters

from .order_factories import line_draft, order_draft
from .order_support import committed_orders  # noqa: F401 (fixture)
from .smtp import text_of

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("committed_orders")]

# The victim's lease outlives the test: only its dead claimer lock lets the next one take over.
VICTIM = {"EVENTS_LEASE_SECONDS": "120"}


@pytest.fixture
def workers(tmp_path, smtp_server):
    """Worker processes that send their emails to ``smtp_server``."""
    pool = Workers(tmp_path)
    smtp = {"EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(smtp_server.port)}  # fmt: skip
    start = pool.start
    pool.start = lambda **env: start(**smtp, **env)
    yield pool
    pool.stop_all()


def _leased() -> list[OutboxEvent]:
    return list(OutboxEvent.objects.filter(status="pending", lease_expires_at__isnull=False))


def test_a_worker_killed_before_the_email_leaves_hands_it_over_and_it_is_sent_once(
    workers, smtp_server
):
    with schema_context("acme"), transaction.atomic():
        order = orders.order_create(order_draft([line_draft()], locale="de"))

    with schema_context("acme"), transaction.atomic():
        # The row the worker's handler inserts, held uncommitted: its insert waits on it,
        # after the claim and before its transaction can commit (and so before any send).
        OrderEmail.objects.create(
            order=order, kind="confirmation", event_id=uuid4(), recipient=order.email
        )
        victim = workers.start(**VICTIM)
        celery_app.send_task("events.drain")
        # Waiting on this transaction means waiting on that row: the only one it wrote.
        wait_for(lambda: lock_waiters(on_this_session=True) and _leased(), message=workers.logs)
        keys = {row.lease_lock for row in _leased()}
        workers.kill(victim, signal.SIGKILL)
        transaction.set_rollback(True)

    # The killed worker's session sees its client gone and rolls back, freeing its claimer lock.
    wait_for(lambda: not _claimer_locks_held(keys), message="the killed session stays")
    with schema_context("acme"):
        assert not OrderEmail.objects.exists()
    assert smtp_server.messages == []
    assert _leased(), "the lease is still the dead worker's"

    workers.start()
    celery_app.send_task("events.drain")
    [message] = smtp_server.wait_for(1)
    wait_for(lambda: not OutboxEvent.objects.filter(status="pending").exists(),
             message=workers.logs)  # fmt: skip
    assert len(smtp_server.messages) == 1
    assert message["Subject"] == f"Ihre Bestellung #{order.number}"
    assert f"Vielen Dank für Ihre Bestellung #{order.number}." in text_of(message)
    with schema_context("acme"):
        [email] = OrderEmail.objects.all()
        assert email.sent_at is not None


def test_a_worker_killed_while_the_email_is_handed_over_has_it_sent_by_beat_once(
    workers, smtp_server
):
    """The relay's transaction committed (the email row and the ledger), the SMTP server not
    yet answered, the worker killed: the next worker finds the event handled, and beat's
    retry sends the email once the hand-over time is past."""
    smtp_server.hold()
    with schema_context("acme"), transaction.atomic():
        order = orders.order_create(order_draft([line_draft()]))
    victim = workers.start(**VICTIM)
    celery_app.send_task("events.drain")
    wait_for(lambda: smtp_server.held, message=workers.logs)
    keys = {row.lease_lock for row in _leased()}
    assert keys, "the worker holds the event's lease while it sends"
    workers.kill(victim, signal.SIGKILL)
    smtp_server.release(accept=False)  # the dead sender never got its answer
    wait_for(lambda: not _claimer_locks_held(keys), message="the killed session stays")

    workers.start()
    celery_app.send_task("events.drain")
    wait_for(lambda: not OutboxEvent.objects.filter(status="pending").exists(),
             message=workers.logs)  # fmt: skip
    assert smtp_server.messages == []  # the event is handled: the relay does not send again
    with schema_context("acme"):
        [email] = OrderEmail.objects.all()
        assert (email.order_id, email.sent_at, email.attempts) == (order.pk, None, 1)
        # The hand-over time passes (beat's clock is the worker's: move the row instead).
        OrderEmail.objects.filter(pk=email.pk).update(next_attempt_at=timezone.now())
    DueWork.objects.filter(kind=RETRY_ORDER_EMAILS).update(due_at=timezone.now())

    celery_app.send_task("commerce.retry_order_emails")
    [message] = smtp_server.wait_for(1)
    assert message["Subject"] == f"Your order #{order.number}"
    with schema_context("acme"):
        wait_for(lambda: OrderEmail.objects.get(pk=email.pk).sent_at is not None,
                 message=workers.logs)  # fmt: skip
        assert OrderEmail.objects.get(pk=email.pk).attempts == 2
    assert len(smtp_server.messages) == 1
