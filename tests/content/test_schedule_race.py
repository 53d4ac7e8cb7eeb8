"""Scheduling and publishing one draft at the same moment: never published with a schedule left.

``node_schedule`` checks that the node is a draft and writes ``publish_at``
under one row lock, in one transaction. Were the check and the write two
transactions, a publish slipping in between would leave a published node with
``publish_at`` set (and a scheduler that publishes it "again").

Real concurrency on committed data, in a fixed order: a holder locks the row;
the scheduler, then the publisher queue behind it (each on its own connection,
seen waiting in ``pg_stat_activity``); the holder lets go.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from django.db import connection, connections, transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.content import services
from apps.content.models import Node, NodeStatus
from apps.content.services import NodeInput, TranslationInput
from tests.locks import lock_waiters

from .test_concurrent_transitions import committed_nodes  # noqa: F401 (a fixture)

WAIT_SECONDS = 10


def _until(condition) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        assert time.monotonic() < deadline, "the contenders never queued on the row lock"
        time.sleep(0.01)


def test_a_publish_queued_behind_a_schedule_never_leaves_a_schedule_on_a_published_node(
    committed_nodes,  # noqa: F811
):
    with schema_context("acme"):
        node = services.node_create(
            data=NodeInput(kind="post", translations=[TranslationInput(locale="en", title="Race")])
        )
    committed_nodes.append(node)
    when = timezone.now() + timedelta(days=1)
    locked, release = threading.Event(), threading.Event()
    outcomes: dict[str, str] = {}

    def holder() -> None:
        try:
            with schema_context("acme"), transaction.atomic():
                Node.objects.select_for_update().get(pk=node.pk)
                locked.set()
                release.wait(WAIT_SECONDS)
        finally:
            connections.close_all()

    def contender(name: str, change) -> None:
        try:
            with schema_context("acme"):
                change()
            outcomes[name] = "ok"
        except Exception as error:  # reported by the assertion below
            outcomes[name] = repr(error)
        finally:
            connections.close_all()

    schedule = threading.Thread(
        target=contender,
        args=("schedule", lambda: services.node_schedule(node_id=node.pk, publish_at=when)),
    )
    publish = threading.Thread(
        target=contender, args=("publish", lambda: services.node_publish(node_id=node.pk))
    )
    holding = threading.Thread(target=holder)
    holding.start()
    assert locked.wait(WAIT_SECONDS)
    schedule.start()
    _until(lambda: lock_waiters() >= 1)  # the scheduler is first in the queue
    publish.start()
    _until(lambda: lock_waiters() >= 2)
    release.set()
    for thread in (holding, schedule, publish):
        thread.join(timeout=30)
        assert not thread.is_alive()

    with schema_context("acme"):
        stored = Node.objects.get(pk=node.pk)
    # The schedule was written under the lock it was checked under; the publish then cleared it.
    assert outcomes == {"schedule": "ok", "publish": "ok"}
    assert (stored.status, stored.publish_at) == (NodeStatus.PUBLISHED, None)
    connection.set_schema_to_public()
