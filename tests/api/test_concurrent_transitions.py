"""Two requests changing the status of one node at the same moment: one 200, one 409.

Committed data and real concurrency: each request runs in its own thread, with
its own test client (logged in as the same committed editor of acme) and so
its own database connection, all released together behind a barrier.
"""

from __future__ import annotations

import threading

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, connections
from django.test import Client
from django_tenants.utils import schema_context

from apps.content import services
from apps.content.models import Node, NodeStatus
from apps.events.models import OutboxEvent
from tests.conftest import tenant_client

from .conftest import PROBLEM, login_as, make_node

User = get_user_model()
ROUNDS = 5
EVENT_OF = {
    "publish": "content.node.published",
    "unpublish": "content.node.unpublished",
    "archive": "content.node.archived",
}


@pytest.fixture
def editor_clients(live_db):
    """Two clients of acme logged in as one committed Editor; user, sessions and nodes go afterwards."""
    clients = [tenant_client("acme"), tenant_client("acme")]
    user = login_as(clients[0], "acme", email="race-editor@acme.test", groups=["Editor"])
    with schema_context("acme"):
        clients[1].force_login(user)
    nodes: list[Node] = []
    yield clients, nodes
    with schema_context("acme"):
        for client in clients:
            client.logout()
        Node.objects.filter(pk__in=[node.pk for node in nodes]).delete()
        User.objects.filter(pk=user.pk).delete()
    connection.set_schema_to_public()


def concurrent_posts(clients: list[Client], urls: list[str]) -> list:
    """POST ``urls[i]`` with ``clients[i]``, every request released at the same moment."""
    barrier = threading.Barrier(len(clients))
    responses: list = [None] * len(clients)

    def request(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            responses[index] = clients[index].post(urls[index])
        except Exception as error:  # reported, not swallowed: the assertion shows it
            responses[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=request, args=(index,)) for index in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    return responses


@pytest.mark.parametrize(
    ("published", "actions", "outcome"),
    [
        pytest.param(
            False, ("publish", "publish"), {"publish": NodeStatus.PUBLISHED}, id="publish-twice"
        ),
        pytest.param(
            True,
            ("unpublish", "archive"),
            {"unpublish": NodeStatus.DRAFT, "archive": NodeStatus.ARCHIVED},
            id="unpublish-vs-archive",
        ),
    ],
)
def test_two_concurrent_transitions_give_one_200_and_one_409(
    editor_clients, published, actions, outcome
):
    clients, nodes = editor_clients
    for round_ in range(ROUNDS):
        node = make_node("acme", title=f"Raced {round_}")
        if published:
            node = _in_acme(services.node_publish, node_id=node.pk)
        nodes.append(node)
        urls = [f"/api/v1/posts/{node.pk}/{action}/" for action in actions]

        responses = concurrent_posts(clients, urls)

        statuses = [getattr(response, "status_code", response) for response in responses]
        assert sorted(statuses, key=str) == [200, 409], statuses
        winner = statuses.index(200)
        loser = 1 - winner
        won_with = outcome[actions[winner]]
        assert responses[winner].json()["status"] == won_with
        refused = responses[loser]
        assert refused["Content-Type"] == PROBLEM
        body = refused.json()
        assert (body["status"], body["code"]) == (409, "invalid_transition")
        # Refused on what the winner left, read under the lock.
        assert body["current"] == won_with

        stored = _in_acme(Node.objects.get, pk=node.pk)
        assert (stored.status, stored.version) == (won_with, node.version + 1)
        changes = OutboxEvent.objects.filter(
            aggregate_id=str(node.pk), aggregate_version__gt=node.version
        ).values_list("event_type", "payload__to_status")
        assert list(changes) == [(EVENT_OF[actions[winner]], won_with)]


def _in_acme(function, /, **kwargs):
    with schema_context("acme"):
        return function(**kwargs)
