"""Backpressure by age, seen through the API: a tenant write gets 503 and Retry-After, then goes through."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.content.models import Node
from apps.events import relay
from apps.events.models import OutboxEvent
from tests.api.conftest import assert_problem
from tests.conftest import as_tenant_admin, tenant_client
from tests.eventapp.services import widget_change

TITLE_PREFIX = "Backpressure "


@pytest.fixture
def acme_admin_api(clean_events):
    """acme's administrator through the API, on committed data; the nodes it made go at the end."""
    client = as_tenant_admin(tenant_client("acme"))
    yield client
    with schema_context("acme"):
        client.logout()
        Node.objects.filter(translations__title__startswith=TITLE_PREFIX).delete()


def _create_node(client, title: str):
    return client.post(
        "/api/v1/nodes/",
        {"kind": "recipe", "translations": {"en": {"title": title}}},
        content_type="application/json",
    )


def _nodes_titled(title: str) -> int:
    with schema_context("acme"):
        return Node.objects.filter(translations__title=title).count()


def test_an_old_pending_event_refuses_tenant_writes_until_the_backlog_is_gone(
    acme_admin_api, settings
):
    settings.EVENTS = {
        **settings.EVENTS,
        "OLDEST_AGE_HIGH_WATER_SECONDS": 600,
        "BACKLOG_HIGH_WATER": 1000,  # far away: only the age can trip
        "BACKPRESSURE_CHECK_SECONDS": 0,
    }
    with schema_context("acme"):
        widget_change(widget_id=uuid.uuid4(), note="just published")
    assert OutboxEvent.objects.filter(status="pending").count() == 1
    # One young pending event is no reason to refuse a write.
    young = f"{TITLE_PREFIX}while young {uuid.uuid4().hex[:6]}"
    assert _create_node(acme_admin_api, young).status_code == 201
    relay.drain()

    # The same backlog, one event, but waiting for an hour: past the limit.
    with schema_context("acme"):
        widget_change(widget_id=uuid.uuid4(), note="stuck for an hour")
    OutboxEvent.objects.filter(status="pending").update(
        pending_since=timezone.now() - timedelta(hours=1)
    )
    assert OutboxEvent.objects.filter(status="pending").count() == 1
    refused = f"{TITLE_PREFIX}refused {uuid.uuid4().hex[:6]}"
    response = _create_node(acme_admin_api, refused)
    body = assert_problem(response, 503, "backpressure")
    assert "oldest waiting event" in body["detail"]
    assert int(response["Retry-After"]) >= 1
    assert _nodes_titled(refused) == 0
    assert OutboxEvent.objects.filter(status="pending").count() == 1  # nothing was published
    assert acme_admin_api.get("/api/v1/nodes/").status_code == 200  # reads go on

    stats = relay.drain()
    assert stats.handled == 1 and not OutboxEvent.objects.filter(status="pending").exists()
    accepted = f"{TITLE_PREFIX}accepted {uuid.uuid4().hex[:6]}"
    response = _create_node(acme_admin_api, accepted)
    assert response.status_code == 201, response.content
    assert _nodes_titled(accepted) == 1
