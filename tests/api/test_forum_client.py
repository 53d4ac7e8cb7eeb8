"""The forum through the Python client generated from the committed schema: an integrator's
script that opens a category, starts a topic, answers it, marks the answer and pins it; the
relay projects the counters, and a publishable key reads the topic as the public would."""

from __future__ import annotations

import uuid

import pytest
from django_tenants.utils import schema_context

from apps.events.relay import drain
from apps.people import services as people
from tests.index.support import wipe_tables

from .test_api_keys import make_key, staff_owner
from .test_generated_client import _call, _client, api  # noqa: F401 (fixture)

pytestmark = pytest.mark.integration

FORUM_TABLES = (
    "forum_forumcategory, forum_topic, forum_reply, forum_member, index_forum_topic, "
    "index_forum_category, api_idempotentresponse"
)


@pytest.fixture
def forum_keys(live_db):
    """A secret key with the forum's scopes and a publishable key, of a committed moderator
    (acme's), and no forum rows after."""
    owner = staff_owner(email="forum-script@acme.test", is_superuser=True)
    with schema_context("acme"):
        people.profile_update(user_id=owner.pk, display_name="Shop Team", actor=owner)
    _, secret = make_key(owner, scopes=["forum:read", "forum:write"])
    _, publishable = make_key(owner, kind="publishable", scopes=[])
    yield secret, publishable
    wipe_tables(FORUM_TABLES)
    with schema_context("acme"):
        owner.delete()


def test_a_forum_integration_through_the_generated_client(api, forum_keys):  # noqa: F811
    from platform_api import models  # generated for this run

    server, reader = (_client(api, key) for key in forum_keys)

    category = _call(
        "forum_categories_create",
        client=server,
        body=models.ForumCategoryCreateInRequest(name="Sizing", colour="#aa3300"),
    )
    topic = _call(
        "forum_topics_create",
        client=server,
        idempotency_key=str(uuid.uuid4()),
        body=models.TopicCreateInRequest(
            category_id=category.id, title="Which size?", body="Between **M** and L"
        ),
    )
    assert (topic.review, topic.status) == (
        models.ForumReviewEnum.APPROVED,
        models.TopicStatusEnum.OPEN,
    )
    assert "<strong>M</strong>" in topic.body_html
    answer = _call(
        "forum_replies_create",
        client=server,
        body=models.ReplyCreateInRequest(topic_id=topic.id, body="Take the M"),
    )
    _call(
        "forum_topics_solve_create",
        topic.id,
        client=server,
        body=models.TopicSolveInRequest(reply_id=answer.id),
    )
    pinned = _call(
        "forum_topics_pin_create",
        topic.id,
        client=server,
        body=models.ReasonInRequest(reason="Asked often"),
    )
    assert (pinned.pinned, pinned.solution_reply_id) == (True, answer.id)
    assert "unpin" in pinned.actions

    # The relay projects the topic's counters; the public (a publishable key) reads them.
    drain()
    seen = _call("forum_topics_retrieve", topic.id, client=reader)
    assert (seen.reply_count, seen.author.name, seen.author.handle) == (1, "Shop Team", "shop-team")
    listed = _call("forum_replies_list", client=reader, topic=topic.id)
    assert [reply.id for reply in listed.results] == [answer.id]
    topics = _call("forum_topics_list", client=reader, category=category.id, pinned=True)
    assert [row.id for row in topics.results] == [topic.id]
