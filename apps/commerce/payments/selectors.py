"""Reads of payments that other code (orders, the admin, the API) may use."""

from __future__ import annotations

from django.db.models import QuerySet

from ..models import PaymentAttempt


def payments_for(reference: str) -> QuerySet[PaymentAttempt]:
    """Every attempt (charges and refunds) of the checkout ``reference``, oldest first."""
    return PaymentAttempt.objects.filter(reference=reference).order_by("created_at", "number")
