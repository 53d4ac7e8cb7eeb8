"""Helpers of the operator-surface tests (admin, commands, /metrics)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context

from apps.events import relay
from apps.events.models import Delivery, DeliveryStatus, OutboxEvent
from tests.eventapp.services import widget_change

FAILING_NOTE = "doomed <b>"


def publish_widgets(schema: str, *notes: str, widget_id: uuid.UUID | None = None) -> list:
    """One ``testing.widget.changed`` per note (one widget each unless ``widget_id``)."""
    ids = []
    with schema_context(schema):
        for note in notes:
            widget = widget_change(widget_id=widget_id or uuid.uuid4(), note=note)
            ids.append(str(widget.id))
    rows = OutboxEvent.objects.filter(aggregate_id__in=ids, schema_name=schema)
    return list(rows.order_by("position"))


@dataclass
class DeadLetters:
    acme_dead: Delivery
    acme_blocked: Delivery
    globex_dead: Delivery


def make_dead_letters(rds, settings_fixture) -> DeadLetters:
    """Committed: a dead letter and one held back behind it in acme, a dead letter in globex."""
    settings_fixture.EVENTS = {**settings_fixture.EVENTS, "MAX_ATTEMPTS": 1}
    rds.set(f"test:always_fail:{FAILING_NOTE}", 1)
    chain = uuid.uuid4()
    publish_widgets("acme", FAILING_NOTE, FAILING_NOTE, widget_id=chain)
    publish_widgets("globex", FAILING_NOTE)
    relay.drain()
    rows = Delivery.objects.order_by("position")
    acme = list(rows.filter(tenant__slug="acme"))
    assert [row.status for row in acme] == [DeliveryStatus.DEAD, DeliveryStatus.BLOCKED]
    (globex,) = rows.filter(tenant__slug="globex")
    assert globex.status == DeliveryStatus.DEAD
    return DeadLetters(acme_dead=acme[0], acme_blocked=acme[1], globex_dead=globex)


@contextmanager
def committed_operator() -> Iterator[Client]:
    """A logged-in superuser on the public domain, committed (for ``live_db`` tests)."""
    user = get_user_model().objects.create_superuser(
        f"live-op-{uuid.uuid4().hex[:8]}", "live-op@platform.test", "pw-live-operator"
    )
    client = Client(HTTP_HOST=settings.TENANT_BASE_DOMAIN)
    client.force_login(user)
    try:
        yield client
    finally:
        client.logout()
        # Not user.delete(): its collector follows waffle's relations to users, whose
        # tables exist in tenant schemas only.
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM auth_user WHERE id = %s", [user.pk])
