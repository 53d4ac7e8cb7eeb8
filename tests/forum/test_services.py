"""The forum's services: the rules a member meets and the moderators' actions."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.core.errors import InvalidTransition
from apps.events.models import OutboxEvent
from apps.forum import selectors, services
from apps.forum.errors import BodyTooLarge, ForumInvalid, NotAllowed, TopicClosed
from apps.forum.models import BODY_MAX, Edit, ModerationEntry, Review, WhoMayStart

from . import factories


def _types():
    return list(OutboxEvent.objects.order_by("position").values_list("event_type", flat=True))


def test_a_member_starts_a_topic_and_another_replies(category, alice, bob):
    topic = services.topic_start(
        category_id=category.pk, title="How do I?", body="Help **me**", actor=alice
    )
    reply = services.reply_post(topic_id=topic.pk, body="Like this, @alice-example", actor=bob)

    assert topic.review == Review.APPROVED and reply.status == Review.APPROVED
    assert "<strong>me</strong>" in topic.body_html
    assert '<a href="/forum/u/alice-example/"' in reply.body_html
    assert selectors.subscribed(topic.pk, alice)
    assert _types()[-2:] == ["forum.topic.started", "forum.reply.posted"]


def test_a_closed_or_locked_topic_takes_no_reply(category, alice, bob, mod):
    topic = services.topic_start(category_id=category.pk, title="T", body="B", actor=alice)
    services.topic_moderate(topic_id=topic.pk, action="lock", actor=mod, reason="heated")
    with pytest.raises(TopicClosed):
        services.reply_post(topic_id=topic.pk, body="no", actor=bob)
    services.topic_moderate(topic_id=topic.pk, action="unlock", actor=mod)
    services.topic_moderate(topic_id=topic.pk, action="close", actor=mod)
    with pytest.raises(TopicClosed) as refused:
        services.reply_post(topic_id=topic.pk, body="no", actor=bob)
    assert refused.value.status == 409
    with pytest.raises(InvalidTransition):
        services.topic_moderate(topic_id=topic.pk, action="close", actor=mod)
    log = list(selectors.moderation_log(topic.pk).values_list("action", "reason", "actor_label"))
    assert log == [
        ("close", "", "Mia Moderator"),
        ("unlock", "", "Mia Moderator"),
        ("lock", "heated", "Mia Moderator"),
    ]


def test_moderated_categories_hold_posts_until_approved(moderated, alice, bob, mod):
    topic = services.topic_start(category_id=moderated.pk, title="Hi", body="I am new", actor=alice)
    assert topic.review == Review.PENDING
    assert selectors.topic_get(topic.pk, None) is None
    assert selectors.topic_get(topic.pk, bob) is None
    assert selectors.topic_get(topic.pk, alice) is not None
    services.topic_moderate(topic_id=topic.pk, action="approve", actor=mod)
    reply = services.reply_post(topic_id=topic.pk, body="Welcome", actor=bob)
    assert reply.status == Review.PENDING
    assert list(selectors.replies(topic, None)) == []
    assert list(selectors.replies(topic, bob)) == [reply]
    assert list(selectors.replies(topic, mod)) == [reply]


def test_staff_only_categories_refuse_members(in_acme, alice, mod):
    news = factories.category(name="News", who_may_start=WhoMayStart.STAFF)
    with pytest.raises(NotAllowed):
        services.topic_start(category_id=news.pk, title="Mine", body="x", actor=alice)
    assert services.topic_start(category_id=news.pk, title="Ours", body="x", actor=mod).pk


def test_bodies_have_a_size_limit_and_are_sanitized(category, alice):
    with pytest.raises(BodyTooLarge) as refused:
        services.topic_start(
            category_id=category.pk, title="T", body="x" * (BODY_MAX + 1), actor=alice
        )
    assert refused.value.status == 413
    with pytest.raises(ForumInvalid):
        services.topic_start(category_id=category.pk, title=" ", body="x", actor=alice)
    topic = services.topic_start(
        category_id=category.pk,
        title="T",
        body='<script>alert(1)</script><a href="javascript:x">y</a>',
        actor=alice,
    )
    assert "<script" not in topic.body_html and "javascript:" not in topic.body_html


def test_authors_edit_within_the_window_and_the_history_keeps_the_text(
    category, alice, bob, settings
):
    topic = services.topic_start(category_id=category.pk, title="T", body="first", actor=alice)
    reply = services.reply_post(topic_id=topic.pk, body="one", actor=bob)
    services.reply_edit(reply_id=reply.pk, body="two", actor=bob)
    assert list(Edit.objects.filter(reply=reply).values_list("body", flat=True)) == ["one"]
    with pytest.raises(NotAllowed):
        services.reply_edit(reply_id=reply.pk, body="three", actor=alice)
    type(reply).objects.filter(pk=reply.pk).update(created_at=timezone.now() - timedelta(hours=2))
    with pytest.raises(NotAllowed):
        services.reply_edit(reply_id=reply.pk, body="three", actor=bob)


def test_flags_enter_the_queue_and_hiding_resolves_them(category, alice, bob, mod):
    topic = services.topic_start(category_id=category.pk, title="T", body="B", actor=alice)
    reply = services.reply_post(topic_id=topic.pk, body="spam spam", actor=bob)
    services.reply_flag(reply_id=reply.pk, reason="spam", actor=alice)
    assert list(selectors.open_flags()) != []
    services.reply_moderate(reply_id=reply.pk, action="hide", actor=mod, reason="spam")
    assert list(selectors.open_flags()) == []
    assert ModerationEntry.objects.filter(reply=reply, action="hide").exists()
    assert "forum.reply.flags_resolved" in _types()


def test_counters_follow_the_events(category, alice, bob, mod):
    from apps.index.models import ForumCategoryStats, ForumTopicListing
    from tests.index.support import project

    topic = services.topic_start(category_id=category.pk, title="Counted", body="B", actor=alice)
    first = services.reply_post(topic_id=topic.pk, body="one", actor=bob)
    services.reply_post(topic_id=topic.pk, body="two", actor=alice)
    services.reply_moderate(reply_id=first.pk, action="hide", actor=mod)
    project(name="forum_topics")
    project(name="forum_categories")
    row = ForumTopicListing.objects.get(topic_id=topic.pk)
    stats = ForumCategoryStats.objects.get(category_id=category.pk)
    assert (row.reply_count, row.last_poster_name) == (1, "Alice Example")
    assert (stats.topic_count, stats.reply_count) == (1, 1)
