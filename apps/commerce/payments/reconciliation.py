"""Charges nobody came back for: beat's ``commerce.reconcile_payments``.

A charge whose answer never came (a timeout, an outage, a worker that died after the
attempt was written) is settled when the shopper pays again (``services.payment_settle``).
A shopper who left instead may still have been charged: the gateway can finish a charge
after the shop stopped waiting for it. So every charge of a checkout without an order that
is still unsettled ``PAYMENT_RECONCILE_AFTER_SECONDS`` after its last change is looked up at
its provider: found approved, it is recorded so and refunded at once (money taken with no
order would otherwise stay taken); found declined or never received, it is recorded so.
A provider that cannot tell yet is asked again on a later run.

An approved charge of a checkout without an order whose refund did not go through (here, or
after a placement that failed) is refunded again on each run until it does. Charges linked
to an order are never touched: the order's payments are the merchant's.

Two runs at once never handle one charge twice: each takes its charges with ``FOR UPDATE
SKIP LOCKED`` and pushes their ``updated_at`` forward before calling anybody, and each write
checks the attempt under the checkout's lock (``payment_settle``, ``payment_refund``).
"""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import DecimalField, Min, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.db.models.lookups import LessThan
from django.utils import timezone

from apps.core.errors import PlatformError

from ..models import PaymentAttempt, PaymentKind
from ..models import PaymentOutcome as Outcome
from .services import (
    RECONCILE_PAYMENTS,
    RETRY_SAME_KEY,
    payment_refund,
    payment_settle,
    reconcile_after,
)

logger = logging.getLogger(__name__)

__all__ = ["RECONCILE_PAYMENTS", "payments_next_reconcile", "payments_reconcile"]

# At most this many charges are looked up per tenant and beat run; the rest wait a minute.
RECONCILE_BATCH = 20


def _total(kind: str) -> Coalesce:
    """The approved amounts of ``kind`` of the outer attempt's checkout, added up."""
    approved = (
        PaymentAttempt.objects.filter(
            reference=OuterRef("reference"), kind=kind, outcome=Outcome.APPROVED
        )
        .order_by()
        .values("reference")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return Coalesce(Subquery(approved), Value(Decimal(0)), output_field=DecimalField())


def _left_behind() -> Q:
    """Charges of checkouts without an order whose money may be at the provider: unsettled,
    or approved while the checkout's approved refunds give back less than its approved
    charges took (refunds count against the charges in order: ``services._charges_left``)."""
    unsettled = Q(outcome=Outcome.PROCESSING) | Q(
        outcome=Outcome.FAILED, error_code__in=RETRY_SAME_KEY
    )
    kept = Q(outcome=Outcome.APPROVED) & Q(
        LessThan(_total(PaymentKind.REFUND), _total(PaymentKind.CHARGE))
    )
    return Q(kind=PaymentKind.CHARGE, order_id__isnull=True) & (unsettled | kept)


def _take(now: datetime, batch: int) -> list[PaymentAttempt]:
    """The charges due, locked (others' skipped) and pushed a period forward: another run
    does not see them again before that, and if this one dies they come back then."""
    with transaction.atomic():
        due = (
            PaymentAttempt.objects.select_for_update(skip_locked=True)
            .filter(_left_behind(), updated_at__lte=now - reconcile_after())
            .order_by("updated_at", "pk")
        )
        taken = list(due[:batch])
        if taken:
            PaymentAttempt.objects.filter(pk__in=[a.pk for a in taken]).update(updated_at=now)
    return taken


def _refund(attempt: PaymentAttempt) -> bool:
    logger.warning(
        "charge %s of %s was approved but the checkout has no order: refunding it",
        attempt.idempotency_key, attempt.reference,
    )  # fmt: skip
    try:
        payment_refund(order_reference=attempt.reference)
    except PlatformError as refused:
        logger.error(
            "refund of %s's charge %s did not go through (%s); tried again on a later run",
            attempt.reference, attempt.idempotency_key, type(refused).__name__,
        )  # fmt: skip
        return False
    return True


def _reconcile(attempt: PaymentAttempt) -> bool:
    """Settle (and refund) one charge taken; whether anything was done."""
    if attempt.outcome == Outcome.APPROVED:
        return _refund(attempt)
    try:
        settled = payment_settle(attempt=attempt)
    except PlatformError as unknown:
        logger.info(
            "charge %s of %s is still unsettled: %s",
            attempt.idempotency_key, attempt.reference, type(unknown).__name__,
        )  # fmt: skip
        return False
    if settled is None:
        return False  # the shopper came back meanwhile: the checkout's own call settles it
    if settled.outcome == Outcome.APPROVED:
        _refund(settled)
    else:
        logger.info(
            "charge %s of %s settled as %s (%s)",
            attempt.idempotency_key, attempt.reference, settled.outcome, settled.error_code,
        )  # fmt: skip
    return True


def payments_reconcile(*, now: datetime | None = None, batch: int = RECONCILE_BATCH) -> int:
    """Settle the active schema's charges left behind (see the module's docstring); how
    many were settled or refunded. Runs outside any transaction: it calls the providers."""
    now = now or timezone.now()
    return sum(_reconcile(attempt) for attempt in _take(now, batch))


def payments_next_reconcile() -> datetime | None:
    """When the active schema's soonest charge left behind is due (``None``: none is)."""
    soonest = PaymentAttempt.objects.filter(_left_behind()).aggregate(soonest=Min("updated_at"))[
        "soonest"
    ]
    return soonest + reconcile_after() if soonest is not None else None
