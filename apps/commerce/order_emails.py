"""The order emails: the confirmation when an order is placed, the shipping notice when it
ships; one ``OrderEmail`` row per order and kind.

At least once, never lost. The relay's handler writes the row in its own transaction (with
its ledger entry) and sends after that transaction commits, so a rolled-back order sends
nothing. Each attempt is counted on the row before it is made:

- a send the mail server refuses (or cannot be reached for) is recorded with its error and
  tried again by beat (``commerce.retry_order_emails``) after the next step of
  ``ORDER_EMAIL_RETRY_SECONDS``; after the last step the row waits for a merchant's "send
  again" (``order_email_resend``);
- a send that never answered (its worker died while the mail server had the message) is
  tried again once ``ORDER_EMAIL_HANDOVER_SECONDS`` have passed. The mail server may have
  taken that message just before the worker died: the customer may then get it twice, with
  the same ``Message-ID`` (mail clients show one). SMTP cannot tell which it was.

The beat job visits only the tenants with a retry due (the due-work index): each attempt
marks its own next time.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from email.utils import formataddr, parseaddr
from uuid import UUID

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.db.models import Min
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from apps.tenancy.selectors import tenant_by_schema
from apps.tenancy.services import due_work_kind, work_due

from .errors import OrderEmailBusy, OrderEmailNotFound
from .models import Order, OrderEmail, OrderEmailKind
from .money import Money
from .order_reads import order_uuid

logger = logging.getLogger(__name__)

RETRY_ORDER_EMAILS = due_work_kind("commerce.retry_order_emails")
# At most this many emails are tried per tenant and beat run; the rest wait a minute.
RETRY_BATCH = 50

EMAIL_TEMPLATES = {
    OrderEmailKind.CONFIRMATION: "email/commerce/order_confirmation",
    OrderEmailKind.SHIPPING: "email/commerce/order_shipped",
}


def _from_address() -> str:
    """The platform's sender address under the shop's name."""
    tenant = tenant_by_schema(connection.schema_name)
    name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    return formataddr((tenant.name if tenant else name, address))


def _message_id(email: OrderEmail) -> str:
    """The same for every attempt at one email, so a copy sent twice is known as one."""
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "localhost"
    return f"<order-{email.order_id}-{email.kind}@{domain}>"


def _message(order: Order, email: OrderEmail) -> EmailMultiAlternatives:
    template = EMAIL_TEMPLATES[email.kind]
    with translation.override(order.locale):
        tenant = tenant_by_schema(connection.schema_name)
        context = {
            "order": order, "lines": list(order.lines.all()), "shop": tenant.name if tenant else "",
            "total": Money(order.total, order.currency),
            "shipping": Money(order.shipping_price, order.currency),
            "tax": Money(order.tax, order.currency),
            "discount": Money(order.discount, order.currency),
        }  # fmt: skip
        if email.kind == OrderEmailKind.CONFIRMATION:
            subject = _("Your order #%(number)s") % {"number": order.number}
        else:
            subject = _("Your order #%(number)s is on its way") % {"number": order.number}
        text = render_to_string(f"{template}.txt", context)
        html = render_to_string(f"{template}.html", context)
    message = EmailMultiAlternatives(
        subject, text, _from_address(), [email.recipient],
        headers={"Message-ID": _message_id(email)},
    )  # fmt: skip
    message.attach_alternative(html, "text/html")
    return message


def _handover_deadline(now: datetime) -> datetime:
    return now + timedelta(seconds=settings.ORDER_EMAIL_HANDOVER_SECONDS)


def _after_failure(attempts: int, now: datetime) -> datetime | None:
    """When attempt ``attempts + 1`` is due after attempt ``attempts`` failed; ``None`` once
    the schedule is spent."""
    schedule = settings.ORDER_EMAIL_RETRY_SECONDS
    if attempts > len(schedule):
        return None
    return now + timedelta(seconds=schedule[attempts - 1])


def _deliver(message: EmailMultiAlternatives, email: OrderEmail) -> bool:
    """Send ``message`` (attempt ``email.attempts``, already counted) and record what came
    of it; whether it went out. Runs outside any transaction: each record commits alone."""
    try:
        message.send()
    except Exception as error:  # the mail server refused or was out of reach
        now = timezone.now()
        following = _after_failure(email.attempts, now)
        detail = (str(error).strip().splitlines() or [type(error).__name__])[0][:500]
        logger.warning(
            "order email %s (%s of order %s) not sent, attempt %s: %s; %s",
            email.pk, email.kind, email.order_id, email.attempts, detail,
            f"next attempt at {following.isoformat()}" if following else "no attempt left",
        )  # fmt: skip
        with transaction.atomic():
            # Only while no later attempt has been taken: a late failure never overwrites it.
            OrderEmail.objects.filter(
                pk=email.pk, sent_at__isnull=True, attempts=email.attempts
            ).update(last_error=f"{type(error).__name__}: {detail}", next_attempt_at=following)
            if following is not None:
                work_due(kind=RETRY_ORDER_EMAILS, at=following)
        return False
    OrderEmail.objects.filter(pk=email.pk).update(
        sent_at=timezone.now(), next_attempt_at=None, last_error=""
    )
    return True


INSERT_SQL = f"""
INSERT INTO {OrderEmail._meta.db_table}
    (order_id, kind, event_id, recipient, created_at, attempts, next_attempt_at, last_error)
VALUES (%s, %s, %s, %s, %s, 1, %s, '')
ON CONFLICT (order_id, kind) DO NOTHING RETURNING id
"""  # noqa: S608 (constant table name)


def order_email_send(*, order_id: UUID | str, kind: str, event_id: UUID) -> bool:
    """Send the order's ``kind`` email: ``False`` when it exists already (sent, or on its
    way), or when the order is gone.

    The row (unique per order and kind) is written in this transaction, the relay's, with
    its first attempt counted and a retry marked for when the hand-over time is past; the
    message is built here and sent only after the commit.
    """
    with transaction.atomic():
        order = Order.objects.filter(pk=order_uuid(order_id)).first()
        if order is None:
            return False
        now = timezone.now()
        retry_at = _handover_deadline(now)
        with connection.cursor() as cursor:
            cursor.execute(INSERT_SQL, [order.pk, kind, event_id, order.email, now, retry_at])
            inserted = cursor.fetchone()
        if inserted is None:
            return False
        work_due(kind=RETRY_ORDER_EMAILS, at=retry_at)
        email = OrderEmail(
            pk=inserted[0], order=order, kind=kind, event_id=event_id, recipient=order.email,
            attempts=1, next_attempt_at=retry_at,
        )  # fmt: skip
        message = _message(order, email)
        transaction.on_commit(lambda: _deliver(message, email), robust=True)
    return True


def _take(taken: list[OrderEmail], now: datetime) -> list[OrderEmail]:
    """Count one more attempt on each of ``taken`` (locked, with their orders) and give it
    until the hand-over time before it is taken again."""
    retry_at = _handover_deadline(now)
    for email in taken:
        email.attempts += 1
        email.next_attempt_at = retry_at
        email.last_error = ""
    OrderEmail.objects.bulk_update(taken, ["attempts", "next_attempt_at", "last_error"])
    if taken:
        work_due(kind=RETRY_ORDER_EMAILS, at=retry_at)
    return taken


def order_emails_retry(*, now: datetime | None = None, batch: int = RETRY_BATCH) -> int:
    """Try again the active schema's unsent emails whose time has come; how many went out.

    The rows are taken (attempt counted, next try pushed past the hand-over time) in one
    short transaction that skips rows another run holds, then sent one by one outside it."""
    now = now or timezone.now()
    with transaction.atomic():
        due = (
            OrderEmail.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("order")
            .filter(sent_at__isnull=True, next_attempt_at__lte=now)
            .order_by("next_attempt_at", "pk")
        )
        taken = _take(list(due[:batch]), now)
    return sum(_deliver(_message(email.order, email), email) for email in taken)


def order_emails_next_retry() -> datetime | None:
    """When the active schema's soonest unsent email is due (``None``: none waits)."""
    return OrderEmail.objects.filter(sent_at__isnull=True).aggregate(
        soonest=Min("next_attempt_at")
    )["soonest"]


def _being_sent(email: OrderEmail, now: datetime) -> bool:
    """Handed to the mail server without an answer yet (its hand-over time not over)."""
    return (
        email.sent_at is None
        and not email.last_error
        and email.next_attempt_at is not None
        and email.next_attempt_at > now
    )


def _locked_emails(email_ids: list[int]) -> list[OrderEmail]:
    return list(
        OrderEmail.objects.select_for_update(of=("self",))
        .select_related("order")
        .filter(pk__in=email_ids)
        .order_by("pk")
    )


def order_email_resend(*, email_id: int, actor=None) -> OrderEmail:
    """A merchant's "send again": the email goes out now, to the order's current address,
    whether it was sent before or every attempt failed; a failure starts the retry schedule
    afresh. The row as it stands afterwards. ``OrderEmailBusy`` (409) while the email is
    being sent: a second copy could go out beside it."""
    now = timezone.now()
    with transaction.atomic():
        [email] = _locked_emails([email_id]) or [None]
        if email is None:
            raise OrderEmailNotFound(_("No such order email."))
        if _being_sent(email, now):
            raise OrderEmailBusy(
                _("This email is being sent; if it has not gone out, send it again after %(time)s.")
                % {"time": date_format(timezone.localtime(email.next_attempt_at), "TIME_FORMAT")}
            )
        email.recipient = email.order.email
        email.sent_at = None
        email.attempts = 0
        email.save(update_fields=["recipient", "sent_at"])
        _take([email], now)
    logger.info(
        "order email %s (%s of order %s) sent again by %s",
        email.pk, email.kind, email.order_id, getattr(actor, "pk", None) or "the system",
    )  # fmt: skip
    _deliver(_message(email.order, email), email)
    email.refresh_from_db()
    return email


def order_emails_send_again(*, email_ids: list[int], actor=None) -> int:
    """ "Send again" for many emails at once: each not being sent is handed to beat's next
    retry run (within a minute), to the order's current address; how many were."""
    now = timezone.now()
    with transaction.atomic():
        queued = [email for email in _locked_emails(email_ids) if not _being_sent(email, now)]
        for email in queued:
            email.recipient = email.order.email
            email.sent_at = None
            email.attempts = 0
            email.last_error = ""
            email.next_attempt_at = now
        OrderEmail.objects.bulk_update(
            queued, ["recipient", "sent_at", "attempts", "last_error", "next_attempt_at"]
        )
        if queued:
            work_due(kind=RETRY_ORDER_EMAILS, at=now)
    logger.info(
        "%s order email(s) queued to be sent again by %s",
        len(queued), getattr(actor, "pk", None) or "the system",
    )  # fmt: skip
    return len(queued)
