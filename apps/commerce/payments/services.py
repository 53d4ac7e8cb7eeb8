"""Every write to payments: charges, refunds and a merchant's confirmation of a transfer.

(An order's refund and a transfer received for an order go through
``apps.commerce.order_payments``, which calls these and writes the order.)

A charge or a refund is three steps, never one transaction: the attempt's row is written
and committed first (``processing``, with its idempotency key), the provider is called
with no transaction open, and its answer is recorded in a second transaction that
publishes ``commerce.payment.attempted``. A crash or a timeout between the steps leaves a
record, and the next call for the checkout retries that same attempt with the same key, so
the gateway replays its first answer instead of charging twice. Hence these services
refuse to run inside ``transaction.atomic()``.

Attempts of one checkout are serialized by an advisory lock on its reference: two clicks
on "Pay" make one attempt and a ``PaymentConflict``, never two charges.

An attempt whose answer never came (a timeout, an outage, a crash) is *unsettled*: the
provider may have charged the card. Before a charge with other details (another card,
provider or amount) the provider is asked what became of it (``PaymentProvider.lookup``)
and the answer is recorded on it: approved (then the checkout is paid by that earlier
charge and nothing new is charged), declined, or never received (``failed`` with
``not_received``); while the provider cannot tell, the new charge is refused (503). Beat's
``commerce.reconcile_payments`` (``reconciliation``) settles those a shopper left: a
charge found approved for a checkout that has no order is refunded at once.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.core.models import model_update
from apps.core.transitions import Transition, TransitionTable
from apps.events.publisher import publish
from apps.tenancy.services import due_work_kind, work_due

from .. import events
from ..errors import (
    CommerceInvalid,
    PaymentConflict,
    PaymentDeclined,
    PaymentInsideTransaction,
    PaymentNotFound,
    PaymentUnavailable,
)
from ..models import PaymentAttempt, PaymentKind
from ..models import PaymentOutcome as Outcome
from ..money import MoneyError, normalize_currency, parse_amount, round_amount
from .base import (
    CardDetails,
    ChargeRequest,
    ChargeResult,
    PaymentProvider,
    RefundRequest,
    clean_card,
    provider,
    registered_provider,
)
from .metrics import count_attempt

logger = logging.getLogger(__name__)

LOCK_CLASS = 0x706179  # advisory lock class of payments ("pay"); the key is the reference's hash
# Failures after which the outcome at the provider is unknown or nothing happened there: a
# new call for the checkout retries the same attempt with the same idempotency key.
RETRY_SAME_KEY = frozenset({"timeout", "unavailable"})
# An unsettled attempt the provider says it never received: settled, nothing was charged.
NOT_RECEIVED = "not_received"
# The beat job that settles unsettled charges nobody came back for (``reconciliation``).
RECONCILE_PAYMENTS = due_work_kind("commerce.reconcile_payments")


# -- the attempt's status machine ----------------------------------------------------------


def _refusal(status: str, transition: Transition) -> str:
    return _("A payment attempt that is %(status)s cannot be %(past)s.") % {
        "status": Outcome(status).label,
        "past": transition.past,
    }


def _unknown(status: str, action: str) -> str:
    return _("Unknown payment action: %(action)s.") % {"action": action}


# processing -> approved | declined | pending | failed (the provider's answer);
# failed, processing (a crashed call) -> processing (a retry with the same key);
# failed, processing (unsettled) -> approved | declined | failed (what a look-up found);
# pending -> approved (a merchant confirms the transfer).
UNSETTLED = frozenset({Outcome.PROCESSING, Outcome.FAILED})
PAYMENT_TRANSITIONS: TransitionTable[type[events.DomainEvent]] = TransitionTable(
    [
        Transition("approve", frozenset({Outcome.PROCESSING}), Outcome.APPROVED, events.PaymentAttempted,
                   gettext_lazy("Approve"), gettext_lazy("approved")),
        Transition("decline", frozenset({Outcome.PROCESSING}), Outcome.DECLINED, events.PaymentAttempted,
                   gettext_lazy("Decline"), gettext_lazy("declined")),
        Transition("hold", frozenset({Outcome.PROCESSING}), Outcome.PENDING, events.PaymentAttempted,
                   gettext_lazy("Hold"), gettext_lazy("left pending")),
        Transition("fail", frozenset({Outcome.PROCESSING}), Outcome.FAILED, events.PaymentAttempted,
                   gettext_lazy("Fail"), gettext_lazy("failed")),
        Transition("retry", frozenset({Outcome.PROCESSING, Outcome.FAILED}), Outcome.PROCESSING, None,
                   gettext_lazy("Retry"), gettext_lazy("retried")),
        Transition("confirm", frozenset({Outcome.PENDING}), Outcome.APPROVED, events.PaymentConfirmed,
                   gettext_lazy("Mark as paid"), gettext_lazy("marked as paid")),
        Transition("settle_approved", UNSETTLED, Outcome.APPROVED, events.PaymentAttempted,
                   gettext_lazy("Settle as approved"), gettext_lazy("found approved by the provider")),
        Transition("settle_declined", UNSETTLED, Outcome.DECLINED, events.PaymentAttempted,
                   gettext_lazy("Settle as declined"), gettext_lazy("found declined by the provider")),
        Transition("settle_not_received", UNSETTLED, Outcome.FAILED, events.PaymentAttempted,
                   gettext_lazy("Settle as not received"),
                   gettext_lazy("found never received by the provider")),
    ],
    refusal=_refusal,
    unknown=_unknown,
)  # fmt: skip
ANSWER_ACTIONS = {
    Outcome.APPROVED: "approve",
    Outcome.DECLINED: "decline",
    Outcome.PENDING: "hold",
    Outcome.FAILED: "fail",
}
SETTLE_ACTIONS = {
    Outcome.APPROVED: "settle_approved",
    Outcome.DECLINED: "settle_declined",
    Outcome.FAILED: "settle_not_received",
}


# -- helpers -------------------------------------------------------------------------------


def _outside_transaction(name: str) -> None:
    if connection.in_atomic_block:
        raise PaymentInsideTransaction(
            f"{name}() calls a payment provider: it must not run inside transaction.atomic()"
        )


def _lock_reference(reference: str) -> None:
    """Serialize the payments of one checkout (until this transaction ends)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, hashtext(%s))",
            [LOCK_CLASS, f"{connection.schema_name}:{reference}"],
        )


def _clean_money(errors: dict[str, str], amount: Any, currency: Any) -> tuple[Decimal, str]:
    try:
        currency = normalize_currency(currency)
    except MoneyError as exc:
        errors["currency"] = str(exc)
        return Decimal(0), ""
    try:
        amount = parse_amount(amount, currency)
    except MoneyError as exc:
        errors["amount"] = str(exc)
        return Decimal(0), currency
    if amount <= 0:
        errors["amount"] = _("the amount must be more than zero")
    return amount, currency


def _clean_reference(errors: dict[str, str], reference: Any) -> str:
    text = reference.strip() if isinstance(reference, str) else ""
    if not text:
        errors["reference"] = _("required")
    elif len(text) > 100:
        errors["reference"] = _("at most %(count)d characters") % {"count": 100}
    return text


def _stale(attempt: PaymentAttempt) -> bool:
    """Whether a ``processing`` attempt was abandoned (its caller crashed or gave up)."""
    age = timedelta(seconds=settings.PAYMENT_ATTEMPT_STALE_SECONDS)
    return attempt.updated_at <= timezone.now() - age


def _retry(attempt: PaymentAttempt) -> PaymentAttempt:
    PAYMENT_TRANSITIONS.check(attempt.outcome, "retry")
    model_update(
        instance=attempt,
        fields=["outcome", "tries", "error_code", "message"],
        data={
            "outcome": Outcome.PROCESSING,
            "tries": attempt.tries + 1,
            "error_code": "",
            "message": "",
        },
    )
    return attempt


def reconcile_after() -> timedelta:
    return timedelta(seconds=settings.PAYMENT_RECONCILE_AFTER_SECONDS)


def _new_attempt(*, reference: str, kind: str, number: int, **fields: Any) -> PaymentAttempt:
    attempt = PaymentAttempt.objects.create(
        reference=reference, kind=kind, number=number,
        idempotency_key=f"{reference}:{kind}:{number}", **fields,
    )  # fmt: skip
    if kind == PaymentKind.CHARGE:
        # A charge may be left unsettled (a crash, a timeout, an outage, the shopper gone):
        # beat looks at it then. The job moves the mark to whatever is left, so a charge that
        # fails or is retried later needs no mark of its own.
        work_due(kind=RECONCILE_PAYMENTS, at=attempt.updated_at + reconcile_after())
    return attempt


def _latest(attempts: list[PaymentAttempt]) -> PaymentAttempt | None:
    return max(attempts, key=lambda attempt: attempt.number, default=None)


def _unsettled(latest: PaymentAttempt | None) -> bool:
    """Whether the provider may or may not have acted on ``latest`` (a crashed call, a
    timeout, an outage): then the next call is a retry of it, with its idempotency key."""
    return latest is not None and (
        latest.outcome == Outcome.PROCESSING
        or (latest.outcome == Outcome.FAILED and latest.error_code in RETRY_SAME_KEY)
    )


def _refuse_in_flight(latest: PaymentAttempt | None) -> None:
    if latest is not None and latest.outcome == Outcome.PROCESSING and not _stale(latest):
        raise PaymentConflict(
            _("A payment for this checkout is being processed; wait for its answer."),
            attempt_id=str(latest.pk),
        )


def _as_looked_up(current: PaymentAttempt, looked_up: PaymentAttempt) -> bool:
    """Whether ``current`` is still the unsettled attempt ``looked_up`` was: not retried,
    settled or linked to an order meanwhile."""
    return (
        _unsettled(current)
        and current.order_id is None
        and (current.outcome, current.error_code, current.tries)
        == (looked_up.outcome, looked_up.error_code, looked_up.tries)
    )


def _record(
    attempt: PaymentAttempt, result: ChargeResult, *, actor, settling: bool = False
) -> PaymentAttempt | None:
    """The provider's answer, in the attempt's second transaction, with its event.

    ``settling``: ``result`` is what a look-up found of an unsettled attempt; it is recorded
    only if the attempt is still as it was looked up (under the checkout's lock, so no retry
    starts meanwhile), else nothing is and the answer is ``None``."""
    with transaction.atomic():
        if settling:
            _lock_reference(attempt.reference)
        looked_up = attempt
        attempt = PaymentAttempt.objects.select_for_update().get(pk=attempt.pk)
        if settling and not _as_looked_up(attempt, looked_up):
            return None
        actions = SETTLE_ACTIONS if settling else ANSWER_ACTIONS
        PAYMENT_TRANSITIONS.check(attempt.outcome, actions[result.outcome])
        model_update(
            instance=attempt,
            fields=["outcome", "provider_reference", "error_code", "message", "version"],
            data={
                "outcome": result.outcome,
                "provider_reference": result.provider_reference[:100],
                "error_code": result.error_code[:64],
                "message": str(result.message),
                "version": attempt.version + 1,
            },
        )
        publish(
            events.PaymentAttempted(
                attempt_id=attempt.pk, version=attempt.version, reference=attempt.reference,
                kind=attempt.kind, number=attempt.number, tries=attempt.tries,
                provider=attempt.provider, amount=round_amount(attempt.amount, attempt.currency),
                currency=attempt.currency,
                outcome=attempt.outcome, provider_reference=attempt.provider_reference,
                error_code=attempt.error_code, card_last4=attempt.card_last4,
                card_brand=attempt.card_brand,
            ),
            actor=actor,
        )  # fmt: skip
    count_attempt(
        provider=attempt.provider, kind=attempt.kind, outcome=attempt.outcome,
        error_code=attempt.error_code,
    )  # fmt: skip
    return attempt


def _refused(attempt: PaymentAttempt) -> Exception | None:
    """The typed error for an attempt that did not go through; None when it did."""
    extra = {"attempt_id": str(attempt.pk), "error_code": attempt.error_code}
    if attempt.outcome == Outcome.FAILED:
        return PaymentUnavailable(attempt.message, retry_after=60, **extra)
    if attempt.outcome != Outcome.DECLINED:
        return None
    if attempt.kind == PaymentKind.REFUND:
        return PaymentConflict(attempt.message, **extra)
    return PaymentDeclined(attempt.message, **extra)


def _finish(attempt: PaymentAttempt, result: ChargeResult, *, actor) -> PaymentAttempt:
    attempt = _record(attempt, result, actor=actor)
    assert attempt is not None  # only a settling record is ever skipped
    refused = _refused(attempt)
    if refused is not None:
        raise refused
    return attempt


# -- settling an attempt whose answer never came ---------------------------------------------


class _SettleFirst(Exception):
    """``_charge_start`` found the checkout's latest charge unsettled and the new one
    different: what became of it must be known before anything else is charged."""

    def __init__(self, attempt: PaymentAttempt) -> None:
        super().__init__(attempt.idempotency_key)
        self.attempt = attempt


def _outcome_unknown(attempt: PaymentAttempt, error_code: str) -> PaymentUnavailable:
    return PaymentUnavailable(
        _(
            "The outcome of your earlier payment is not known yet, so nothing was charged now. "
            "Try again in a minute."
        ),
        retry_after=60, attempt_id=str(attempt.pk), error_code=error_code,
    )  # fmt: skip


def payment_settle(*, attempt: PaymentAttempt, actor=None) -> PaymentAttempt | None:
    """Ask the provider what became of the unsettled charge ``attempt`` and record it on the
    attempt with its event: approved (with the provider's reference), declined, or failed
    with ``not_received`` when the provider never got it. ``PaymentUnavailable`` (503),
    recording nothing, while the provider cannot tell (it cannot be reached, or the charge
    is still being worked on). ``None`` when the attempt changed meanwhile (retried, settled
    by another call, linked to an order): this call recorded nothing."""
    chosen = registered_provider(attempt.provider)
    if chosen is None:
        raise _outcome_unknown(attempt, "unknown_provider")
    if chosen.remote:
        _outside_transaction("payment_settle")
    found = chosen.lookup(attempt.reference, attempt.idempotency_key)
    if found is None:
        found = ChargeResult(
            outcome=Outcome.FAILED,
            error_code=NOT_RECEIVED,
            message=_("The payment service never received this payment; nothing was charged."),
        )
    elif found.outcome not in SETTLE_ACTIONS or found.outcome == Outcome.FAILED:
        raise _outcome_unknown(attempt, found.error_code or "unknown")
    elif found.outcome == Outcome.APPROVED and not found.message:
        found = replace(
            found,
            message=_(
                "Approved: the payment service finished this payment after its answer had "
                "not come, and said so when it was asked again."
            ),
        )
    return _record(attempt, found, actor=actor, settling=True)


def _paid_earlier(attempt: PaymentAttempt, amount: Decimal, currency: str, actor) -> PaymentAttempt:
    """The checkout's earlier charge, found approved when the shopper paid again with other
    details: it pays the checkout when it is for the same amount. For another amount (the
    cart changed since) it is refunded at once and the payment refused."""
    logger.warning(
        "charge %s of %s was found approved after it had no answer: no new charge made",
        attempt.idempotency_key, attempt.reference,
    )  # fmt: skip
    if (attempt.amount, attempt.currency) == (amount, currency):
        return attempt
    try:
        payment_refund(order_reference=attempt.reference, actor=actor)
    except (PaymentUnavailable, PaymentConflict):
        # Recorded as a refund in flight; beat's reconciliation tries it again.
        logger.error("refund of %s's earlier charge could not be made now", attempt.reference)
    raise PaymentConflict(
        _(
            "Your earlier payment of %(amount)s %(currency)s went through after all, but your "
            "order's total has changed since. It is being refunded, and nothing was charged now."
        )
        % {"amount": round_amount(attempt.amount, attempt.currency), "currency": attempt.currency},
        attempt_id=str(attempt.pk),
    )


# -- charges -------------------------------------------------------------------------------


def payment_charge(
    *,
    reference: str,
    amount: Decimal | str,
    currency: str,
    provider_code: str,
    card: CardDetails | dict | None = None,
    actor=None,
) -> PaymentAttempt:
    """Charge ``amount`` for the checkout ``reference`` with the provider ``provider_code``.

    Returns the attempt when it was approved or is pending (a bank transfer, whose message
    holds the instructions). Raises ``CommerceInvalid`` (400) for bad input, a card that
    fails the Luhn check or has expired included, before anything is recorded or called;
    ``PaymentConflict`` (409) when the checkout is paid already or a payment of it is in
    flight; ``PaymentDeclined`` (402) and ``PaymentUnavailable`` (503) after recording the
    attempt. A retry after a timeout or an outage, with the same amount and card, is the
    same attempt again (same idempotency key, one more ``tries``).

    With other details after such a failure, the earlier attempt is settled first
    (``payment_settle``): found approved, it is returned and nothing new is charged (the
    checkout is paid by the earlier card; for another amount it is refunded and
    ``PaymentConflict`` raised); found declined or never received, the new charge goes on;
    while the provider cannot tell, ``PaymentUnavailable`` and nothing is charged.
    """
    _outside_transaction("payment_charge")
    errors: dict[str, str] = {}
    reference = _clean_reference(errors, reference)
    amount, currency = _clean_money(errors, amount, currency)
    try:
        chosen = provider(provider_code)
    except CommerceInvalid as exc:
        errors.update(exc.errors)
        chosen = None
    if chosen is not None and chosen.needs_card:
        try:
            card = clean_card(card)
        except CommerceInvalid as exc:
            errors.update(exc.errors)
    if errors:
        raise CommerceInvalid(errors)
    card = card if chosen.needs_card else None
    for _round in range(3):
        try:
            attempt = _charge_start(reference, amount, currency, chosen, card)
            break
        except _SettleFirst as unsettled:
            settled = payment_settle(attempt=unsettled.attempt, actor=actor)
            if settled is not None and settled.outcome == Outcome.APPROVED:
                return _paid_earlier(settled, amount, currency, actor)
    else:  # other calls kept making and leaving attempts meanwhile
        raise PaymentConflict(
            _("A payment for this checkout is being processed; wait for its answer.")
        )
    result = chosen.charge(
        ChargeRequest(
            reference=reference, amount=amount, currency=currency,
            idempotency_key=attempt.idempotency_key, card=card,
        )
    )  # fmt: skip
    return _finish(attempt, result, actor=actor)


def _charge_start(
    reference: str,
    amount: Decimal,
    currency: str,
    chosen: PaymentProvider,
    card: CardDetails | None,
) -> PaymentAttempt:
    """The attempt's first transaction: a new attempt, or the last one again for a retry."""
    details = {
        "provider": chosen.code, "amount": amount, "currency": currency,
        "card_last4": card.last4 if card else "", "card_brand": card.brand if card else "",
    }  # fmt: skip
    with transaction.atomic():
        _lock_reference(reference)
        attempts = list(PaymentAttempt.objects.filter(reference=reference))
        if any(left > 0 for _charge, left in _charges_left(attempts)):
            raise PaymentConflict(_("This checkout is paid already."))
        charges = [attempt for attempt in attempts if attempt.kind == PaymentKind.CHARGE]
        latest = _latest(charges)
        _refuse_in_flight(latest)
        if _unsettled(latest):
            if all(getattr(latest, k) == v for k, v in details.items()):
                return _retry(latest)
            raise _SettleFirst(latest)
        number = latest.number + 1 if latest else 1
        return _new_attempt(reference=reference, kind=PaymentKind.CHARGE, number=number, **details)


def _charges_left(attempts: list[PaymentAttempt]) -> list[tuple[PaymentAttempt, Decimal]]:
    """The approved charges among a checkout's ``attempts``, oldest first, each with what of
    it is not refunded. The approved refunds are counted against the charges in order: a
    charge refunded whole (one found approved after the shopper paid otherwise, or left
    behind) comes before the charge that pays the checkout afterwards."""
    refunded = sum(
        (
            a.amount
            for a in attempts
            if a.kind == PaymentKind.REFUND and a.outcome == Outcome.APPROVED
        ),
        Decimal(0),
    )
    charges = sorted(
        (a for a in attempts if a.kind == PaymentKind.CHARGE and a.outcome == Outcome.APPROVED),
        key=lambda attempt: attempt.number,
    )
    left = []
    for charge in charges:
        taken = min(charge.amount, refunded)
        refunded -= taken
        left.append((charge, charge.amount - taken))
    return left


# -- refunds -------------------------------------------------------------------------------


def payment_refund(
    *, order_reference: str, amount: Decimal | str | None = None, actor=None
) -> PaymentAttempt:
    """Give back ``amount`` (default: all that is left) of the approved charge of the checkout
    ``order_reference`` (the reference the order was placed with), recorded as an attempt of
    kind ``refund``.

    Refunds of one charge never add up to more than it: the refunds approved and those in
    flight count. ``PaymentNotFound`` (404) without an approved charge, ``PaymentConflict``
    (409) for a provider that does not refund online (a bank transfer is paid back by the
    merchant's bank) or a refund the provider refuses, ``PaymentUnavailable`` (503) when the
    provider cannot be reached (a retry with the same amount is the same refund again).
    """
    _outside_transaction("payment_refund")
    errors: dict[str, str] = {}
    reference = _clean_reference(errors, order_reference)
    if errors:
        raise CommerceInvalid(errors)
    attempt, charge = _refund_start(reference, amount)
    # The charge's own provider, enabled or not: money taken through a provider switched
    # off since is still given back through it.
    chosen = registered_provider(charge.provider)
    result = chosen.refund(
        RefundRequest(
            reference=reference, charge_reference=charge.provider_reference,
            amount=attempt.amount, currency=attempt.currency,
            idempotency_key=attempt.idempotency_key,
        )
    )  # fmt: skip
    return _finish(attempt, result, actor=actor)


def _refund_start(reference: str, amount: Any) -> tuple[PaymentAttempt, PaymentAttempt]:
    with transaction.atomic():
        _lock_reference(reference)
        attempts = list(PaymentAttempt.objects.filter(reference=reference))
        charges = _charges_left(attempts)
        if not charges:
            raise PaymentNotFound(_("This checkout has no approved payment to refund."))
        # The charge with money left (one at most: a checkout is paid once at a time), else
        # the last one, with nothing left.
        charge, remainder = next(((c, left) for c, left in charges if left > 0), charges[-1])
        charged_by = registered_provider(charge.provider)
        if charged_by is None or not charged_by.refunds:
            raise PaymentConflict(
                _("Payments by %(method)s are refunded outside the shop, by the merchant's bank.")
                % {"method": charged_by.label if charged_by else charge.provider}
            )
        refunds = [a for a in attempts if a.kind == PaymentKind.REFUND]
        latest = _latest(refunds)
        _refuse_in_flight(latest)
        retrying = _unsettled(latest)
        errors: dict[str, str] = {}
        if amount is None:
            amount = latest.amount if retrying else remainder
        amount, _currency = _clean_money(errors, amount, charge.currency)
        if not errors and amount > remainder:
            errors["amount"] = _("at most %(amount)s %(currency)s is left to refund") % {
                "amount": remainder, "currency": charge.currency,
            }  # fmt: skip
        if errors:
            raise CommerceInvalid(errors)
        if retrying and latest.amount == amount:
            return _retry(latest), charge
        number = latest.number + 1 if latest else 1
        return _new_attempt(
            reference=reference, kind=PaymentKind.REFUND, number=number, provider=charge.provider,
            amount=amount, currency=charge.currency, card_last4=charge.card_last4,
            card_brand=charge.card_brand,
        ), charge  # fmt: skip


# -- a transfer received --------------------------------------------------------------------


def payment_confirm(*, attempt_id: UUID, provider_reference: str, actor=None) -> PaymentAttempt:
    """A merchant marks a pending payment (a bank transfer) as received, with the reference of
    the transfer. ``InvalidTransition`` (409) for an attempt that is not pending.

    Calls no provider, so unlike the charges and refunds it may run inside the caller's
    transaction: ``order_payments.order_record_transfer`` marks the order paid and confirms
    its payment in one."""
    errors: dict[str, str] = {}
    provider_reference = provider_reference.strip() if isinstance(provider_reference, str) else ""
    if not provider_reference:
        errors["provider_reference"] = _("required")
    elif len(provider_reference) > 100:
        errors["provider_reference"] = _("at most %(count)d characters") % {"count": 100}
    if errors:
        raise CommerceInvalid(errors)
    with transaction.atomic():
        try:
            attempt = PaymentAttempt.objects.select_for_update().filter(pk=attempt_id).first()
        except (ValueError, DjangoValidationError):
            attempt = None
        if attempt is None:
            raise PaymentNotFound(_("No such payment."))
        PAYMENT_TRANSITIONS.check(attempt.outcome, "confirm")
        model_update(
            instance=attempt,
            fields=["outcome", "provider_reference", "version"],
            data={
                "outcome": Outcome.APPROVED,
                "provider_reference": provider_reference,
                "version": attempt.version + 1,
            },
        )
        publish(
            events.PaymentConfirmed(
                attempt_id=attempt.pk, version=attempt.version, reference=attempt.reference,
                provider=attempt.provider, amount=round_amount(attempt.amount, attempt.currency),
                currency=attempt.currency,
                provider_reference=provider_reference,
            ),
            actor=actor,
        )  # fmt: skip
    return attempt


# -- the order a checkout's payments belong to -----------------------------------------------


def payments_link_order(*, reference: str, order_id: UUID) -> int:
    """Name the order placed for the checkout ``reference`` on its payment attempts. Runs
    inside the place-order transaction (unlike the services that call a provider); returns
    how many attempts it named."""
    return PaymentAttempt.objects.filter(reference=reference, order_id__isnull=True).update(
        order_id=order_id
    )
