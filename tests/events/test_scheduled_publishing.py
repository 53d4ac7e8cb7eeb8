"""Scheduled publishing through the real path: beat's task, sent through the broker, run by a worker.

``content.publish_due`` walks every active tenant and publishes its due drafts;
a suspended tenant's drafts wait, however late they are. Each test sends the
task by name, as beat does, and waits on what the worker leaves behind (the
node's status, the worker's log line for the task it ran), never on time.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.content import services
from apps.content.models import Node, NodeStatus
from apps.content.services import NodeInput, TranslationInput
from apps.index.models import ContentListing
from apps.tenancy.services import tenant_activate, tenant_suspend
from config.celery import app as celery_app
from tests.events.conftest import wait_for

pytestmark = pytest.mark.integration

TENANTS = ("acme", "globex")


def _draft(schema: str, title: str, publish_at) -> Node:
    with schema_context(schema):
        return services.node_create(
            data=NodeInput(
                kind="post",
                translations=[TranslationInput(locale="en", title=title)],
                publish_at=publish_at,
            )
        )


def _status(schema: str, node: Node) -> tuple[str, object]:
    with schema_context(schema):
        stored = Node.objects.get(pk=node.pk)
    return stored.status, stored.publish_at


def _finished(workers, task_id: str) -> tuple[int] | None:
    """What the worker's run of task ``task_id`` returned, once its log says it succeeded."""
    logs = "\n".join(log.read_text() for _, log in workers.procs)
    if re.search(rf"Task content\.publish_due\[{task_id}\] raised", logs):
        raise AssertionError(f"content.publish_due failed:\n{workers.logs()}")
    found = re.search(rf"Task content\.publish_due\[{task_id}\] succeeded in \S+: (\d+)", logs)
    return (int(found.group(1)),) if found else None


def _run_publish_due(workers) -> int:
    """Send the task as beat would; once the worker has finished that very run, its total."""
    task_id = celery_app.send_task("content.publish_due").id
    (total,) = wait_for(lambda: _finished(workers, task_id), message=workers.logs)
    return total


@pytest.fixture
def scheduled(workers):
    """Per tenant: a draft due a minute ago and one due tomorrow (committed; removed afterwards)."""
    past, future = timezone.now() - timedelta(minutes=1), timezone.now() + timedelta(days=1)
    nodes = {
        schema: {
            "due": _draft(schema, f"Due in {schema}", past),
            "later": _draft(schema, f"Later in {schema}", future),
        }
        for schema in TENANTS
    }
    yield nodes
    workers.stop_all()  # no handler may be reading these nodes while they go
    for schema, made in nodes.items():
        ids = [node.pk for node in made.values()]
        with schema_context(schema):
            ContentListing.objects.filter(node_id__in=ids).delete()
            Node.objects.filter(pk__in=ids).delete()
    connection.set_schema_to_public()


def test_the_task_publishes_the_due_drafts_of_every_active_tenant(scheduled, workers):
    workers.start()

    total = _run_publish_due(workers)

    assert total == len(TENANTS)
    for schema in TENANTS:
        assert _status(schema, scheduled[schema]["due"]) == (NodeStatus.PUBLISHED, None)
        later = scheduled[schema]["later"]
        assert _status(schema, later) == (NodeStatus.DRAFT, later.publish_at)


@pytest.mark.parametrize("suspended", TENANTS)
def test_the_task_skips_a_suspended_tenant(scheduled, workers, suspended):
    (active,) = [schema for schema in TENANTS if schema != suspended]
    workers.start()
    tenant_suspend(slug=suspended)
    try:
        total = _run_publish_due(workers)

        # The run is over (its log line is there) and published the active tenant's draft only.
        assert total == 1
        assert _status(active, scheduled[active]["due"]) == (NodeStatus.PUBLISHED, None)
        waiting = scheduled[suspended]["due"]
        assert _status(suspended, waiting) == (NodeStatus.DRAFT, waiting.publish_at)
    finally:
        tenant_activate(slug=suspended)

    # Active again: the next run publishes what waited.
    assert _run_publish_due(workers) == 1
    assert _status(suspended, scheduled[suspended]["due"]) == (NodeStatus.PUBLISHED, None)
