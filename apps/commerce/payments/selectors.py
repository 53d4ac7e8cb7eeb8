"""Reads of payments that other code (orders, the admin, the API) may use."""

from __future__ import annotations

from django.db.models import QuerySet

from ..models import PaymentAttempt, PaymentKind, PaymentOutcome
from .cards import normalize_card_number


def payments_for(reference: str) -> QuerySet[PaymentAttempt]:
    """Every attempt (charges and refunds) of the checkout ``reference``, oldest first."""
    return PaymentAttempt.objects.filter(reference=reference).order_by("created_at", "number")


def payment_pending_charge(reference: str) -> PaymentAttempt | None:
    """The charge of the checkout ``reference`` that waits for a merchant (a bank transfer not
    yet received), if there is one."""
    return (
        PaymentAttempt.objects.filter(
            reference=reference, kind=PaymentKind.CHARGE, outcome=PaymentOutcome.PENDING
        )
        .order_by("-number")
        .first()
    )


def payment_refunds_approved(reference: str) -> list[PaymentAttempt]:
    """The refunds the provider made for the checkout ``reference``, oldest first."""
    return list(
        PaymentAttempt.objects.filter(
            reference=reference, kind=PaymentKind.REFUND, outcome=PaymentOutcome.APPROVED
        ).order_by("number")
    )


def payment_paid_by(reference: str) -> PaymentAttempt | None:
    """The approved charge that paid the checkout ``reference`` (its card's brand and last
    four digits say which card paid), if there is one."""
    return (
        PaymentAttempt.objects.filter(
            reference=reference, kind=PaymentKind.CHARGE, outcome=PaymentOutcome.APPROVED
        )
        .order_by("-number")
        .first()
    )


def payment_paid_earlier(order, *, provider_code: str, card_number: str | None = None) -> bool:
    """Whether ``order`` was paid by an earlier charge of its checkout (one found approved
    after its answer had not come) rather than by the method, or the card, just given."""
    if order.payment_provider != provider_code:
        return True
    if not card_number:  # no card given: the method itself paid (a transfer waits)
        return False
    paid = payment_paid_by(order.checkout_reference)
    if paid is None or not paid.card_last4:
        return False
    return paid.card_last4 != normalize_card_number(card_number)[-4:]
