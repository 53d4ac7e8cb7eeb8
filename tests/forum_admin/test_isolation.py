"""acme's forum admin never shows nor touches globex's posts."""

from __future__ import annotations

from django_tenants.utils import schema_context

from apps.forum import services
from apps.forum.models import Review, Topic
from tests.forum import factories

from .conftest import FLAGS, QUEUE, REPLIES, TOPICS, flag, page, reply, staff_client, topic


def globex_posts() -> dict:
    """In globex: a pending topic, and a public one with a reported reply."""
    with schema_context("globex"):
        moderated = factories.category(name="Globex intros", moderated=True)
        public = factories.category(name="Globex help")
        author, reporter = factories.member("Globex Author"), factories.member("Globex Reporter")
        pending = services.topic_start(
            category_id=moderated.pk, title="Globex pending secret", body="b", actor=author
        )
        shown = services.topic_start(
            category_id=public.pk, title="Globex public secret", body="b", actor=author
        )
    reported = reply_in_globex(shown, author, "Globex reply secret")
    with schema_context("globex"):
        services.reply_flag(reply_id=reported.pk, reason="spam", actor=reporter)
    return {"pending": pending, "shown": shown, "reply": reported}


def reply_in_globex(topic, author, body):
    with schema_context("globex"):
        return services.reply_post(topic_id=topic.pk, body=body, actor=author)


def test_acme_lists_none_of_globexs_posts(moderator_client, category, alice, bob):
    made = globex_posts()
    ours = reply(topic(category, alice), alice, "Acme reply")
    flag(ours, bob)

    for url in (TOPICS, REPLIES, FLAGS, QUEUE):
        content = page(moderator_client.get(url))
        assert "Globex" not in content, url
    assert "Acme reply" in page(moderator_client.get(REPLIES))
    # The same number in acme is acme's own topic, or none.
    response = moderator_client.get(f"{TOPICS}{made['shown'].pk}/change/")
    assert "Globex" not in response.content.decode()


def test_acmes_queue_cannot_approve_globexs_topic(moderator_client):
    made = globex_posts()

    moderator_client.post(QUEUE, {"action": "approve", "topics": [made["pending"].pk]})

    with schema_context("globex"):
        assert Topic.objects.get(pk=made["pending"].pk).review == Review.PENDING


def test_globexs_moderator_sees_globexs_posts_only(globex_client, category, alice):
    globex_posts()
    topic(category, alice, "Acme question")
    staff_client(globex_client, email="mod@globex.test", groups=["Moderator"], schema="globex")
    content = page(globex_client.get(QUEUE))
    assert "Globex pending secret" in content and "Globex reply secret" in content
    topics = page(globex_client.get(TOPICS))
    assert "Globex public secret" in topics and "Acme question" not in topics
