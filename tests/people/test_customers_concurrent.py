"""Customers under real concurrency: threads on their own connections behind a barrier, on
committed data. Two sign-ups with one email make one account; two first addresses added at
once make one default (the address book is locked through its customer's row)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django_tenants.utils import schema_context

from apps.people import selectors, services
from tests.commerce.concurrency import race

ROUNDS = 4
PASSWORD = "plum-orchard-42"
BERLIN = {"name": "Ada K", "street": "Unter den Linden 1", "postal_code": "10117",
          "city": "Berlin", "country": "DE"}  # fmt: skip


@pytest.fixture
def committed(live_db):
    """Accounts made here are committed; they go afterwards."""
    yield
    with schema_context("acme"):
        get_user_model().objects.filter(username__startswith="race-").delete()
    connection.set_schema_to_public()


def test_two_sign_ups_with_one_email_make_one_account(committed):
    for round_ in range(ROUNDS):
        email = f"race-{round_}@example.test"

        def sign_up(name: str, email=email):
            return services.customer_sign_up(email=email, password=PASSWORD, display_name=name)

        outcomes = race([lambda: sign_up("First"), lambda: sign_up("Second")])
        assert sorted(outcome[0] for outcome in outcomes) == ["ok", "refused"], outcomes
        assert ("refused", "CustomerInvalid") in outcomes
        with schema_context("acme"):
            assert get_user_model().objects.filter(username=email).count() == 1


def test_two_first_addresses_at_once_make_one_default(committed):
    for round_ in range(ROUNDS):
        with schema_context("acme"):
            user = services.customer_sign_up(
                email=f"race-book-{round_}@example.test", password=PASSWORD, display_name="Ada"
            )

        def add(name: str, user_id=user.pk):
            return services.address_create(user_id=user_id, data={**BERLIN, "name": name})

        outcomes = race([lambda: add("One"), lambda: add("Two")])
        assert [outcome[0] for outcome in outcomes] == ["ok", "ok"], outcomes
        with schema_context("acme"):
            assert [a.is_default for a in selectors.addresses(user.pk)] == [True, False]
