"""Members reply while a moderator locks the topic; an answer is marked while it is hidden.

Real concurrency on committed data: each contender is a thread with its own database
connection in acme, released together behind a barrier. A reply takes the topic's row lock
and checks the topic under it, and so does the lock: every reply either lands before the
lock (it committed first) or is refused with ``TopicClosed``; none is written after.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, connections
from django_tenants.utils import schema_context

from apps.core.errors import PlatformError
from apps.events.models import OutboxEvent
from apps.forum import services
from apps.forum.models import ModerationEntry, Reply, Topic
from tests.index.support import wipe_tables

from . import factories

REPLIERS = 10
ROUNDS = 3
FORUM_TABLES = (
    "forum_notice, forum_subscription, forum_flag, forum_edit, forum_moderationentry, "
    "forum_topic_tags, forum_reply, forum_topic, forum_forumcategory, forum_member, "
    "index_forum_topic, index_forum_category"
)


def race(contenders: list[Callable[[], object]]) -> list[tuple]:
    """Run each contender in its own thread in acme, all released at once.

    One outcome per contender, in order: ``("ok", result)``, ``("refused", error)`` for a
    domain error, ``("error", repr)`` for anything else (a deadlock: what must never happen).
    """
    barrier = threading.Barrier(len(contenders))
    outcomes: list[tuple] = [("not run",)] * len(contenders)

    def run(index: int, contender: Callable[[], object]) -> None:
        try:
            with schema_context("acme"):
                Topic.objects.exists()  # connected, on acme's search path, before the start
                barrier.wait(timeout=10)
                try:
                    outcomes[index] = ("ok", contender())
                except PlatformError as refused:
                    outcomes[index] = ("refused", refused)
        except Exception as error:  # reported, not swallowed: the assertions show it
            outcomes[index] = ("error", repr(error))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=item) for item in enumerate(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return outcomes


@pytest.fixture
def committed_forum(live_db):
    """A forum committed in acme (a category, an author, ten members, a moderator), removed
    afterwards with everyone made here; ``live_db`` empties the outbox."""
    wipe_tables(FORUM_TABLES)
    with schema_context("acme"):
        before = set(get_user_model().objects.values_list("pk", flat=True))
        people = {
            "category": factories.category(name="Race track"),
            "author": factories.member("Topic Author"),
            "members": [factories.member(f"Replier {n}") for n in range(REPLIERS)],
            "moderator": factories.moderator("Mia Moderator"),
        }
        for member in people["members"]:
            services.member_for(member)
    yield people
    connection.set_schema_to_public()
    wipe_tables(FORUM_TABLES)
    with schema_context("acme"):
        get_user_model().objects.exclude(pk__in=before).delete()


def _positions(topic_id: int) -> tuple[list[int], list[int]]:
    """Outbox positions of the topic's replies' ``posted`` events and of its ``locked`` event."""
    events = OutboxEvent.objects.filter(schema_name="acme", payload__topic_id=topic_id)
    posted = events.filter(event_type="forum.reply.posted").values_list("position", flat=True)
    locked = events.filter(event_type="forum.topic.locked").values_list("position", flat=True)
    return list(posted), list(locked)


def test_replies_racing_a_lock_land_before_it_or_are_refused(committed_forum):
    people = committed_forum
    for round_ in range(ROUNDS):
        with schema_context("acme"):
            topic = services.topic_start(
                category_id=people["category"].pk, title=f"Race {round_}", body="Go",
                actor=people["author"],
            )  # fmt: skip
        repliers = [
            partial(services.reply_post, topic_id=topic.pk, body="Me too", actor=member)
            for member in people["members"]
        ]
        lock = partial(
            services.topic_moderate,
            topic_id=topic.pk, action="lock", actor=people["moderator"], reason="heated",
        )  # fmt: skip
        middle = REPLIERS // 2
        outcomes = race([*repliers[:middle], lock, *repliers[middle:]])

        assert outcomes.pop(middle)[0] == "ok", outcomes
        assert {outcome[0] for outcome in outcomes} <= {"ok", "refused"}, outcomes
        landed = {outcome[1].pk for outcome in outcomes if outcome[0] == "ok"}
        refused = [outcome[1] for outcome in outcomes if outcome[0] == "refused"]
        for error in refused:
            assert (type(error).__name__, error.status) == ("TopicClosed", 409)
            assert "locked" in str(error)
        assert len(landed) + len(refused) == REPLIERS

        with schema_context("acme"):
            stored = Topic.objects.get(pk=topic.pk)
            assert (stored.locked, stored.version) == (True, 2)
            replies = Reply.objects.filter(topic_id=topic.pk)
            assert set(replies.values_list("pk", flat=True)) == landed
            entry = ModerationEntry.objects.get(topic_id=topic.pk, action="lock")
            # None written after the lock: each landed reply committed before the lock began.
            assert all(reply.created_at < entry.created_at for reply in replies)
        posted, (locked,) = _positions(topic.pk)
        assert len(posted) == len(landed)
        assert all(position < locked for position in posted)


def test_an_answer_marked_while_it_is_hidden_is_no_answer(committed_forum):
    """The hide and the marking both take the topic's lock first: whichever comes second sees
    the other's result. Never a hidden answer, never a deadlock."""
    people = committed_forum
    for round_ in range(ROUNDS * 2):
        with schema_context("acme"):
            topic = services.topic_start(
                category_id=people["category"].pk, title=f"Answer {round_}", body="?",
                actor=people["author"],
            )  # fmt: skip
            answer = services.reply_post(topic_id=topic.pk, body="42", actor=people["members"][0])
        mark = partial(
            services.topic_mark_solved,
            topic_id=topic.pk, reply_id=answer.pk, actor=people["author"],
        )  # fmt: skip
        hide = partial(
            services.reply_moderate, reply_id=answer.pk, action="hide", actor=people["moderator"]
        )
        marked, hidden = race([mark, hide])
        assert hidden[0] == "ok", hidden
        assert marked[0] in ("ok", "refused"), marked
        with schema_context("acme"):
            stored = Topic.objects.get(pk=topic.pk)
            assert stored.solution_id is None
            types = list(
                OutboxEvent.objects.filter(aggregate_type="forum_topic", aggregate_id=str(topic.pk))
                .order_by("position")
                .values_list("event_type", flat=True)
            )
        if marked[0] == "ok":  # marked first, then hidden: unmarked by the hide
            assert types == ["forum.topic.started", "forum.topic.solved", "forum.topic.unsolved"]
            assert stored.version == 3
        else:  # hidden first: the marking found no approved reply
            assert type(marked[1]).__name__ == "ReplyNotFound"
            assert types == ["forum.topic.started"]
