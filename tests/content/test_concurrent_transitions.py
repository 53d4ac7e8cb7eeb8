"""Two transitions of one node at the same moment: one wins, the other is refused.

Real concurrency on committed data: each contender is a thread with its own
database connection, released together behind a barrier. Without the row lock
(and the status check under it) both would read the same status and both
would write, bumping the version twice and publishing two events.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection, connections
from django_tenants.utils import schema_context

from apps.content import services
from apps.content.models import Node, NodeStatus
from apps.content.services import NodeInput, TranslationInput
from apps.core.errors import InvalidTransition
from apps.events.models import OutboxEvent

ROUNDS = 5  # one race per fresh node: a lost update shows in any of them

EVENT_OF = {
    services.node_publish: "content.node.published",
    services.node_unpublish: "content.node.unpublished",
    services.node_archive: "content.node.archived",
}
STATUS_AFTER = {
    services.node_publish: NodeStatus.PUBLISHED,
    services.node_unpublish: NodeStatus.DRAFT,
    services.node_archive: NodeStatus.ARCHIVED,
}


def _committed_node(title: str, *, published: bool) -> Node:
    with schema_context("acme"):
        node = services.node_create(
            data=NodeInput(kind="post", translations=[TranslationInput(locale="en", title=title)])
        )
        if published:
            node = services.node_publish(node_id=node.pk)
    return node


def race(node_id, changes: list[Callable[..., Node]]) -> list[tuple]:
    """Run each change of ``node_id`` in its own thread, all released at once.

    Returns one outcome per change, in the order given: ``("ok", version)``,
    ``("refused", current status)`` or ``("error", repr)``.
    """
    barrier = threading.Barrier(len(changes))
    outcomes: list[tuple] = [("not run",)] * len(changes)

    def contender(index: int, change: Callable[..., Node]) -> None:
        try:
            with schema_context("acme"):
                # Connected (and on acme's search path) before the start line.
                Node.objects.filter(pk=node_id).exists()
                barrier.wait(timeout=10)
                try:
                    outcomes[index] = ("ok", change(node_id=node_id).version)
                except InvalidTransition as refused:
                    outcomes[index] = ("refused", refused.extra["current"])
        except Exception as error:  # reported, not swallowed: the assertion shows it
            outcomes[index] = ("error", repr(error))
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=contender, args=(index, change))
        for index, change in enumerate(changes)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    return outcomes


def _events_of(node_id, since_version: int) -> list[tuple[str, int]]:
    return list(
        OutboxEvent.objects.filter(aggregate_id=str(node_id), aggregate_version__gt=since_version)
        .order_by("position")
        .values_list("event_type", "aggregate_version")
    )


@pytest.fixture
def committed_nodes(live_db):
    """Nodes made here are committed; they (and their events, by ``live_db``) go afterwards."""
    made: list[Node] = []
    yield made
    with schema_context("acme"):
        Node.objects.filter(pk__in=[node.pk for node in made]).delete()
    connection.set_schema_to_public()


@pytest.mark.parametrize(
    ("published", "changes"),
    [
        pytest.param(False, [services.node_publish, services.node_publish], id="publish-twice"),
        pytest.param(
            True, [services.node_unpublish, services.node_archive], id="unpublish-vs-archive"
        ),
        pytest.param(True, [services.node_archive, services.node_archive], id="archive-twice"),
    ],
)
def test_one_of_two_concurrent_transitions_wins(committed_nodes, published, changes):
    for round_ in range(ROUNDS):
        node = _committed_node(f"Contested {round_}", published=published)
        committed_nodes.append(node)
        outcomes = race(node.pk, changes)

        winners = [index for index, outcome in enumerate(outcomes) if outcome[0] == "ok"]
        assert len(winners) == 1, outcomes
        (winner,) = winners
        (loser,) = [index for index in range(len(changes)) if index != winner]
        winning_change = changes[winner]
        # The loser saw the winner's result, read under the lock, not the status it started from.
        assert outcomes[loser] == ("refused", STATUS_AFTER[winning_change]), outcomes
        assert outcomes[winner] == ("ok", node.version + 1)

        with schema_context("acme"):
            stored = Node.objects.get(pk=node.pk)
        assert (stored.status, stored.version) == (STATUS_AFTER[winning_change], node.version + 1)
        assert _events_of(node.pk, node.version) == [(EVENT_OF[winning_change], node.version + 1)]
