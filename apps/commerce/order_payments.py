"""Orders and their money together: a refund paid back by the provider, a transfer received.

``orders`` records what happens to an order; ``payments`` moves money with a provider. A
merchant's refund or a bank transfer they received needs both, and the functions here are
the one service the order admin and the orders API call for them:
``order_transition_with_payment`` takes every action of ``ORDER_TRANSITIONS`` and sends
``refund`` and ``mark_paid`` here, the others to ``orders.order_transition``.

A refund of a card payment cannot be one transaction: the provider is called with no
transaction open (the payment services commit the attempt first, so a crash leaves a record
to retry with the same idempotency key). So, in this order:

1. check, without writing, that the order can be refunded that much at the version the
   caller saw (``orders.order_transition_check``: the guards of ``order_refund`` itself);
2. refund at the provider (``payment_refund``); a refusal or an outage is its typed error
   (409 / 503) and the order is unchanged;
3. record the refund on the order with the provider's refund reference in the event, in
   one transaction, without ``expected_version``: the money has moved, and an order that
   was shipped meanwhile must still show it.

A process that stops between 2 and 3 leaves a refund at the provider the order does not
show. The next refund of the order finds it (an approved refund attempt whose reference no
refund event of the stream carries) and records it instead of paying out again; a request
for another amount is ``RefundNotRecorded`` (409) naming it. A refund approved less than
``PAYMENT_ATTEMPT_STALE_SECONDS`` ago may still be on its way to the order (its caller
alive): the next one is then ``PaymentConflict`` (409, try again), never a second record of
it. Step 3 locks the order and records a provider's refund at most once (its reference is
looked for in the stream under the lock).

A bank transfer is paid back by the merchant's bank: its refund is only recorded. A
transfer received is ONE transaction: the order marked paid (its row locked first, as every
order write does), then the checkout's pending charge confirmed with the same reference
(``payment_confirm`` runs inside the caller's transaction); if either refuses, neither
happened.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import events
from .errors import CommerceInvalid, PaymentConflict, RefundNotRecorded
from .models import Order, PaymentAttempt
from .money import Money, parse_amount, round_amount
from .order_reads import order_stream
from .orders import (
    order_mark_paid,
    order_refund,
    order_transition,
    order_transition_check,
)
from .payments.base import provider
from .payments.selectors import payment_pending_charge, payment_refunds_approved
from .payments.services import payment_confirm, payment_refund

__all__ = ["order_record_transfer", "order_refund_with_payment", "order_transition_with_payment"]

logger = logging.getLogger(__name__)


def _recorded_refunds(order_id: UUID) -> set[str]:
    """The providers' references of the refunds the order's stream records."""
    return {
        row.payload.get("payment_reference", "")
        for row in order_stream(order_id)
        if row.type == events.OrderRefunded.event_type
    }


def _unrecorded_refund(order_id: UUID, reference: str) -> PaymentAttempt | None:
    """The oldest refund the provider made for the order that no refund event records."""
    recorded = _recorded_refunds(order_id)
    return next(
        (a for a in payment_refunds_approved(reference) if a.provider_reference not in recorded),
        None,
    )


def _may_be_recording(refund: PaymentAttempt) -> bool:
    """Whether the caller that made ``refund`` may still be about to record it."""
    age = timedelta(seconds=settings.PAYMENT_ATTEMPT_STALE_SECONDS)
    return refund.updated_at > timezone.now() - age


def _record_refund(
    order_id: UUID, amount: Decimal, reason: str, refund: PaymentAttempt, *, actor
) -> Order:
    """Step 3: the provider's ``refund`` on the order, once (the order locked while its
    stream is searched for it)."""
    with transaction.atomic():
        order = Order.objects.select_for_update(of=("self",)).get(pk=order_id)
        if refund.provider_reference in _recorded_refunds(order_id):
            return order
        return order_refund(
            order_id=order_id, amount=amount, reason=reason,
            payment_reference=refund.provider_reference, actor=actor,
        )  # fmt: skip


def order_refund_with_payment(
    *,
    order_id: UUID | str,
    amount: Decimal | str,
    reason: str = "",
    expected_version: int | None = None,
    actor=None,
) -> Order:
    """Give ``amount`` of the order back and record it; see the module's docstring.

    Refusals before any money moves: ``OrderNotFound`` (404), ``OrderVersionConflict`` and
    ``InvalidTransition`` (409), ``CommerceInvalid`` (400: more than is left to refund).
    From the provider: ``PaymentConflict`` (409, it refused), ``PaymentUnavailable`` (503,
    a retry with the same amount is the same refund), ``PaymentNotFound`` (404, no approved
    charge to refund), each with the order unchanged; ``RefundNotRecorded`` (409) while a
    refund made earlier is not on the order yet, ``PaymentConflict`` (409) while another
    call may still be recording one. Must not run inside a transaction for a
    provider that refunds online (``PaymentInsideTransaction``).
    """
    state = order_transition_check(
        order_id=order_id, action="refund", expected_version=expected_version, amount=amount,
        reason=reason,
    )  # fmt: skip
    amount = parse_amount(amount, state.currency)  # checked above
    if not provider(state.payment_provider).refunds:
        return order_refund(
            order_id=state.id, amount=amount, reason=reason, expected_version=expected_version,
            actor=actor,
        )  # fmt: skip
    earlier = _unrecorded_refund(state.id, state.checkout_reference)
    if earlier is not None and _may_be_recording(earlier):
        raise PaymentConflict(
            _("Another refund of this order is being recorded; try again in a minute.")
        )
    if earlier is not None and earlier.amount != amount:
        raise RefundNotRecorded(
            _("A refund of %(amount)s (%(reference)s) was paid back but is not on the order "
              "yet; refund exactly %(amount)s to record it.")
            % {"amount": Money(earlier.amount, earlier.currency),
               "reference": earlier.provider_reference},
            amount=str(round_amount(earlier.amount, earlier.currency)),
            payment_reference=earlier.provider_reference,
        )  # fmt: skip
    refund = earlier or payment_refund(
        order_reference=state.checkout_reference, amount=amount, actor=actor
    )
    try:
        return _record_refund(state.id, amount, reason, refund, actor=actor)
    except Exception:
        logger.error(
            "order %s: refund %s was paid back but not recorded on the order; the next "
            "refund of %s records it", state.id, refund.provider_reference, amount,
        )  # fmt: skip
        raise


def order_record_transfer(
    *,
    order_id: UUID | str,
    reference: str,
    amount: Decimal | str,
    expected_version: int | None = None,
    actor=None,
) -> Order:
    """The order's payment arrived (a bank transfer, ``reference`` the bank's): the order is
    marked paid and the checkout's pending charge confirmed with that reference, in one
    transaction. An order with no pending charge (paid some other way, or confirmed in the
    payments already) is only marked paid. ``order_mark_paid``'s refusals, and
    ``InvalidTransition`` (409) from the payment, roll both back."""
    with transaction.atomic():
        order = order_mark_paid(
            order_id=order_id, reference=reference, amount=amount,
            expected_version=expected_version, actor=actor,
        )  # fmt: skip
        pending = payment_pending_charge(order.checkout_reference)
        if pending is not None:
            payment_confirm(attempt_id=pending.pk, provider_reference=reference, actor=actor)
    return order


def order_transition_with_payment(
    *,
    order_id: UUID | str,
    action: str,
    expected_version: int | None = None,
    actor=None,
    **data: Any,
) -> Order:
    """``orders.order_transition`` for the admin and the API, with the money moved where the
    action moves it (``refund``, ``mark_paid``). The same data, errors and version check."""
    composite = COMPOSITES.get(action)
    if composite is None:
        return order_transition(
            order_id=order_id, action=action, expected_version=expected_version, actor=actor,
            **data,
        )  # fmt: skip
    service, taken = composite
    if set(data) - taken:
        raise CommerceInvalid(
            {name: _("not taken by this action") for name in sorted(set(data) - taken)}
        )
    return service(
        order_id=order_id, expected_version=expected_version, actor=actor,
        **{name: data.get(name) for name in taken},
    )  # fmt: skip


# action -> (the composite, the data it takes from the admin and the API)
COMPOSITES = {
    "refund": (order_refund_with_payment, frozenset({"amount", "reason"})),
    "mark_paid": (order_record_transfer, frozenset({"reference", "amount"})),
}
