"""Reads of payments that other code (orders, the admin, the API) may use."""

from __future__ import annotations

from django.db.models import QuerySet

from ..models import PaymentAttempt, PaymentKind, PaymentOutcome


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
