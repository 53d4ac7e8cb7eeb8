import uuid

import pytest
from django_tenants.utils import schema_context

from apps.events.models import OutboxEvent
from tests.eventapp.models import Effect
from tests.eventapp.services import widget_change
from tests.events.conftest import wait_for

pytestmark = pytest.mark.integration


def test_a_committed_event_reaches_its_handler_through_a_real_worker(workers):
    workers.start()
    widget_id = uuid.uuid4()
    with schema_context("acme"):
        widget_change(widget_id=widget_id, note="hello")

    def handled():
        with schema_context("acme"):
            return Effect.objects.filter(widget_id=widget_id).count()

    assert wait_for(handled, message=workers.logs) == 1
    wait_for(lambda: not OutboxEvent.objects.filter(status="pending").exists())
