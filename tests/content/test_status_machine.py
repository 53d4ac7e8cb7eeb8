"""The content status machine, explored by hypothesis against the real services in acme.

The test keeps its own model of each node (status, version, schedule, the events
it must have published), written from the documented machine rather than from
``services.TRANSITIONS``:

    draft --publish--> published --unpublish--> draft
    published --archive--> archived --restore--> draft
    draft --schedule--> draft (publish_at set or cleared; "Updated" when it changes)
    draft with publish_at <= now --publish_due--> published

After every step the database must agree with the model: status, version,
schedule, first publication time and the node's events in the outbox, in order.
A refused step raises ``InvalidTransition`` and leaves all of that as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import schema_context
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from apps.content import services
from apps.content.models import Node, NodeStatus
from apps.content.services import NodeInput, TranslationInput
from apps.core.errors import InvalidTransition
from apps.events.models import OutboxEvent

NODE_COUNT = 3
DRAFT, PUBLISHED, ARCHIVED = "draft", "published", "archived"

# action -> {status it may start from: status it ends in}
EXPECTED_MOVES: dict[str, dict[str, str]] = {
    "publish": {DRAFT: PUBLISHED},
    "unpublish": {PUBLISHED: DRAFT},
    "archive": {PUBLISHED: ARCHIVED},
    "restore": {ARCHIVED: DRAFT},
}
EXPECTED_EVENT = {
    "publish": "content.node.published",
    "unpublish": "content.node.unpublished",
    "archive": "content.node.archived",
    "restore": "content.node.restored",
}
SERVICE = {
    "publish": services.node_publish,
    "unpublish": services.node_unpublish,
    "archive": services.node_archive,
    "restore": services.node_restore,
}
# Schedules, as offsets from the example's start (always in the future when used).
SCHEDULE_OFFSETS = [None, timedelta(hours=1), timedelta(days=1)]
DUE_AFTER = timedelta(days=2)  # publish_due runs "now" this far ahead: every schedule is due


@dataclass
class Expected:
    """What the test believes about one node."""

    status: str = DRAFT
    version: int = 1
    publish_at: datetime | None = None
    published_at: datetime | None = None
    # (event type, aggregate version, from status, to status); status fields None for updates
    events: list[tuple[str, int, str | None, str | None]] = field(default_factory=list)


def _event_rows(node_id) -> list[tuple[str, int, str | None, str | None]]:
    rows = OutboxEvent.objects.filter(aggregate_id=str(node_id)).order_by("position")
    return [
        (
            row.event_type,
            row.aggregate_version,
            row.payload.get("from_status"),
            row.payload.get("to_status"),
        )
        for row in rows
    ]


def _outbox_head() -> int:
    return OutboxEvent.objects.order_by("-position").values_list("position", flat=True).first() or 0


class NodeStatusMachine(RuleBasedStateMachine):
    """A few acme nodes driven through the services; each example runs in a savepoint."""

    def __init__(self) -> None:
        super().__init__()
        # The test's transaction (pytest-django's ``db``) holds every example; each one
        # rolls back to here in teardown(), so the next starts from a clean acme.
        self._savepoint = transaction.savepoint()
        self.start = timezone.now()
        others_due = Node.objects.filter(
            status=NodeStatus.DRAFT, publish_at__lte=self.start + DUE_AFTER
        )
        assert not others_due.exists(), (
            "acme has scheduled drafts of its own: publish_due is not ours"
        )
        self.ids = []
        self.expected: dict = {}
        for number in range(NODE_COUNT):
            node = services.node_create(
                data=NodeInput(
                    kind="post",
                    translations=[TranslationInput(locale="en", title=f"Machine node {number}")],
                )
            )
            self.ids.append(node.pk)
            # node_create's own events are the starting point of each node's history.
            self.expected[node.pk] = Expected(events=_event_rows(node.pk))
            assert (node.status, node.version) == (DRAFT, 1)

    def teardown(self) -> None:
        transaction.savepoint_rollback(self._savepoint)

    # -- rules --------------------------------------------------------------------------

    @rule(index=st.integers(0, NODE_COUNT - 1), action=st.sampled_from(sorted(SERVICE)))
    def transition(self, index: int, action: str) -> None:
        node_id = self.ids[index]
        model = self.expected[node_id]
        target = EXPECTED_MOVES[action].get(model.status)
        head = _outbox_head()
        if target is None:
            with pytest.raises(InvalidTransition) as refused:
                SERVICE[action](node_id=node_id)
            assert refused.value.extra["current"] == model.status
            assert _outbox_head() == head, "a refused transition published an event"
            return
        before = timezone.now()
        node = SERVICE[action](node_id=node_id)
        previous = model.status
        model.status, model.version = target, model.version + 1
        if target == PUBLISHED:
            model.publish_at = None
            if model.published_at is None:
                assert before <= node.published_at <= timezone.now()
                model.published_at = node.published_at
        model.events.append((EXPECTED_EVENT[action], model.version, previous, target))
        assert (node.status, node.version) == (model.status, model.version)

    @rule(
        index=st.integers(0, NODE_COUNT - 1),
        offset=st.sampled_from(range(len(SCHEDULE_OFFSETS))),
    )
    def schedule(self, index: int, offset: int) -> None:
        node_id = self.ids[index]
        model = self.expected[node_id]
        delta = SCHEDULE_OFFSETS[offset]
        publish_at = None if delta is None else self.start + delta
        head = _outbox_head()
        if model.status != DRAFT:
            with pytest.raises(InvalidTransition) as refused:
                services.node_schedule(node_id=node_id, publish_at=publish_at)
            assert refused.value.extra["current"] == model.status
            assert _outbox_head() == head, "a refused schedule published an event"
            return
        services.node_schedule(node_id=node_id, publish_at=publish_at)
        if publish_at != model.publish_at:
            model.publish_at = publish_at
            model.version += 1
            model.events.append(("content.node.updated", model.version, None, None))
        else:
            assert _outbox_head() == head, "an unchanged schedule published an event"

    @rule()
    def publish_due(self) -> None:
        now = self.start + DUE_AFTER
        due = [
            node_id
            for node_id in self.ids
            if self.expected[node_id].status == DRAFT and self.expected[node_id].publish_at
        ]
        assert services.nodes_publish_due(now=now) == len(due)
        for node_id in due:
            model = self.expected[node_id]
            model.status, model.version, model.publish_at = PUBLISHED, model.version + 1, None
            model.published_at = model.published_at or now
            model.events.append(("content.node.published", model.version, DRAFT, PUBLISHED))

    # -- invariants ---------------------------------------------------------------------

    @invariant()
    def nodes_match_the_model(self) -> None:
        rows = {
            row["id"]: row
            for row in Node.objects.filter(pk__in=self.ids).values(
                "id", "status", "version", "publish_at", "published_at"
            )
        }
        for node_id in self.ids:
            model = self.expected[node_id]
            row = rows[node_id]
            assert (row["status"], row["version"]) == (model.status, model.version), node_id
            assert row["publish_at"] == model.publish_at
            assert row["published_at"] == model.published_at

    @invariant()
    def outbox_matches_the_model(self) -> None:
        for node_id in self.ids:
            assert _event_rows(node_id) == self.expected[node_id].events, node_id


@pytest.fixture
def acme_db(acme):
    with schema_context("acme"):
        yield acme


def test_the_status_machine_matches_its_model(acme_db):
    run_state_machine_as_test(
        NodeStatusMachine,
        settings=settings(max_examples=30, stateful_step_count=15, deadline=None),
    )
