"""The forum's counters after replay, against an oracle that owes nothing to ``apps.index``.

The handlers, ``rebuild_projections`` and ``check_projections`` all build rows with
``forum_listing.expected_topic_row`` and ``expected_category_row``, so a mistake there passes
all three. Here a seeded random forum (categories open and moderated, topics, replies,
approvals, rejections, hides, moves, closes, answers, edits, a deleted category) is made
through the services, its outbox is applied by the projections as the relay would, and the
rows are compared with what plain SQL over the forum's tables says, following what the rows
are meant to hold:

- a topic row for each approved topic, whatever its category; none for the others;
- its reply count is its approved replies; its last activity the newest approved reply's
  time, else the topic's; its last poster that reply's author, else the topic's author;
- a category's topics are its approved topics, its replies their approved replies; its last
  activity is the newest of those posts, with that post's topic and author;
- names are the display names the test gave its people (never a login email).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection
from django_tenants.utils import schema_context

from apps.content import selectors as content_selectors
from apps.content.models import Tag
from apps.core.errors import PlatformError
from apps.events import relay
from apps.events import services as event_services
from apps.events.envelope import StoredEvent
from apps.events.models import OutboxEvent
from apps.forum import services
from apps.forum.models import ForumCategory, Reply, Topic
from apps.index.consistency import check_forum_categories, check_forum_topics
from apps.index.models import ForumCategoryStats, ForumTopicListing
from apps.index.projections import projections
from tests.index.support import project, wipe_tables

from . import factories

PROJECTIONS = ("forum_topics", "forum_categories")
STEPS = 60


# -- a random forum --------------------------------------------------------------------


@dataclass
class Forum:
    rng: random.Random
    categories: list[ForumCategory]
    members: list
    moderator: Any
    names: dict[int, str] = field(default_factory=dict)
    done: dict[str, int] = field(default_factory=dict)

    def people(self) -> list:
        return [*self.members, self.moderator]

    def _topic(self, **filters) -> Topic | None:
        ids = list(Topic.objects.filter(**filters).order_by("pk").values_list("pk", flat=True))
        return Topic.objects.get(pk=self.rng.choice(ids)) if ids else None

    def _reply(self, **filters) -> Reply | None:
        ids = list(Reply.objects.filter(**filters).order_by("pk").values_list("pk", flat=True))
        return Reply.objects.get(pk=self.rng.choice(ids)) if ids else None

    # Each step picks its target among the rows it can apply to (False: there was none); the
    # services may still refuse (a closed topic, a member's answer to another's topic): that
    # is part of the history too, and changes nothing.

    def start(self) -> bool:
        by = self.rng.choice(self.people())
        number = self.done.get("start", 0)
        tags: dict[str, list[str]] = {}
        if by is self.moderator and self.rng.random() < 0.5:
            tags["tag_names"] = self.rng.sample(["Billing", "Setup", "Bugs"], k=2)
        elif self.rng.random() < 0.3:
            slugs = list(content_selectors.tags().order_by("slug").values_list("slug", flat=True))
            tags["tag_slugs"] = self.rng.sample(slugs, k=min(len(slugs), 1))
        services.topic_start(
            category_id=self.rng.choice(self.categories).pk,
            title=f"Topic {number} of {self.names[by.pk]}",
            body=f"Question number {number}, *asked*.",
            actor=by,
            **tags,
        )
        return True

    def reply(self) -> bool:
        topic = self._topic()
        if topic is None:
            return False
        body = f"Reply {self.done.get('reply', 0)} with **words**"
        services.reply_post(topic_id=topic.pk, body=body, actor=self.rng.choice(self.people()))
        return True

    def review(self) -> bool:
        action = self.rng.choice(["approve", "approve", "approve", "reject"])
        reply = self._reply(status="pending")
        topic = self._topic(review="pending")
        if reply is not None and (topic is None or self.rng.random() < 0.6):
            services.reply_moderate(reply_id=reply.pk, action=action, actor=self.moderator)
        elif topic is not None:
            services.topic_moderate(topic_id=topic.pk, action=action, actor=self.moderator)
        return reply is not None or topic is not None

    def hide_reply(self) -> bool:
        action, status = self.rng.choice([("hide", "approved"), ("unhide", "hidden")])
        reply = self._reply(status=status)
        if reply is None:
            return False
        services.reply_moderate(reply_id=reply.pk, action=action, actor=self.moderator)
        return True

    def hide_topic(self) -> bool:
        action, review = self.rng.choice([("hide", "approved"), ("unhide", "hidden")])
        topic = self._topic(review=review)
        if topic is None:
            return False
        services.topic_moderate(topic_id=topic.pk, action=action, actor=self.moderator)
        return True

    def move(self) -> bool:
        topic = self._topic()
        if topic is None:
            return False
        target = self.rng.choice([c for c in self.categories if c.pk != topic.category_id])
        services.topic_move(topic_id=topic.pk, category_id=target.pk, actor=self.moderator)
        return True

    def status(self) -> bool:
        topic = self._topic()
        if topic is None:
            return False
        action = self.rng.choice(["close", "reopen", "archive", "lock", "unlock", "pin"])
        services.topic_moderate(topic_id=topic.pk, action=action, actor=self.moderator)
        return True

    def solve(self) -> bool:
        reply = self._reply(status="approved")
        if reply is None:
            return False
        who = self.rng.choice([self.moderator, reply.topic.author])
        services.topic_mark_solved(topic_id=reply.topic_id, reply_id=reply.pk, actor=who)
        return True

    def edit(self) -> bool:
        reply = self._reply()
        if reply is None:
            return False
        body = f"Edited reply {reply.pk}"
        services.reply_edit(reply_id=reply.pk, body=body, actor=self.moderator)
        return True

    def flag(self) -> bool:
        reply = self._reply(status="approved")
        if reply is None:
            return False
        reporter = self.rng.choice(self.members)
        services.reply_flag(reply_id=reply.pk, reason="spam", actor=reporter)
        return True


STEP_WEIGHTS = {
    "start": 16, "reply": 34, "review": 12, "hide_reply": 6, "hide_topic": 3, "move": 5,
    "status": 6, "solve": 5, "edit": 4, "flag": 3,
}  # fmt: skip


def random_forum(seed: int, steps: int = STEPS, *, follow: bool = False) -> Forum:
    """A forum in the active schema made of ``steps`` random changes, plus one of each kind a
    counter must follow (so that no seed leaves one out). With ``follow``, the projections
    apply each change's events as it is made, as the relay does (a replay afterwards could
    hide a handler that forgets a row: the rows are read again when any event names them)."""
    rng = random.Random(seed)
    followed = _Follower() if follow else None
    categories = [
        factories.category(name="Help"),
        factories.category(name="Ideas"),
        factories.category(name="Introductions", moderated=True),
    ]
    given = ("Ada", "Brian", "Chidi", "Dana")
    members = [factories.member(name) for name in given]
    moderator = factories.moderator("Mia Moderator")
    forum = Forum(rng=rng, categories=categories, members=members, moderator=moderator)
    forum.names = {
        **{user.pk: name for user, name in zip(members, given, strict=True)},
        moderator.pk: "Mia Moderator",
    }
    names, weights = zip(*STEP_WEIGHTS.items(), strict=True)
    for kind in ["start"] * 6 + rng.choices(names, weights=weights, k=steps):
        try:
            acted = getattr(forum, kind)()
        except PlatformError:
            kind, acted = "refused", True
        if acted:
            forum.done[kind] = forum.done.get(kind, 0) + 1
        if followed:
            followed()

    # One of each: a pending topic with a reply by its author, a hidden topic with replies,
    # a topic moved away for good, a hidden reply, an empty category, a deleted category.
    held = services.topic_start(
        category_id=categories[2].pk, title="Held", body="Waiting", actor=members[0]
    )
    services.reply_post(topic_id=held.pk, body="Still waiting", actor=members[0])
    hidden = services.topic_start(
        category_id=categories[0].pk, title="Hidden", body="Gone", actor=members[1]
    )
    services.reply_post(topic_id=hidden.pk, body="Gone too", actor=members[2])
    services.topic_moderate(topic_id=hidden.pk, action="hide", actor=moderator)
    moved = services.topic_start(
        category_id=categories[0].pk, title="Moved", body="Here", actor=members[2]
    )
    answer = services.reply_post(topic_id=moved.pk, body="There", actor=members[3])
    services.reply_post(topic_id=moved.pk, body="Rude", actor=members[1])
    if followed:
        followed()
    # Nothing names the first category after this: only the move's event can update it.
    services.topic_move(topic_id=moved.pk, category_id=categories[1].pk, actor=moderator)
    services.reply_moderate(reply_id=answer.pk, action="hide", actor=moderator)
    factories.category(name="Empty")
    gone = factories.category(name="Gone")
    services.category_delete(category_id=gone.pk)
    if followed:
        followed()
    return forum


class _Follower:
    """Applies the outbox rows written since its last call, in order, like the relay."""

    def __init__(self) -> None:
        last = OutboxEvent.objects.order_by("-position").values_list("position", flat=True)
        self.seen = last.first() or 0

    def __call__(self) -> None:
        rows = OutboxEvent.objects.filter(schema_name="acme", position__gt=self.seen)
        events = [StoredEvent.from_row(row) for row in rows.order_by("position").values()]
        for name in PROJECTIONS:
            projection = projections()[name]
            for event in events:
                if event.event_type in projection.event_types:
                    projection.apply(event)
        if events:
            self.seen = events[-1].position


# -- the oracle ----------------------------------------------------------------------------

TOPICS_SQL = """
    SELECT t.id, t.category_id, t.title, t.status, t.pinned, t.locked, t.solution_id,
           t.author_id, t.created_at, t.version,
           (SELECT count(*) FROM forum_reply r WHERE r.topic_id = t.id AND r.status = 'approved'),
           last.id, last.created_at, last.author_id,
           ARRAY(SELECT tag.slug FROM forum_topic_tags tt JOIN content_tag tag ON tag.id = tt.tag_id
                 WHERE tt.topic_id = t.id ORDER BY tag.slug)
    FROM forum_topic t
    LEFT JOIN LATERAL (
        SELECT r.id, r.created_at, r.author_id FROM forum_reply r
        WHERE r.topic_id = t.id AND r.status = 'approved'
        ORDER BY r.created_at DESC, r.id DESC LIMIT 1
    ) last ON true
    WHERE t.review = 'approved'
"""
CATEGORIES_SQL = """
    WITH public_topics AS (
        SELECT id, category_id, title, slug, author_id, created_at FROM forum_topic
        WHERE review = 'approved'
    ), posts AS (
        SELECT t.category_id, t.created_at, 0 AS kind, t.id AS topic_id, t.author_id
        FROM public_topics t
        UNION ALL
        SELECT t.category_id, r.created_at, 1, t.id, r.author_id
        FROM forum_reply r JOIN public_topics t ON t.id = r.topic_id
        WHERE r.status = 'approved'
    )
    SELECT c.id,
           (SELECT count(*) FROM public_topics t WHERE t.category_id = c.id),
           (SELECT count(*) FROM posts p WHERE p.category_id = c.id AND p.kind = 1),
           latest.created_at, latest.topic_id, t.title, t.slug, latest.author_id
    FROM forum_forumcategory c
    LEFT JOIN LATERAL (
        SELECT * FROM posts p WHERE p.category_id = c.id
        ORDER BY p.created_at DESC, p.kind DESC LIMIT 1
    ) latest ON true
    LEFT JOIN public_topics t ON t.id = latest.topic_id
"""


def oracle_topics(names: dict[int, str]) -> dict[int, dict]:
    with connection.cursor() as cursor:
        cursor.execute(TOPICS_SQL)
        rows = cursor.fetchall()
    expected = {}
    for (
        topic_id, category_id, title, status, pinned, locked, solution_id, author_id, created_at,
        version, reply_count, last_id, last_at, last_author_id, tag_slugs,
    ) in rows:  # fmt: skip
        poster = last_author_id if last_id is not None else author_id
        expected[topic_id] = {
            "category_id": category_id,
            "title": title,
            "status": status,
            "pinned": pinned,
            "locked": locked,
            "solution_reply_id": solution_id,
            "author_id": author_id,
            "author_name": names[author_id],
            "tag_slugs": tag_slugs,
            "reply_count": reply_count,
            "last_reply_id": last_id,
            "last_activity_at": last_at if last_id is not None else created_at,
            "last_poster_id": poster,
            "last_poster_name": names[poster],
            "created_at": created_at,
            "source_version": version,
        }
    return expected


def oracle_categories(names: dict[int, str]) -> dict[int, dict]:
    with connection.cursor() as cursor:
        cursor.execute(CATEGORIES_SQL)
        rows = cursor.fetchall()
    return {
        category_id: {
            "topic_count": topics,
            "reply_count": replies,
            "last_activity_at": last_at,
            "last_topic_id": topic_id,
            "last_topic_title": title or "",
            "last_topic_slug": slug or "",
            "last_poster_id": poster,
            "last_poster_name": names[poster] if poster is not None else "",
        }
        for category_id, topics, replies, last_at, topic_id, title, slug, poster in rows
    }


def assert_counters_match_the_oracle(forum: Forum) -> None:
    topics = oracle_topics(forum.names)
    fields = next(iter(topics.values())).keys()
    listed = {
        row["topic_id"]: {name: row[name] for name in fields}
        for row in ForumTopicListing.objects.values("topic_id", *fields)
    }
    assert listed == topics
    categories = oracle_categories(forum.names)
    stats = {
        row.pop("category_id"): row
        for row in ForumCategoryStats.objects.values(
            "category_id", *next(iter(categories.values())).keys()
        )
    }
    assert stats == categories


def project_forum(schema: str = "acme") -> None:
    for name in PROJECTIONS:
        project(schema, name=name)


def snapshot() -> dict[str, list[tuple]]:
    """Every column of both read models but their ids and write times, search vectors as text."""
    taken = {}
    with connection.cursor() as cursor:
        for table, key in (
            ("index_forum_topic", "topic_id"),
            ("index_forum_category", "category_id"),
        ):
            cursor.execute(f"SELECT * FROM {table} ORDER BY {key}")  # noqa: S608 -- constants
            names = [column.name for column in cursor.description]
            keep = [i for i, name in enumerate(names) if name not in ("id", "indexed_at")]
            taken[table] = [tuple(str(row[i]) for i in keep) for row in cursor.fetchall()]
    return taken


# -- tests -----------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [3, 2024])
def test_counters_kept_by_the_events_match_the_oracle(in_acme, seed):
    forum = random_forum(seed, follow=True)
    assert_counters_match_the_oracle(forum)
    # The history was not trivial: the cases the oracle is here for happened.
    assert forum.done.get("reply", 0) > 10 and forum.done.get("review", 0) >= 1
    assert ForumTopicListing.objects.count() >= 5
    assert Topic.objects.exclude(review="approved").count() >= 2
    assert Reply.objects.exclude(status="approved").count() >= 2
    assert ForumCategoryStats.objects.filter(reply_count__gt=0).count() >= 2
    topics, categories = check_forum_topics(), check_forum_categories()
    assert (topics.differences, categories.differences) == (0, 0)
    assert (topics.nodes, categories.nodes) == (
        Topic.objects.filter(review="approved").count(),
        ForumCategory.objects.count(),
    )


def _apply(events: list[StoredEvent]) -> None:
    for name in PROJECTIONS:
        projection = projections()[name]
        for event in events:
            if event.event_type in projection.event_types:
                projection.apply(event)


def test_shuffled_replayed_twice_and_rebuilt_the_rows_are_the_same(in_acme):
    forum = random_forum(41, steps=40)
    events = [
        StoredEvent.from_row(row)
        for row in OutboxEvent.objects.filter(schema_name="acme").order_by("position").values()
    ]
    shuffled = forum.rng.sample(events, k=len(events))
    assert [e.event_id for e in shuffled] != [e.event_id for e in events]
    _apply(shuffled)
    first = snapshot()
    assert len(first["index_forum_topic"]) >= 5
    assert_counters_match_the_oracle(forum)

    _apply(events)  # every event a second time, in order now
    assert snapshot() == first

    ForumTopicListing.objects.update(reply_count=999)
    ForumCategoryStats.objects.update(topic_count=999)
    for name in PROJECTIONS:
        projections()[name].rebuild()
    assert snapshot() == first


def test_the_check_finds_tampered_rows_and_the_commands_repair_them(in_acme, capsys):
    random_forum(5, steps=25)
    project_forum()
    topics, categories = check_forum_topics(), check_forum_categories()
    assert (topics.differences, categories.differences) == (0, 0)

    first, second, third = ForumTopicListing.objects.order_by("topic_id")[:3]
    ForumTopicListing.objects.filter(pk=first.pk).update(reply_count=first.reply_count + 1)
    ForumTopicListing.objects.filter(pk=second.pk).delete()
    # A text changed by hand: a different row, and a vector that no longer matches it.
    ForumTopicListing.objects.filter(pk=third.pk).update(body_text="words that are not there")
    stats = ForumCategoryStats.objects.filter(topic_count__gt=0).first()
    ForumCategoryStats.objects.filter(pk=stats.pk).update(last_poster_name="someone@example.test")
    ForumCategoryStats.objects.create(category_id=10**9, indexed_at=stats.indexed_at)
    topics, categories = check_forum_topics(), check_forum_categories()
    assert (topics.missing, topics.unexpected, topics.different, topics.vectors) == (1, 0, 2, 1)
    found = {(d.problem, d.node_id): d.fields for d in topics.samples}
    assert found == {
        ("different", str(first.topic_id)): ["reply_count"],
        ("missing", str(second.topic_id)): [],
        ("different", str(third.topic_id)): ["body_text"],
        ("vectors", str(third.topic_id)): ["search_vector"],
    }
    assert (categories.missing, categories.unexpected, categories.different) == (0, 1, 1)
    found = {(d.problem, d.node_id): d.fields for d in categories.samples}
    assert found == {
        ("different", str(stats.category_id)): ["last_poster_name"],
        ("unexpected", str(10**9)): [],
    }

    with pytest.raises(CommandError, match="4 difference"):
        call_command("check_projections", tenant="acme", projection="forum_topics", details=True)
    assert f"different  {first.topic_id} [en] (reply_count)" in capsys.readouterr().out
    with pytest.raises(CommandError, match="2 difference"):
        call_command("check_projections", tenant="acme", projection="forum_categories")
    for name in PROJECTIONS:
        call_command("rebuild_projections", tenant="acme", projection=name)
    call_command("check_projections", tenant="acme", projection="forum_topics")
    call_command("check_projections", tenant="acme", projection="forum_categories")
    assert "0 difference(s)" in capsys.readouterr().out


# -- on committed data, through the relay ----------------------------------------------------

FORUM_TABLES = (
    "forum_notice, forum_subscription, forum_flag, forum_edit, forum_moderationentry, "
    "forum_topic_tags, forum_reply, forum_topic, forum_forumcategory, forum_member, "
    "index_forum_topic, index_forum_category"
)


@pytest.fixture
def committed_forum(live_db):
    """A forum committed in acme: the relay delivers its events; everything goes afterwards."""
    wipe_tables(FORUM_TABLES)
    with schema_context("acme"):
        users_before = set(get_user_model().objects.values_list("pk", flat=True))
        tags_before = set(Tag.objects.values_list("pk", flat=True))
    yield
    connection.set_schema_to_public()
    wipe_tables(FORUM_TABLES)
    with schema_context("acme"):
        get_user_model().objects.exclude(pk__in=users_before).delete()
        Tag.objects.exclude(pk__in=tags_before).delete()


def _acme(call):
    with schema_context("acme"):
        return call()


def test_on_a_live_tenant_the_relay_replays_and_rebuilds_agree(committed_forum, capsys):
    forum = _acme(lambda: random_forum(77, steps=30))
    stats = relay.drain()
    assert stats.failed == 0
    before = _acme(snapshot)
    _acme(lambda: assert_counters_match_the_oracle(forum))
    topics, categories = _acme(check_forum_topics), _acme(check_forum_categories)
    assert (topics.differences, categories.differences) == (0, 0)

    for name in PROJECTIONS:
        assert event_services.events_replay(handler=f"projection.{name}") > 30
    assert relay.drain().failed == 0
    assert _acme(snapshot) == before

    with schema_context("acme"):
        ForumTopicListing.objects.all().delete()
        ForumCategoryStats.objects.update(reply_count=0, last_poster_name="")
    call_command("rebuild_projections", tenant="acme", projection="forum_topics")
    call_command("rebuild_projections", tenant="acme", projection="forum_categories")
    assert _acme(snapshot) == before
    call_command("check_projections", projection="forum_topics")
    call_command("check_projections", projection="forum_categories")
    out = capsys.readouterr().out
    assert "acme" in out and "globex" in out and "0 difference(s)" in out
    _acme(lambda: assert_counters_match_the_oracle(forum))
