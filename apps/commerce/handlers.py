"""What commerce does with its own events once they are committed: the order emails.

The customer hears of an order only once it is committed (the event comes through the
outbox, so a rolled-back placement sends nothing), and one email per kind: the relay's
ledger runs this once per event, and ``order_emails.order_email_send`` keeps one email per
order and kind even when the same order is announced again (a replay, a rebuilt outbox), and
sees it through failures of the mail server (retried by beat).
"""

from __future__ import annotations

from apps.events.envelope import StoredEvent
from apps.events.registry import handles

from . import events, order_emails
from .models import OrderEmailKind

EMAIL_KINDS = {
    events.OrderPlaced.event_type: OrderEmailKind.CONFIRMATION,
    events.OrderShipped.event_type: OrderEmailKind.SHIPPING,
}


@handles(*EMAIL_KINDS, name="commerce.order_emails", module="shop")
def send_order_email(event: StoredEvent) -> None:
    """The order confirmation when an order is placed, the shipping notice when it ships."""
    order_emails.order_email_send(
        order_id=event.aggregate_id, kind=EMAIL_KINDS[event.event_type], event_id=event.event_id
    )
