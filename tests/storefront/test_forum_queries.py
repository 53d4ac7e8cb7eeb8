"""Every forum page runs a fixed number of queries whatever the number of topics and replies:
counted exactly, for a visitor and a signed-in member, on a forum large enough that a query
per topic or per reply would show (30 topics, 25 replies), and on a small one."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django_tenants.utils import schema_context

from apps.content import services as content

from .forum_support import category, member, project_forum, reply, signed_in, text
from .forum_support import topic as start

pytestmark = pytest.mark.usefixtures("acme_site")


@dataclass
class Forum:
    topic: object
    author: object
    reader: object
    topics: int
    replies: int


def _forum(topics: int, replies: int) -> Forum:
    """``topics`` topics in Help (and one subcategory), each with two tags, by several members;
    the first has ``replies`` replies, each quoting the one before, by several members."""
    with schema_context("acme"):
        for name in ("Printers", "Paper", "Ink"):
            content.tag_get_or_create(name=name)
    people = [member(f"Member {number}") for number in range(4)]
    help_desk = category(name="Help", icon="🛟")
    category(name="Billing", parent_id=help_desk.pk)
    category(name="Lounge")
    first = start(help_desk, people[0], "Busy topic about printers", "Printers jam.",
                  tag_slugs=["printers", "paper"])  # fmt: skip
    for number in range(1, topics):
        start(help_desk, people[number % 4], f"Printers topic {number}", "Printers again",
              tag_slugs=["printers", "ink"])  # fmt: skip
    quoted = None
    for number in range(replies):
        quoted = reply(first, people[number % 4], f"Reply {number} about printers",
                       quoted_reply_id=quoted.pk if quoted else None)  # fmt: skip
    project_forum()
    return Forum(topic=first, author=people[0], reader=people[1], topics=topics, replies=replies)


@pytest.fixture(params=[(30, 25), (3, 2)], ids=["large", "small"])
def forum(request, acme_site):
    return _forum(*request.param)


# What each page reads (a visitor; a member adds the session, the user, and for the header
# their profile (their name) and their cart (the mini cart), and what a page shows only them;
# a feed reads no session):
#   index:    categories, their counters, the latest topics, their views
#   category: the category, its subcategories, counters, the topics' count and page, views
#   topic:    the topic, its tags, the replies' count and page (authors and quotes joined);
#             a member: their subscription too
#   tag:      the tag, the topics' count and page, views, categories
#   member:   the member, the topics' count and page, views, categories
#   search:   the hits' count and page, categories
#   feeds:    the category, its newest topics
VISITOR = {"index": 4, "category": 6, "topic": 4, "tag": 5, "member": 5, "search": 3, "feed": 2}
SIGNED_IN = 4  # session, user, the header's name and mini cart
MEMBER_EXTRA = {"topic": 1, "feed": -SIGNED_IN}  # their subscription; a feed has no header


def _paths(forum: Forum) -> dict[str, str]:
    return {
        "index": "/forum/",
        "category": "/forum/c/help/",
        "topic": f"/forum/t/{forum.topic.pk}/busy-topic-about-printers/",
        "tag": "/forum/tags/printers/",
        "member": "/forum/u/member-1/",
        "search": "/forum/search/?q=printers",
        "feed": "/forum/c/help/feed/",
    }


def test_a_visitors_pages_cost_a_fixed_number_of_queries(
    forum, acme_client, django_assert_num_queries
):
    for page, path in _paths(forum).items():
        acme_client.get(path)  # warm: the tenant and the site's menus come from the cache
        with django_assert_num_queries(VISITOR[page], info=page):
            response = acme_client.get(path)
        assert response.status_code == 200, page
        _assert_full(page, response, forum)


def test_a_members_pages_cost_a_fixed_number_of_queries(forum, django_assert_num_queries):
    client = signed_in(forum.reader)
    for page, path in _paths(forum).items():
        client.get(path)
        expected = VISITOR[page] + SIGNED_IN + MEMBER_EXTRA.get(page, 0)
        with django_assert_num_queries(expected, info=page):
            response = client.get(path)
        assert response.status_code == 200, page
        _assert_full(page, response, forum)


def test_my_topics_costs_a_fixed_number_of_queries(forum, django_assert_num_queries):
    """The member's topics' count and page (from the forum), their counters (from the index),
    their subscriptions (the author is subscribed to each topic they start), their handle (the
    link to their public page)."""
    client = signed_in(forum.author)
    client.get("/forum/my/")
    with django_assert_num_queries(SIGNED_IN + 5):
        response = client.get("/forum/my/")
    html = text(response)
    started = -(-forum.topics // 4)  # the author started every fourth topic
    assert html.split('id="my-subscriptions-heading"')[0].count("forum-topic-line__title") == min(
        started, 20
    )
    assert html.split('id="my-subscriptions-heading"')[1].count("Unsubscribe") == started


def _assert_full(page: str, response, forum: Forum) -> None:
    """The page shows what was counted: every topic or reply it should, not an empty page."""
    html = text(response)
    if page == "topic":
        assert html.count('class="forum-reply') - html.count('class="forum-reply-form') == min(
            forum.replies, 20
        )
        assert html.count("forum-quote__by") == min(forum.replies, 20) - 1
    elif page == "category":
        assert html.count("forum-topic-line__title") == min(forum.topics, 20)
    elif page == "index":
        assert html.count("forum-topic-line__title") == min(forum.topics, 10)
        assert "Billing" in html
    elif page in ("tag", "search"):
        assert html.count(
            "forum-topic-line__title" if page == "tag" else "search-result__title"
        ) == (min(forum.topics, 20))
    elif page == "member":
        assert html.count("forum-topic-line__title") == -(-(forum.topics - 1) // 4)
    elif page == "feed":
        assert html.count("<item>") == min(forum.topics, 20)
