"""With real Celery workers: the relay makes deliveries, the webhook worker sends them, and a
receiver that takes 10 s holds up neither the relay nor other tenants' webhooks."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from apps.webhooks import selectors
from tests.events.conftest import Workers, wait_for

from .conftest import endpoint_in, publish_widget

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("committed")]

ALLOW_LOCAL = {"WEBHOOKS_ALLOW_HTTP": "1", "WEBHOOKS_ALLOW_PRIVATE_ADDRESSES": "1"}


@pytest.fixture
def workers(committed, tmp_path):
    pool = Workers(tmp_path)
    yield pool
    pool.stop_all()


def statuses(schema: str) -> list[str]:
    with schema_context(schema):
        return [d.status for d in selectors.deliveries()]


def test_a_slow_receiver_of_one_tenant_does_not_delay_another_tenants_events(receivers, workers):
    slow = receivers(hold=True, hold_seconds=10)
    fast = receivers()
    endpoint_in("acme", slow.url)
    endpoint_in("globex", fast.url)
    workers.start(queues="celery", **ALLOW_LOCAL)  # the relay
    workers.start(concurrency=2, queues="webhooks", **ALLOW_LOCAL)

    publish_widget("acme", "slow")
    wait_for(slow.arrived.is_set, message=workers.logs)  # acme's receiver now holds a request

    publish_widget("globex", "fast")
    wait_for(lambda: statuses("globex") == ["delivered"], message=workers.logs)
    # ... while acme's request is still held (it would have ended, after 10 s, had anything
    # waited for it).
    assert slow.answered == 0 and statuses("acme") == ["pending"]
    assert fast.received[0].json()["payload"]["note"] == "fast"

    slow.release.set()
    wait_for(lambda: statuses("acme") == ["delivered"], message=workers.logs)
    assert len(slow.received) == 1
