"""The forum's lists: cursor pagination over every row once, and the same number of queries
for a page of 5 and a page of 50.

The data is large enough for a loop to show: 36 topics by 6 members (each with a public name
and a handle), each with two tags, a reply and a report of it, and the listing's counters
projected; a query per row, per author, per tag or per counter would change the counts.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from apps.content import services as content
from apps.forum import services
from tests.conftest import tenant_client
from tests.forum import factories
from tests.index.support import project

from .conftest import assert_problem
from .forum_support import CATEGORIES, FLAGS, REPLIES, TOPICS, moderator

pytestmark = pytest.mark.django_db

ROWS = 36
SIZES = (5, 50)
# For a moderator (staff in the Moderator group): session, user, the user's permissions, the
# groups' permissions, then the page's rows (authors, handles and counters joined) ...
BASE_QUERIES = 5
# ... and the topics' tags.
TOPIC_LIST_QUERIES = BASE_QUERIES + 1


@pytest.fixture
def forum(acme) -> dict:
    with schema_context("acme"):
        categories = [factories.category(name=f"Category {n}") for n in range(3)]
        tags = [content.tag_get_or_create(name=f"Tag {n}") for n in range(4)]
        members = [factories.member(f"Member {n}") for n in range(6)]
        topics, replies = [], []
        for number in range(ROWS):
            author = members[number % len(members)]
            topic = services.topic_start(
                category_id=categories[number % 3].pk,
                title=f"Topic {number}",
                body=f"Body of topic {number}",
                actor=author,
                tag_slugs=[tags[number % 4].slug, tags[(number + 1) % 4].slug],
                subscribe=False,
            )
            replier = members[(number + 1) % len(members)]
            answer = services.reply_post(topic_id=topic.pk, body="An answer", actor=replier)
            services.reply_flag(reply_id=answer.pk, reason="spam", actor=author)
            topics.append(topic)
            replies.append(answer)
    project(name="forum_topics")
    return {"topics": topics, "replies": replies}


@pytest.fixture
def mod_api(acme) -> Client:
    client = tenant_client("acme")
    moderator(client)
    return client


def _walk(client: Client, url: str) -> list[dict]:
    """Every row of a list, page after page by its next links."""
    rows = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        rows += response.json()["results"]
        url = response.json()["next"]
    return rows


def test_topics_are_walked_by_cursor_once_each_in_order(forum, mod_api):
    newest_first = [topic.pk for topic in reversed(forum["topics"])]
    rows = _walk(mod_api, f"{TOPICS}?page_size=7")
    assert [row["id"] for row in rows] == newest_first

    # By last activity: the replies were posted in the topics' order, so the same order.
    by_activity = _walk(mod_api, f"{TOPICS}?page_size=7&ordering=-last_activity_at")
    assert [row["id"] for row in by_activity] == newest_first
    assert all(row["reply_count"] == 1 for row in by_activity)
    oldest = _walk(mod_api, f"{TOPICS}?page_size=10&ordering=last_activity_at")
    assert [row["id"] for row in oldest] == newest_first[::-1]

    first = mod_api.get(f"{TOPICS}?page_size=7").json()
    assert first["previous"] is None
    second = mod_api.get(first["next"]).json()
    back = mod_api.get(second["previous"]).json()
    assert [row["id"] for row in back["results"]] == newest_first[:7]

    cursor = first["next"].split("cursor=")[1].split("&")[0]
    other_order = mod_api.get(TOPICS, {"cursor": cursor, "ordering": "-last_activity_at"})
    assert "cursor" in assert_problem(other_order, 400)["errors"]
    assert "cursor" in assert_problem(mod_api.get(TOPICS, {"cursor": "made-up"}), 400)["errors"]


@pytest.mark.parametrize(
    ("url", "queries"),
    [
        (TOPICS, TOPIC_LIST_QUERIES),
        (f"{TOPICS}?ordering=-last_activity_at", TOPIC_LIST_QUERIES),
        (REPLIES, BASE_QUERIES),
        (f"{REPLIES}?flagged=true", BASE_QUERIES),
        (FLAGS, BASE_QUERIES),
    ],
)
def test_forum_lists_cost_the_same_for_5_and_50_rows(
    forum, mod_api, url, queries, django_assert_num_queries
):
    mod_api.get(url)  # warm the tenant caches
    join = "&" if "?" in url else "?"
    for size in SIZES:
        page, seen = f"{url}{join}page_size={size}", []
        while page:
            with django_assert_num_queries(queries):
                response = mod_api.get(page)
            body = response.json()
            assert len(body["results"]) == min(size, ROWS - len(seen))
            for row in body["results"]:
                person = row.get("author") or row.get("reporter")
                assert person["name"].startswith("Member ") and person["handle"].startswith(
                    "member-"
                )
                if url.startswith(TOPICS):
                    assert len(row["tags"]) == 2 and row["reply_count"] == 1
            seen += [row["id"] for row in body["results"]]
            page = body["next"]
        assert len(set(seen)) == ROWS


def test_categories_list_in_one_query(forum, mod_api, django_assert_num_queries):
    mod_api.get(CATEGORIES)
    with django_assert_num_queries(BASE_QUERIES):
        rows = mod_api.get(CATEGORIES).json()["results"]
    assert [row["name"] for row in rows] == ["Category 0", "Category 1", "Category 2"]
