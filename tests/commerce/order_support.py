"""Committed orders for the tests that need other connections (threads, the relay)."""

from __future__ import annotations

import pytest
from django.db import connection
from django_tenants.utils import schema_context

ORDER_TABLES = "commerce_orderemail, commerce_orderline, commerce_order, commerce_orderevent"


def wipe_orders() -> None:
    """Every order of acme, streams included: TRUNCATE, as the stream refuses DELETE."""
    with schema_context("acme"), connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {ORDER_TABLES}")


@pytest.fixture
def committed_orders(live_db):
    """Orders placed here are committed; they go afterwards."""
    wipe_orders()
    yield
    wipe_orders()
    connection.set_schema_to_public()
