"""The forum's status machines and its moderation flow, against the real services in acme.

The state machine keeps its own model of a few topics and their replies, written from the
documented machines rather than from the services' tables (a test below checks that the
tables say the same):

    topic status   open --close--> closed --reopen--> open; open|closed --archive--> archived
                   archived --reopen--> open
    pin, lock      unpinned <--pin/unpin--> pinned; unlocked <--lock/unlock--> locked
    review         pending --approve--> approved; pending --reject--> rejected
    (topics and    rejected --approve--> approved; approved --hide--> hidden --unhide--> approved
    replies)

A member's reply to a closed, archived or locked topic is refused with ``TopicClosed``; a
moderator may still post. In a moderated category a member's post waits (pending). A topic's
answer is an approved reply of the topic; hiding it unmarks it (a change of the topic).
After every step the database agrees with the model: states, versions, answers, the events
of each topic and reply in order, and the moderation log. A refused step raises and changes
nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from django.db import transaction
from django.db.models import Q
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from apps.core.errors import InvalidTransition, PlatformError
from apps.events.models import OutboxEvent
from apps.forum import selectors, services
from apps.forum.errors import ForumConflict, NotAllowed, ReplyNotFound, TopicClosed, TopicNotFound
from apps.forum.models import Flag, ModerationEntry, Reply, Topic

from . import factories

OPEN, CLOSED, ARCHIVED = "open", "closed", "archived"
PENDING, APPROVED, REJECTED, HIDDEN = "pending", "approved", "rejected", "hidden"

# action -> (the state it moves, {state it may start from: state it ends in}, event type)
TOPIC_MOVES: dict[str, tuple[str, dict, str]] = {
    "close": ("status", {OPEN: CLOSED}, "forum.topic.closed"),
    "reopen": ("status", {CLOSED: OPEN, ARCHIVED: OPEN}, "forum.topic.reopened"),
    "archive": ("status", {OPEN: ARCHIVED, CLOSED: ARCHIVED}, "forum.topic.archived"),
    "pin": ("pinned", {"unpinned": "pinned"}, "forum.topic.pinned"),
    "unpin": ("pinned", {"pinned": "unpinned"}, "forum.topic.unpinned"),
    "lock": ("locked", {"unlocked": "locked"}, "forum.topic.locked"),
    "unlock": ("locked", {"locked": "unlocked"}, "forum.topic.unlocked"),
    "approve": ("review", {PENDING: APPROVED, REJECTED: APPROVED}, "forum.topic.approved"),
    "reject": ("review", {PENDING: REJECTED}, "forum.topic.rejected"),
    "hide": ("review", {APPROVED: HIDDEN}, "forum.topic.hidden"),
    "unhide": ("review", {HIDDEN: APPROVED}, "forum.topic.unhidden"),
}
REPLY_MOVES: dict[str, tuple[dict, str]] = {
    "approve": ({PENDING: APPROVED, REJECTED: APPROVED}, "forum.reply.approved"),
    "reject": ({PENDING: REJECTED}, "forum.reply.rejected"),
    "hide": ({APPROVED: HIDDEN}, "forum.reply.hidden"),
    "unhide": ({HIDDEN: APPROVED}, "forum.reply.unhidden"),
}
UNKNOWN = "explode"  # an action no table has: refused like any other
WHO = ("author", "member", "moderator")


def test_the_services_tables_are_the_documented_machines():
    def moves(table, action):
        transition = table.by_action[action]
        return {source: transition.target for source in transition.sources}

    assert set(services.TOPIC_ACTIONS) == set(TOPIC_MOVES)
    machines = {machine.field: machine.table for machine in services.TOPIC_MACHINES}
    for action, (state, expected, event_type) in TOPIC_MOVES.items():
        assert moves(machines[state], action) == expected, action
        assert services.TOPIC_ACTIONS[action].event.event_type == event_type
    assert set(services.REPLY_REVIEW.actions) == set(REPLY_MOVES)
    for action, (expected, event_type) in REPLY_MOVES.items():
        assert moves(services.REPLY_REVIEW, action) == expected, action
        assert services.REPLY_REVIEW.by_action[action].event.event_type == event_type


@dataclass
class TopicModel:
    by: str  # who started it: "author" (a member) or "moderator"
    moderated: bool
    status: str = OPEN
    pinned: str = "unpinned"
    locked: str = "unlocked"
    review: str = APPROVED
    solution: int | None = None
    version: int = 1
    # (event type, aggregate version, from status, to status)
    events: list[tuple] = field(default_factory=list)
    # (action, reason, reply id), oldest first
    log: list[tuple] = field(default_factory=list)


@dataclass
class ReplyModel:
    topic_id: int
    status: str
    version: int = 1
    events: list[tuple] = field(default_factory=list)


def _events(aggregate_type: str, aggregate_id: int) -> list[tuple]:
    rows = OutboxEvent.objects.filter(
        aggregate_type=aggregate_type, aggregate_id=str(aggregate_id)
    ).order_by("position")
    return [
        (
            row.event_type,
            row.aggregate_version,
            row.payload.get("from_status"),
            row.payload.get("to_status"),
        )
        for row in rows
    ]


def _all_events(topic_ids, reply_ids) -> dict[tuple[str, int], list[tuple]]:
    """The events of these topics and replies, by aggregate, each aggregate's in order."""
    found: dict[tuple[str, int], list[tuple]] = {
        **{("forum_topic", pk): [] for pk in topic_ids},
        **{("forum_reply", pk): [] for pk in reply_ids},
    }
    rows = OutboxEvent.objects.filter(
        Q(aggregate_type="forum_topic", aggregate_id__in=[str(pk) for pk in topic_ids])
        | Q(aggregate_type="forum_reply", aggregate_id__in=[str(pk) for pk in reply_ids])
    ).order_by("position")
    for row in rows:
        found[(row.aggregate_type, int(row.aggregate_id))].append(
            (
                row.event_type,
                row.aggregate_version,
                row.payload.get("from_status"),
                row.payload.get("to_status"),
            )
        )
    return found


def _snapshot(topic_ids, reply_ids) -> tuple:
    """Everything a refused step must leave as it was."""
    return (
        list(
            Topic.objects.filter(pk__in=topic_ids)
            .order_by("pk")
            .values("pk", "status", "pinned", "locked", "review", "solution_id", "version")
        ),
        list(
            Reply.objects.filter(topic_id__in=topic_ids)
            .order_by("pk")
            .values("pk", "status", "version")
        ),
        OutboxEvent.objects.order_by("-position").values_list("position", flat=True).first(),
        ModerationEntry.objects.filter(topic_id__in=topic_ids).count(),
    )


class ForumMachine(RuleBasedStateMachine):
    """Three acme topics (two in an open category, by a member and by a moderator, with a
    member's reply each; one by a member in a moderated category) and their replies, driven
    through the services; each example runs in a savepoint."""

    people: dict = {}
    categories: dict = {}

    def __init__(self) -> None:
        super().__init__()
        self._savepoint = transaction.savepoint()
        self.topics: dict[int, TopicModel] = {}
        self.replies: dict[int, ReplyModel] = {}
        self.order: list[int] = []
        for category, by in (("open", "author"), ("open", "moderator"), ("moderated", "author")):
            topic = services.topic_start(
                category_id=self.categories[category].pk,
                title=f"Machine topic {len(self.order)}",
                body="Body",
                actor=self.people[by],
            )
            review = PENDING if category == "moderated" and by != "moderator" else APPROVED
            assert (topic.review, topic.version) == (review, 1)
            self.topics[topic.pk] = TopicModel(
                by=by,
                moderated=category == "moderated",
                review=review,
                events=[("forum.topic.started", 1, None, None)],
            )
            self.order.append(topic.pk)
            if review == APPROVED:  # a reply to start from: an answer to mark, a reply to hide
                reply = services.reply_post(
                    topic_id=topic.pk, body="A", actor=self.people["member"]
                )
                self.replies[reply.pk] = ReplyModel(
                    topic_id=topic.pk,
                    status=APPROVED,
                    events=[("forum.reply.posted", 1, None, None)],
                )

    def teardown(self) -> None:
        transaction.savepoint_rollback(self._savepoint)

    def _reply_ids(self) -> list[int]:
        return sorted(self.replies)

    def _refused(self, error: type[PlatformError], call, **kwargs) -> PlatformError:
        before = _snapshot(self.order, self._reply_ids())
        with pytest.raises(error) as refused:
            call(**kwargs)
        assert _snapshot(self.order, self._reply_ids()) == before, "a refused step changed things"
        return refused.value

    # -- rules --------------------------------------------------------------------------

    @rule(
        index=st.integers(0, 2),
        action=st.sampled_from([*sorted(TOPIC_MOVES), UNKNOWN]),
        reason=st.sampled_from(["", "off topic", "résolu ✓"]),
    )
    def moderate_topic(self, index: int, action: str, reason: str) -> None:
        topic_id = self.order[index]
        model = self.topics[topic_id]
        state, moves, event_type = TOPIC_MOVES.get(action, ("status", {}, ""))
        before = getattr(model, state)
        target = moves.get(before)
        call = services.topic_moderate
        kwargs = {"topic_id": topic_id, "action": action, "actor": self.people["moderator"]}
        if target is None:
            refused = self._refused(InvalidTransition, call, **kwargs, reason=reason)
            assert refused.status == 409
            assert refused.extra["current"] == before
            return
        topic = call(**kwargs, reason=reason)
        setattr(model, state, target)
        model.version += 1
        model.events.append((event_type, model.version, before, target))
        model.log.append((action, reason, None))
        assert topic.version == model.version

    @precondition(lambda self: self.replies)
    @rule(
        pick=st.integers(0, 30),
        action=st.sampled_from([*sorted(REPLY_MOVES), UNKNOWN]),
        reason=st.sampled_from(["", "spam"]),
    )
    def moderate_reply(self, pick: int, action: str, reason: str) -> None:
        self._moderate_reply(self._reply_ids()[pick % len(self.replies)], action, reason)

    @precondition(lambda self: any(topic.solution for topic in self.topics.values()))
    @rule(pick=st.integers(0, 2))
    def hide_an_answer(self, pick: int) -> None:
        """An answer is approved: hiding is what a moderator can do to it (``moderate_reply``
        tries the rest)."""
        answers = [topic.solution for topic in self.topics.values() if topic.solution]
        self._moderate_reply(answers[pick % len(answers)], "hide", "wrong answer")

    def _moderate_reply(self, reply_id: int, action: str, reason: str) -> None:
        model = self.replies[reply_id]
        moves, event_type = REPLY_MOVES.get(action, ({}, ""))
        target = moves.get(model.status)
        kwargs = {"reply_id": reply_id, "action": action, "actor": self.people["moderator"]}
        if target is None:
            refused = self._refused(InvalidTransition, services.reply_moderate, **kwargs)
            assert refused.extra["current"] == model.status
            return
        reply = services.reply_moderate(**kwargs, reason=reason)
        before, model.status = model.status, target
        model.version += 1
        model.events.append((event_type, model.version, before, target))
        topic = self.topics[model.topic_id]
        topic.log.append((action, reason, reply_id))
        if topic.solution == reply_id and target != APPROVED:
            topic.solution = None
            topic.version += 1
            topic.events.append(("forum.topic.unsolved", topic.version, None, None))
        assert (reply.status, reply.version) == (model.status, model.version)

    @rule(index=st.integers(0, 2), who=st.sampled_from(WHO))
    def post_reply(self, index: int, who: str) -> None:
        topic_id = self.order[index]
        model = self.topics[topic_id]
        moderator = who == "moderator"
        author = who == model.by
        kwargs = {"topic_id": topic_id, "body": f"a reply by the {who}", "actor": self.people[who]}
        if model.review != APPROVED and not (moderator or author):
            self._refused(TopicNotFound, services.reply_post, **kwargs)
            return
        if not moderator and (model.locked == "locked" or model.status != OPEN):
            refused = self._refused(TopicClosed, services.reply_post, **kwargs)
            assert refused.status == 409
            word = "locked" if model.locked == "locked" else model.status
            assert f"This topic is {word}: it takes no new replies." in str(refused)
            return
        reply = services.reply_post(**kwargs)
        status = PENDING if model.moderated and not moderator else APPROVED
        assert (reply.status, reply.version, reply.topic_id) == (status, 1, topic_id)
        self.replies[reply.pk] = ReplyModel(
            topic_id=topic_id, status=status, events=[("forum.reply.posted", 1, None, None)]
        )

    @precondition(lambda self: self.replies)
    @rule(
        index=st.integers(0, 2),
        pick=st.sampled_from([None, *range(6)]),
        anywhere=st.booleans(),
        who=st.sampled_from(WHO),
    )
    def mark_solved(self, index: int, pick: int | None, anywhere: bool, who: str) -> None:
        """Mark one of the topic's replies (or, ``anywhere``, any reply) or none as the answer."""
        topic_id = self.order[index]
        model = self.topics[topic_id]
        candidates = [
            reply_id
            for reply_id in self._reply_ids()
            if anywhere or self.replies[reply_id].topic_id == topic_id
        ]
        reply_id = None
        if pick is not None and candidates:
            reply_id = candidates[pick % len(candidates)]
        kwargs = {"topic_id": topic_id, "reply_id": reply_id, "actor": self.people[who]}
        may = who in ("moderator", model.by)
        if not may:
            self._refused(NotAllowed, services.topic_mark_solved, **kwargs)
            return
        if reply_id is None:
            if model.solution is None:
                self._refused(ForumConflict, services.topic_mark_solved, **kwargs)
                return
            event_type = "forum.topic.unsolved"
        else:
            reply = self.replies[reply_id]
            if reply.topic_id != topic_id or reply.status != APPROVED:
                self._refused(ReplyNotFound, services.topic_mark_solved, **kwargs)
                return
            if model.solution == reply_id:
                self._refused(ForumConflict, services.topic_mark_solved, **kwargs)
                return
            event_type = "forum.topic.solved"
        topic = services.topic_mark_solved(**kwargs)
        model.solution = reply_id
        model.version += 1
        model.events.append((event_type, model.version, None, None))
        assert (topic.solution_id, topic.version) == (model.solution, model.version)

    # -- invariants ---------------------------------------------------------------------

    @invariant()
    def rows_match_the_model(self) -> None:
        topics = {
            row["pk"]: row
            for row in Topic.objects.filter(pk__in=self.order).values(
                "pk", "status", "pinned", "locked", "review", "solution_id", "version"
            )
        }
        for topic_id, model in self.topics.items():
            row = topics[topic_id]
            assert row == {
                "pk": topic_id,
                "status": model.status,
                "pinned": model.pinned == "pinned",
                "locked": model.locked == "locked",
                "review": model.review,
                "solution_id": model.solution,
                "version": model.version,
            }
        replies = {
            pk: (status, version)
            for pk, status, version in Reply.objects.filter(topic_id__in=self.order).values_list(
                "pk", "status", "version"
            )
        }
        assert replies == {
            reply_id: (model.status, model.version) for reply_id, model in self.replies.items()
        }

    @invariant()
    def an_answer_is_an_approved_reply_of_its_topic(self) -> None:
        # The rows are the model's (above): what holds of the model holds of the rows.
        for topic_id, model in self.topics.items():
            if model.solution is not None:
                answer = self.replies[model.solution]
                assert (answer.topic_id, answer.status) == (topic_id, APPROVED)

    @invariant()
    def one_event_per_accepted_change(self) -> None:
        found = _all_events(self.order, self._reply_ids())
        expected = {("forum_topic", pk): model.events for pk, model in self.topics.items()}
        expected |= {("forum_reply", pk): model.events for pk, model in self.replies.items()}
        assert found == expected

    @invariant()
    def every_moderator_action_is_logged(self) -> None:
        moderator = self.people["moderator"]
        found: dict[int, list] = {topic_id: [] for topic_id in self.order}
        entries = ModerationEntry.objects.filter(topic_id__in=self.order).order_by("pk")
        for entry in entries:
            found[entry.topic_id].append((entry.action, entry.reason, entry.reply_id))
            assert (entry.actor_id, entry.actor_label) == (moderator.pk, "Mia Moderator")
        assert found == {topic_id: model.log for topic_id, model in self.topics.items()}


def test_the_forum_machines_match_their_model(in_acme, category, moderated, alice, bob, mod):
    machine = type(
        "AcmeForumMachine",
        (ForumMachine,),
        {
            "people": {"author": alice, "member": bob, "moderator": mod},
            "categories": {"open": category, "moderated": moderated},
        },
    )
    run_state_machine_as_test(
        machine, settings=settings(max_examples=15, stateful_step_count=20, deadline=None)
    )


# -- the moderation flow ----------------------------------------------------------------


def _visible(topic, reply, *, to) -> tuple[bool, bool]:
    """Whether ``to`` (None: the public) finds the topic and the reply through the selectors."""
    return (
        selectors.topic_get(topic.pk, to) is not None,
        reply.pk in {r.pk for r in selectors.replies(topic, to)},
    )


def test_pending_posts_are_seen_by_their_author_and_moderators_only(moderated, alice, bob, mod):
    carol = factories.member("Carol Example")
    topic = services.topic_start(category_id=moderated.pk, title="Hi", body="New", actor=alice)
    assert selectors.topic_get(topic.pk, alice) is not None
    for outsider in (None, bob, carol):
        assert selectors.topic_get(topic.pk, outsider) is None
        assert topic.pk not in set(selectors.topics(outsider).values_list("pk", flat=True))
    assert topic in selectors.pending_topics()
    services.topic_moderate(topic_id=topic.pk, action="approve", actor=mod, reason="welcome")
    assert topic not in selectors.pending_topics()

    reply = services.reply_post(topic_id=topic.pk, body="Welcome!", actor=bob)
    assert reply.status == PENDING
    assert _visible(topic, reply, to=bob) == (True, True)
    assert _visible(topic, reply, to=mod) == (True, True)
    for outsider in (None, alice, carol):
        assert _visible(topic, reply, to=outsider) == (True, False)
        assert selectors.reply_get(reply.pk, outsider) is None
    assert list(selectors.pending_replies()) == [reply]

    services.reply_moderate(reply_id=reply.pk, action="approve", actor=mod, reason="fine")
    for anyone in (None, alice, bob, carol, mod):
        assert _visible(topic, reply, to=anyone) == (True, True)
    assert list(selectors.pending_replies()) == []


def test_rejected_and_hidden_posts_leave_the_public(moderated, category, alice, bob, mod):
    held = services.topic_start(category_id=moderated.pk, title="Ad", body="Buy", actor=bob)
    services.topic_moderate(topic_id=held.pk, action="reject", actor=mod, reason="advert")
    assert selectors.topic_get(held.pk, None) is None
    assert (
        selectors.topic_get(held.pk, bob) is None
    )  # the author sees pending or hidden, not rejected
    assert selectors.topic_get(held.pk, mod) is not None

    topic = services.topic_start(category_id=category.pk, title="Q", body="?", actor=alice)
    rude = services.reply_post(topic_id=topic.pk, body="rude words", actor=bob)
    services.reply_moderate(reply_id=rude.pk, action="hide", actor=mod, reason="rude")
    assert _visible(topic, rude, to=None) == (True, False)
    assert _visible(topic, rude, to=alice) == (True, False)
    assert _visible(topic, rude, to=bob) == (True, True)  # its author still sees it
    services.topic_moderate(topic_id=topic.pk, action="hide", actor=mod, reason="thread")
    assert selectors.topic_get(topic.pk, None) is None
    assert selectors.topic_get(topic.pk, bob) is None
    assert selectors.topic_get(topic.pk, alice) is not None  # its author
    services.topic_moderate(topic_id=topic.pk, action="unhide", actor=mod)
    assert selectors.topic_get(topic.pk, bob) is not None


def test_flags_enter_the_queue_until_a_moderator_acts(category, alice, bob, mod):
    carol = factories.member("Carol Example")
    topic = services.topic_start(category_id=category.pk, title="Q", body="?", actor=alice)
    replies = [
        services.reply_post(topic_id=topic.pk, body=f"reply {n}", actor=bob) for n in range(3)
    ]
    for reply in replies:
        services.reply_flag(reply_id=reply.pk, reason="spam", actor=alice, note="again")
    services.reply_flag(reply_id=replies[0].pk, reason="abuse", actor=carol)
    queue = {(flag.reply_id, flag.reporter_id) for flag in selectors.open_flags()}
    assert queue == {(r.pk, alice.pk) for r in replies} | {(replies[0].pk, carol.pk)}

    services.reply_moderate(reply_id=replies[0].pk, action="hide", actor=mod, reason="spam")
    services.reply_flags_dismiss(reply_id=replies[1].pk, actor=mod, reason="it is fine")
    assert {flag.reply_id for flag in selectors.open_flags()} == {replies[2].pk}
    resolved = Flag.objects.filter(resolved_at__isnull=False).order_by("reply_id", "reporter_id")
    assert [(f.reply_id, f.resolved_by_id, f.resolution) for f in resolved] == [
        (replies[0].pk, mod.pk, "hide"),
        (replies[0].pk, mod.pk, "hide"),
        (replies[1].pk, mod.pk, "dismiss"),
    ]
    # A reply rejected after approval cannot be; a hidden one can be shown again, flags stay closed.
    with pytest.raises(InvalidTransition):
        services.reply_moderate(reply_id=replies[2].pk, action="reject", actor=mod)
    services.reply_moderate(reply_id=replies[0].pk, action="unhide", actor=mod)
    assert {flag.reply_id for flag in selectors.open_flags()} == {replies[2].pk}

    log = [
        (e.action, e.reply_id, e.actor_id, e.actor_label, e.reason)
        for e in selectors.moderation_log(topic.pk)
    ]
    assert log == [
        ("unhide", replies[0].pk, mod.pk, "Mia Moderator", ""),
        ("dismiss", replies[1].pk, mod.pk, "Mia Moderator", "it is fine"),
        ("hide", replies[0].pk, mod.pk, "Mia Moderator", "spam"),
    ]
    types = list(
        OutboxEvent.objects.filter(aggregate_id=str(replies[0].pk), aggregate_type="forum_reply")
        .order_by("position")
        .values_list("event_type", flat=True)
    )
    assert types == [
        "forum.reply.posted", "forum.reply.flagged", "forum.reply.flagged",
        "forum.reply.hidden", "forum.reply.flags_resolved", "forum.reply.unhidden",
    ]  # fmt: skip


def test_every_moderator_action_is_logged_with_who_what_and_why(category, alice, bob, mod):
    other = factories.category(name="Elsewhere")
    topic = services.topic_start(category_id=category.pk, title="Q", body="?", actor=alice)
    reply = services.reply_post(topic_id=topic.pk, body="an answer", actor=bob)
    services.topic_moderate(topic_id=topic.pk, action="pin", actor=mod, reason="useful")
    services.topic_move(topic_id=topic.pk, category_id=other.pk, actor=mod, reason="")
    services.reply_edit(reply_id=reply.pk, body="an answer, tidied", actor=mod, reason="typo")
    services.topic_edit(topic_id=topic.pk, title="Q, clearer", actor=mod, reason="title")
    services.reply_moderate(reply_id=reply.pk, action="hide", actor=mod, reason="wrong")
    # The author's own edit and answer marking are not moderation.
    services.topic_edit(topic_id=topic.pk, body="?!", actor=alice)
    with pytest.raises(ReplyNotFound):  # a hidden reply cannot be the answer
        services.topic_mark_solved(topic_id=topic.pk, reply_id=reply.pk, actor=alice)

    log = [
        (e.action, e.reply_id, e.actor_id, e.actor_label, e.reason)
        for e in selectors.moderation_log(topic.pk)
    ]
    assert log == [
        ("hide", reply.pk, mod.pk, "Mia Moderator", "wrong"),
        ("edit", None, mod.pk, "Mia Moderator", "title"),
        ("edit", reply.pk, mod.pk, "Mia Moderator", "typo"),
        ("move", None, mod.pk, "Mia Moderator", "→ Elsewhere"),
        ("pin", None, mod.pk, "Mia Moderator", "useful"),
    ]
    assert "@" not in "".join(label for *_, label, _ in log)  # never a login email


def test_hiding_the_answer_unmarks_it_and_says_so(category, alice, bob, mod):
    topic = services.topic_start(category_id=category.pk, title="Q", body="?", actor=alice)
    answer = services.reply_post(topic_id=topic.pk, body="42", actor=bob)
    topic = services.topic_mark_solved(topic_id=topic.pk, reply_id=answer.pk, actor=alice)
    assert topic.version == 2
    services.reply_moderate(reply_id=answer.pk, action="hide", actor=mod, reason="wrong")
    topic.refresh_from_db()
    assert (topic.solution_id, topic.version) == (None, 3)
    assert _events("forum_topic", topic.pk)[-1] == ("forum.topic.unsolved", 3, None, None)
    services.reply_moderate(reply_id=answer.pk, action="unhide", actor=mod)
    topic.refresh_from_db()
    assert (topic.solution_id, topic.version) == (None, 3)  # shown again, not the answer again


@pytest.mark.parametrize(
    ("actions", "message"),
    [
        (["lock"], "This topic is locked: it takes no new replies."),
        (["close"], "This topic is closed: it takes no new replies."),
        (["archive"], "This topic is archived: it takes no new replies."),
        (["close", "lock"], "This topic is locked: it takes no new replies."),
    ],
)
def test_a_closed_topic_refuses_members_clearly_and_takes_a_moderators_reply(
    category, alice, bob, mod, actions, message
):
    topic = services.topic_start(category_id=category.pk, title="Q", body="?", actor=alice)
    for action in actions:
        services.topic_moderate(topic_id=topic.pk, action=action, actor=mod)
    for member in (alice, bob):  # its author too
        with pytest.raises(TopicClosed) as refused:
            services.reply_post(topic_id=topic.pk, body="one more", actor=member)
        assert (refused.value.status, str(refused.value)) == (409, message)
    note = services.reply_post(topic_id=topic.pk, body="Closed: see the FAQ.", actor=mod)
    assert note.status == APPROVED
    assert [r.pk for r in selectors.replies(topic, None)] == [note.pk]
