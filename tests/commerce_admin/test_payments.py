"""The payment attempts' admin: a read-only record, filtered and searched, card digits masked.

Rows are made with the ORM here: the payment services commit before calling a provider, so
they cannot run in a test's transaction (tests/commerce/test_payments.py runs them)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from apps.commerce.models import PaymentAttempt

from .conftest import ADMIN, page

ATTEMPTS = f"{ADMIN}paymentattempt/"


def attempts(count: int, *, provider: str = "test_card", outcome: str = "approved") -> list:
    with schema_context("acme"):
        return PaymentAttempt.objects.bulk_create(
            PaymentAttempt(
                reference=f"chk-{provider}-{number}", kind="charge", number=1, provider=provider,
                amount=Decimal("12.5"), currency="EUR", outcome=outcome,
                provider_reference=f"ch_{number}", card_last4="4242", card_brand="visa",
                idempotency_key=f"chk-{provider}-{number}:charge:1",
                message="Your card was declined." if outcome == "declined" else "",
            )
            for number in range(count)
        )  # fmt: skip


@pytest.mark.parametrize("count", [3, 30])
def test_the_list_costs_the_same_queries_for_3_and_30_attempts(
    merchant_client: Client, django_assert_num_queries, count
):
    attempts(count)
    merchant_client.get(ATTEMPTS)  # warm the per-process caches (tenant, flags, modules)
    # session, user, the user's and the groups' permissions, the providers for their filter,
    # the date hierarchy's bounds and its dates, the count and the rows.
    with django_assert_num_queries(9):
        content = page(merchant_client.get(ATTEMPTS))
    assert content.count("chk-test_card-") == count
    assert "visa •••• 4242" in content and "12.50 EUR" in content


def test_the_list_filters_by_provider_and_outcome_and_searches_by_reference(merchant_client):
    attempts(2)
    attempts(2, provider="manual", outcome="pending")
    attempts(1, provider="other", outcome="declined")

    by_provider = page(merchant_client.get(ATTEMPTS, {"provider": "manual"}))
    by_outcome = page(merchant_client.get(ATTEMPTS, {"outcome": "declined"}))
    searched = page(merchant_client.get(ATTEMPTS, {"q": "chk-test_card-1"}))

    assert by_provider.count("chk-manual-") == 2 and "chk-test_card-" not in by_provider
    assert "chk-other-0" in by_outcome and "chk-manual-" not in by_outcome
    assert "Your card was declined." in by_outcome
    assert "chk-test_card-1" in searched and "chk-test_card-0" not in searched


def test_nobody_adds_changes_or_deletes_an_attempt(merchant_client):
    [attempt] = attempts(1)
    url = f"{ATTEMPTS}{attempt.pk}/change/"

    detail = page(merchant_client.get(url))

    assert "chk-test_card-0:charge:1" in detail and 'type="submit" value="Save"' not in detail
    assert merchant_client.get(f"{ATTEMPTS}add/").status_code == 403
    assert merchant_client.post(url, {"reference": "x"}).status_code == 403
    assert merchant_client.post(f"{ATTEMPTS}{attempt.pk}/delete/").status_code == 403
    with schema_context("acme"):
        assert PaymentAttempt.objects.get(pk=attempt.pk).reference == "chk-test_card-0"
