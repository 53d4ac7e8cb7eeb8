"""Tenants' forums never meet: nothing of acme's forum is found, or reached, from globex's schema.

Every read the forum offers (its selectors) and its writes (its services), given acme's ids,
slugs and handles while globex is active, find nothing; the index's rows and their search
are per schema, each tenant's projections fed by its own events only.
"""

from __future__ import annotations

import pytest
from django.contrib.postgres.search import SearchQuery
from django_tenants.utils import schema_context

from apps.forum import selectors, services
from apps.forum.errors import ForumCategoryNotFound, ReplyNotFound, TopicNotFound
from apps.forum.models import ForumCategory, Member, Topic
from apps.index.consistency import check_forum_categories, check_forum_topics
from apps.index.models import ForumCategoryStats, ForumTopicListing
from tests.index.support import project

from . import factories

PROJECTIONS = ("forum_topics", "forum_categories")


def _project(schema: str) -> None:
    for name in PROJECTIONS:
        project(schema, name=name)


@pytest.fixture
def acme_forum(category, moderated, alice, bob, mod):
    """Something of every kind in acme's forum, with its index rows."""
    topic = services.topic_start(
        category_id=category.pk, title="Acme secret plans", body="Only for acme", actor=mod,
        tag_names=["Plans"],
    )  # fmt: skip
    reply = services.reply_post(topic_id=topic.pk, body="Hello @alice-example", actor=bob)
    services.reply_post(topic_id=topic.pk, body="Me too", actor=alice)
    services.reply_flag(reply_id=reply.pk, reason="spam", actor=alice)
    services.reply_edit(reply_id=reply.pk, body="Hello again", actor=bob)
    held = services.topic_start(category_id=moderated.pk, title="Held", body="Wait", actor=alice)
    services.topic_moderate(topic_id=topic.pk, action="pin", actor=mod, reason="important")
    services.topic_subscribe(topic_id=topic.pk, actor=bob)
    _project("acme")
    assert ForumTopicListing.objects.filter(topic_id=topic.pk).exists()
    return {"topic": topic, "reply": reply, "held": held, "tag": topic.tags.get()}


def test_nothing_of_acme_is_found_from_globex(acme_forum, category, globex):
    topic, reply, held, tag = (acme_forum[k] for k in ("topic", "reply", "held", "tag"))
    with schema_context(globex.schema_name):
        assert not (Topic.objects.exists() or ForumCategory.objects.exists()), "globex is empty"
        visitor = factories.member("Globex Visitor")
        moderator = factories.moderator("Globex Moderator")
        for who in (None, visitor, moderator):
            assert selectors.topic_get(topic.pk, who) is None
            assert selectors.topic_get(held.pk, who) is None
            assert list(selectors.topics(who)) == []
            assert selectors.reply_get(reply.pk, who) is None
            assert list(selectors.replies(topic, who)) == []
        assert selectors.category_get(category.pk) is None
        assert selectors.category_by_slug(category.slug) is None
        assert list(selectors.categories()) == []
        assert selectors.topic_any(topic.pk) is None
        assert list(selectors.topics_by_ids([topic.pk, held.pk])) == []
        assert list(selectors.replies_by_ids([reply.pk])) == []
        assert selectors.topic_counts(topic.pk) == {"reply_count": 0, "last_reply": None}
        assert list(selectors.public_topic_ids()) == []
        assert not selectors.public_topics_in(category.pk).exists()
        assert not selectors.public_replies_in(category.pk).exists()
        assert list(selectors.topic_ids_with_tag(tag.pk)) == []
        assert selectors.member_by_handle("alice-example") is None
        assert selectors.members_by_handles(["alice-example", "bob-example"]) == {}
        assert list(selectors.subscribers(topic.pk)) == []
        assert list(selectors.pending_topics()) == []
        assert list(selectors.pending_replies()) == []
        assert list(selectors.open_flags()) == []
        assert list(selectors.moderation_log(topic.pk)) == []
        assert list(selectors.edits(topic_id=topic.pk, reply_id=reply.pk)) == []

        # Nor reached by a write: acme's ids name nothing here.
        with pytest.raises(TopicNotFound):
            services.reply_post(topic_id=topic.pk, body="Hi", actor=moderator)
        with pytest.raises(TopicNotFound):
            services.topic_moderate(topic_id=topic.pk, action="close", actor=moderator)
        with pytest.raises(ReplyNotFound):
            services.reply_moderate(reply_id=reply.pk, action="hide", actor=moderator)
        with pytest.raises(ReplyNotFound):
            services.reply_flag(reply_id=reply.pk, reason="spam", actor=visitor)
        with pytest.raises(ForumCategoryNotFound):
            services.topic_start(category_id=category.pk, title="T", body="B", actor=visitor)
        with pytest.raises(TopicNotFound):
            services.topic_subscribe(topic_id=topic.pk, actor=visitor)
        # A mention of an acme handle is no one here.
        assert "href" not in services.render_post("Hi @alice-example")

        assert not ForumTopicListing.objects.exists() and not ForumCategoryStats.objects.exists()
        assert check_forum_topics().differences == check_forum_categories().differences == 0

    assert Topic.objects.get(pk=topic.pk).status == "open"  # acme's topic is as it was


def test_index_rows_and_search_are_per_schema(acme_forum, category, globex):
    topic = acme_forum["topic"]
    with schema_context(globex.schema_name):
        help_ = factories.category(name="Help")  # the same name and slug as acme's
        alice = factories.member("Alice Example")  # the same display name: the same handle
        own = services.topic_start(
            category_id=help_.pk, title="Globex public plans", body="For globex", actor=alice
        )
        services.reply_post(topic_id=own.pk, body="Hi @alice-example", actor=alice)
        assert Member.objects.get(user=alice).handle == "alice-example"
    _project("globex")

    plans = SearchQuery("plans", config="english")
    with schema_context(globex.schema_name):
        rows = list(ForumTopicListing.objects.values_list("topic_id", "title", "reply_count"))
        assert rows == [(own.pk, "Globex public plans", 1)]
        assert list(ForumTopicListing.objects.filter(search_vector=plans)) == [
            ForumTopicListing.objects.get(topic_id=own.pk)
        ]
        assert not ForumTopicListing.objects.filter(
            search_vector=SearchQuery("secret", config="english")
        ).exists()
        stats = list(ForumCategoryStats.objects.values_list("category_id", "topic_count"))
        assert stats == [(help_.pk, 1)]
        reply_html = own.replies.get().body_html
        assert 'href="/forum/u/alice-example/"' in reply_html
    rows = list(ForumTopicListing.objects.values_list("topic_id", "title", "reply_count"))
    assert rows == [(topic.pk, "Acme secret plans", 2)]
    assert list(ForumTopicListing.objects.filter(search_vector=plans).values_list("topic_id")) == [
        (topic.pk,)
    ]
    assert ForumCategoryStats.objects.get(category_id=category.pk).topic_count == 1
