"""/api/v1/forum/: categories, topics, replies and reports through the forum's services, with
the forum's rules (closed topics, moderated categories, body limit, rate limits) as HTTP."""

from __future__ import annotations

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from apps.api.urls import router
from apps.content import services as content
from apps.events.models import OutboxEvent
from apps.forum import selectors
from apps.forum.models import BODY_MAX, Flag, Topic
from apps.forum.services import REPLY_REVIEW, TOPIC_ACTIONS
from tests.clocks import ratelimit_clock
from tests.conftest import tenant_client
from tests.index.support import project

from .conftest import assert_problem
from .forum_support import (
    CATEGORIES,
    FLAGS,
    REPLIES,
    TOPICS,
    category,
    member,
    moderate,
    moderator,
    participant,
    reply,
    send,
    topic,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def mod_api(acme_client: Client) -> Client:
    moderator(acme_client)
    return acme_client


@pytest.fixture
def sam_api(acme) -> Client:
    client = tenant_client("acme")
    participant(client)
    return client


@pytest.fixture
def board(acme):
    """Two categories (one moderated) and two members who are customers."""
    return {
        "help": category(name="Help"),
        "intro": category(name="Introductions", moderated=True),
        "alice": member("Alice Example"),
        "bob": member("Bob Example"),
    }


def _no_login_in(response) -> None:
    """No login (an email address) in an answer: authors are shown by name and handle."""
    assert b"@acme.test" not in response.content and b"@example.test" not in response.content


# -- categories --------------------------------------------------------------------------------


def test_a_category_is_created_changed_and_deleted(acme_de, mod_api):
    made = send(
        mod_api,
        "post",
        CATEGORIES,
        {
            "name": "Help",
            "description": "Questions",
            "translations": {"de": {"name": "Hilfe"}},
            "colour": "#AABBCC",
            "moderated": True,
        },
    )
    assert made.status_code == 201, made.content
    body = made.json()
    assert (body["slug"], body["colour"], body["moderated"], body["version"]) == (
        "help", "#aabbcc", True, 1,
    )  # fmt: skip
    assert body["translations"] == {"de": {"name": "Hilfe", "description": ""}}
    url = f"{CATEGORIES}{body['id']}/"
    assert mod_api.get(url)["ETag"] == '"v1"'

    changed = send(mod_api, "patch", url, {"name": "Support"}, HTTP_IF_MATCH='"v1"')
    assert changed.status_code == 200, changed.content
    assert (changed.json()["name"], changed["ETag"]) == ("Support", '"v2"')
    assert_problem(send(mod_api, "patch", url, {"name": "X"}, HTTP_IF_MATCH='"v1"'), 412)

    child = send(mod_api, "post", CATEGORIES, {"name": "Billing", "parent_id": body["id"]})
    assert child.json()["parent_id"] == body["id"]
    grandchild = send(
        mod_api, "post", CATEGORIES, {"name": "Deep", "parent_id": child.json()["id"]}
    )
    assert "parent_id" in assert_problem(grandchild, 400, "forum_invalid")["errors"]
    # Not empty: it has a subcategory.
    assert_problem(mod_api.delete(url), 409, "forum_conflict")
    assert mod_api.delete(f"{CATEGORIES}{child.json()['id']}/").status_code == 204
    assert mod_api.delete(url).status_code == 204
    assert_problem(mod_api.get(url), 404)


def test_a_category_refuses_bad_input_by_field(mod_api):
    refused = send(
        mod_api,
        "post",
        CATEGORIES,
        {"name": "Help", "colour": "blue", "translations": {"xx": {"name": "?"}}, "extra": 1},
    )
    errors = assert_problem(refused, 400, "invalid")["errors"]
    assert set(errors) == {"colour", "translations.xx", "extra"}
    send(mod_api, "post", CATEGORIES, {"name": "Help"})
    taken = send(mod_api, "post", CATEGORIES, {"name": "Help"})
    assert "slug" in assert_problem(taken, 400, "forum_invalid")["errors"]


# -- topics ------------------------------------------------------------------------------------


def test_a_topic_is_started_as_the_caller_and_shows_its_counters(board, mod_api):
    with schema_context("acme"):
        content.tag_get_or_create(name="Linen")
    made = send(
        mod_api,
        "post",
        TOPICS,
        {"category_id": board["help"].pk, "title": "Shrinking", "body": "Does *it*?",
         "tags": ["linen"]},
    )  # fmt: skip
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["author"]["name"] == "Mia Moderator"
    assert body["author"]["handle"] == "mia-moderator"
    assert "<em>it</em>" in body["body_html"]
    assert [tag["slug"] for tag in body["tags"]] == ["linen"]
    assert (body["status"], body["review"], body["pinned"], body["locked"]) == (
        "open", "approved", False, False,
    )  # fmt: skip
    assert body["reply_count"] is None  # not in the listing until its event is projected
    assert "close" in body["actions"] and "reopen" not in body["actions"]
    _no_login_in(made)
    with schema_context("acme"):
        stored = Topic.objects.get(pk=body["id"])
        assert not selectors.subscribed(stored.pk, stored.author)  # unless asked for

    reply(board["bob"], stored)
    project(name="forum_topics")
    seen = mod_api.get(f"{TOPICS}{body['id']}/").json()
    assert seen["reply_count"] == 1 and seen["last_activity_at"] is not None


def test_a_topic_names_the_wrong_field_it_got(acme_de, board, mod_api):
    good = {"category_id": board["help"].pk, "title": "T", "body": "B"}
    cases = {
        "category_id": {**good, "category_id": 999_999},
        "tags": {**good, "tags": ["no-such-tag"]},
        "locale": {**good, "locale": "fr"},
        "title": {**good, "title": " "},
    }
    for field, data in cases.items():
        body = assert_problem(send(mod_api, "post", TOPICS, data), 400)
        assert set(body["errors"]) == {field}, (field, body)
    german = send(mod_api, "post", TOPICS, {**good, "locale": "de"})
    assert german.status_code == 201 and german.json()["locale"] == "de"
    assert OutboxEvent.objects.filter(event_type="forum.topic.started").count() == 1


def test_a_pending_topic_is_seen_by_its_author_and_moderators_only(board, mod_api, sam_api):
    made = send(sam_api, "post", TOPICS, {"category_id": board["intro"].pk, "title": "Hi",
                                           "body": "I am new"})  # fmt: skip
    assert made.status_code == 201, made.content
    assert made.json()["review"] == "pending"
    url = f"{TOPICS}{made.json()['id']}/"
    assert sam_api.get(url).status_code == 200
    other = tenant_client("acme")
    participant(other, "Olga Other")
    assert_problem(other.get(url), 404)
    assert other.get(TOPICS).json()["results"] == []
    assert [t["id"] for t in mod_api.get(TOPICS, {"review": "pending"}).json()["results"]] == [
        made.json()["id"]
    ]

    approved = send(mod_api, "post", f"{url}approve/", {"reason": "welcome"})
    assert approved.status_code == 200 and approved.json()["review"] == "approved"
    assert other.get(url).status_code == 200


def test_topic_lists_filter(board, mod_api):
    with schema_context("acme"):
        tag = content.tag_get_or_create(name="Linen")
    first = topic(board["alice"], board["help"], "First")
    second = topic(board["bob"], board["intro"], "Second")
    moderate(second, "close", board["bob"])
    with schema_context("acme"):
        first.tags.add(tag)

    def ids(**query) -> list[int]:
        response = mod_api.get(TOPICS, query)
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    assert ids() == [second.pk, first.pk]
    assert ids(category=board["help"].pk) == [first.pk]
    assert ids(status="closed") == [second.pk]
    assert ids(tag="linen") == [first.pk]
    assert ids(author=board["bob"].pk) == [second.pk]
    assert ids(review="pending") == [second.pk]  # started by a member in a moderated category
    assert ids(review="approved") == [first.pk]
    assert_problem(mod_api.get(TOPICS, {"status": "shut"}), 400)
    assert_problem(mod_api.get(TOPICS, {"category": "help"}), 400)


def test_every_topic_action_has_its_route_and_is_logged(board, mod_api, sam_api):
    routes = {
        route.mapping["post"]
        for route in router.get_routes(dict((b, v) for _p, v, b in router.registry)["forum-topic"])
        if route.detail and "post" in route.mapping
    }
    assert set(TOPIC_ACTIONS) | {"move", "solve"} == routes

    pending = send(sam_api, "post", TOPICS, {"category_id": board["intro"].pk, "title": "T",
                                              "body": "B"})  # fmt: skip
    url = f"{TOPICS}{pending.json()['id']}/"
    order = ["reject", "approve", "close", "reopen", "archive", "reopen", "pin", "unpin", "lock",
             "unlock", "hide", "unhide"]  # fmt: skip
    assert set(order) == set(TOPIC_ACTIONS)
    for name in order:
        answer = send(mod_api, "post", f"{url}{name}/", {"reason": f"because {name}"})
        assert answer.status_code == 200, (name, answer.content)
    final = mod_api.get(url).json()
    assert (final["status"], final["review"], final["pinned"], final["locked"]) == (
        "open", "approved", False, False,
    )  # fmt: skip

    refused = assert_problem(send(mod_api, "post", f"{url}reopen/"), 409, "invalid_transition")
    assert refused["current"] == "open"
    with schema_context("acme"):
        log = list(selectors.moderation_log(final["id"]).values_list("action", "reason"))
    assert [action for action, _ in reversed(log)] == order
    assert all(reason == f"because {action}" for action, reason in log)
    # A participant (no moderator's right to change replies) may not moderate, even their own.
    own = send(sam_api, "post", TOPICS, {"category_id": board["help"].pk, "title": "Mine",
                                          "body": "B"})  # fmt: skip
    for name, data in (("close", {}), ("pin", {}), ("move", {"category_id": board["intro"].pk})):
        refused = send(sam_api, "post", f"{TOPICS}{own.json()['id']}/{name}/", data)
        assert_problem(refused, 403, "forum_not_allowed")
    assert sam_api.get(f"{TOPICS}{own.json()['id']}/").json()["status"] == "open"


def test_a_topic_is_moved_and_solved(board, mod_api):
    asked = topic(board["alice"], board["help"])
    answer = reply(board["bob"], asked)
    url = f"{TOPICS}{asked.pk}/"

    moved = send(mod_api, "post", f"{url}move/", {"category_id": board["intro"].pk})
    assert moved.status_code == 200 and moved.json()["category_id"] == board["intro"].pk
    assert_problem(send(mod_api, "post", f"{url}move/", {"category_id": board["intro"].pk}), 409)
    unknown = send(mod_api, "post", f"{url}move/", {"category_id": 999_999})
    assert set(assert_problem(unknown, 400)["errors"]) == {"category_id"}

    solved = send(mod_api, "post", f"{url}solve/", {"reply_id": answer.pk})
    assert solved.status_code == 200 and solved.json()["solution_reply_id"] == answer.pk
    unsolved = send(mod_api, "post", f"{url}solve/", {"reply_id": None})
    assert unsolved.json()["solution_reply_id"] is None
    assert_problem(send(mod_api, "post", f"{url}solve/", {"reply_id": None}), 409)
    other = reply(board["bob"], topic(board["bob"], board["help"]))
    wrong = send(mod_api, "post", f"{url}solve/", {"reply_id": other.pk})
    assert set(assert_problem(wrong, 400)["errors"]) == {"reply_id"}


def test_an_edit_by_someone_else_is_refused_and_a_moderators_is_logged(board, mod_api, sam_api):
    alices = topic(board["alice"], board["help"], "Original")
    url = f"{TOPICS}{alices.pk}/"
    assert_problem(send(sam_api, "patch", url, {"title": "Mine now"}), 403, "forum_not_allowed")
    edited = send(mod_api, "patch", url, {"title": "Clearer", "reason": "typo"})
    assert edited.status_code == 200 and edited.json()["title"] == "Clearer"
    assert edited.json()["edited_at"] is not None
    with schema_context("acme"):
        assert [e.title for e in selectors.edits(topic_id=alices.pk)] == ["Original"]
        assert [(m.action, m.reason) for m in selectors.moderation_log(alices.pk)] == [
            ("edit", "typo")
        ]


# -- replies -----------------------------------------------------------------------------------


def test_a_closed_or_locked_topic_takes_no_reply(board, mod_api, sam_api):
    asked = topic(board["alice"], board["help"])
    first = send(sam_api, "post", REPLIES, {"topic_id": asked.pk, "body": "Try this"})
    assert first.status_code == 201, first.content
    assert (first.json()["author"]["name"], first.json()["status"]) == ("Sam Staff", "approved")

    moderate(asked, "close", board["bob"])
    closed = send(sam_api, "post", REPLIES, {"topic_id": asked.pk, "body": "And this"})
    assert "closed" in assert_problem(closed, 409, "topic_closed")["detail"].lower()
    moderate(asked, "reopen", board["bob"])
    moderate(asked, "lock", board["bob"])
    locked = send(sam_api, "post", REPLIES, {"topic_id": asked.pk, "body": "And this"})
    assert "locked" in assert_problem(locked, 409, "topic_closed")["detail"].lower()
    # Moderators still may (to explain why, say).
    assert (
        send(mod_api, "post", REPLIES, {"topic_id": asked.pk, "body": "Locked"}).status_code == 201
    )
    with schema_context("acme"):
        assert asked.replies.count() == 2


def test_a_body_over_the_limit_is_a_413(board, mod_api):
    asked = topic(board["alice"], board["help"])
    mine = reply(board["bob"], asked)
    too_long = "x" * (BODY_MAX + 1)
    for method, url, data in (
        ("post", TOPICS, {"category_id": board["help"].pk, "title": "T", "body": too_long}),
        ("post", REPLIES, {"topic_id": asked.pk, "body": too_long}),
        ("patch", f"{REPLIES}{mine.pk}/", {"body": too_long}),
        ("patch", f"{TOPICS}{asked.pk}/", {"body": too_long}),
    ):
        body = assert_problem(send(mod_api, method, url, data), 413, "body_too_large")
        assert str(BODY_MAX) in body["detail"]
    at_the_limit = send(mod_api, "post", REPLIES, {"topic_id": asked.pk, "body": "y" * BODY_MAX})
    assert at_the_limit.status_code == 201


def test_a_reply_quotes_a_reply_of_its_own_topic(board, mod_api):
    asked = topic(board["alice"], board["help"])
    quoted = reply(board["bob"], asked)
    elsewhere = reply(board["bob"], topic(board["bob"], board["help"]))
    made = send(
        mod_api,
        "post",
        REPLIES,
        {"topic_id": asked.pk, "body": "> yes", "quoted_reply_id": quoted.pk},
    )
    assert made.json()["quoted_reply_id"] == quoted.pk
    wrong = send(
        mod_api,
        "post",
        REPLIES,
        {"topic_id": asked.pk, "body": "no", "quoted_reply_id": elsewhere.pk},
    )
    assert set(assert_problem(wrong, 400, "forum_invalid")["errors"]) == {"quoted_reply_id"}
    unknown = send(mod_api, "post", REPLIES, {"topic_id": 999_999, "body": "no"})
    assert set(assert_problem(unknown, 400)["errors"]) == {"topic_id"}


def test_replies_are_reviewed_by_every_action_of_the_table(board, mod_api, sam_api):
    asked = topic(board["alice"], board["intro"])
    moderate(asked, "approve", board["bob"])
    pending = send(sam_api, "post", REPLIES, {"topic_id": asked.pk, "body": "Hello"}).json()
    assert pending["status"] == "pending" and pending["actions"] == ["approve", "reject"]
    url = f"{REPLIES}{pending['id']}/"
    assert_problem(tenant_client("acme").get(url), 401)
    bob_reads = tenant_client("acme")
    participant(bob_reads, "Olga Other")
    assert_problem(bob_reads.get(url), 404)

    for name in ("reject", "approve", "hide", "unhide"):
        answer = send(mod_api, "post", f"{url}{name}/", {"reason": name})
        assert answer.status_code == 200, (name, answer.content)
    assert {"reject", "approve", "hide", "unhide"} == set(REPLY_REVIEW.actions)
    shown = mod_api.get(url)
    assert (shown.json()["status"], shown.json()["version"], shown["ETag"]) == (
        "approved", 5, '"v5"',
    )  # fmt: skip
    assert_problem(send(mod_api, "post", f"{url}reject/"), 409, "invalid_transition")
    assert bob_reads.get(url).status_code == 200

    edited = send(mod_api, "patch", url, {"body": "Hello there"}, HTTP_IF_MATCH='"v5"')
    assert (edited.status_code, edited["ETag"]) == (200, '"v6"')
    assert_problem(send(mod_api, "patch", url, {"body": "x"}, HTTP_IF_MATCH='"v5"'), 412)


def test_a_reply_is_reported_once_and_the_report_dismissed(board, mod_api, sam_api):
    asked = topic(board["alice"], board["help"])
    bobs = reply(board["bob"], asked, "You are wrong")
    kept = reply(board["bob"], asked, "Fine")
    url = f"{REPLIES}{bobs.pk}/"

    flagged = send(sam_api, "post", f"{url}flag/", {"reason": "abuse", "note": "rude"})
    assert flagged.status_code == 201, flagged.content
    flag = flagged.json()
    assert (flag["reply_id"], flag["topic_id"], flag["reason"], flag["note"]) == (
        bobs.pk, asked.pk, "abuse", "rude",
    )  # fmt: skip
    assert flag["reporter"]["name"] == "Sam Staff" and flag["resolved_at"] is None
    _no_login_in(flagged)
    assert_problem(send(sam_api, "post", f"{url}flag/", {"reason": "spam"}), 409, "forum_conflict")
    assert (
        "reason"
        in assert_problem(send(sam_api, "post", f"{url}flag/", {"reason": "meh"}), 400)["errors"]
    )

    def ids(url: str, **query) -> list[int]:
        return [row["id"] for row in mod_api.get(url, query).json()["results"]]

    assert ids(REPLIES, flagged="true") == [bobs.pk]
    assert ids(REPLIES, flagged="false", topic=asked.pk) == [kept.pk]
    assert ids(FLAGS, state="open") == [flag["id"]]

    dismissed = send(mod_api, "post", f"{url}dismiss-reports/", {"reason": "fair comment"})
    assert dismissed.status_code == 200 and dismissed.json()["status"] == "approved"
    assert ids(FLAGS, state="open") == []
    assert ids(FLAGS, state="resolved") == [flag["id"]]
    resolved = mod_api.get(f"{FLAGS}{flag['id']}/").json()
    assert resolved["resolution"] == "dismiss"
    assert resolved["resolved_by"]["name"] == "Mia Moderator"
    assert_problem(send(mod_api, "post", f"{url}dismiss-reports/"), 404, "flag_not_found")
    # Reports are the moderators' to read.
    assert_problem(sam_api.get(FLAGS), 403)


def test_a_review_action_resolves_the_replys_reports(board, mod_api, sam_api):
    bobs = reply(board["bob"], topic(board["alice"], board["help"]))
    send(sam_api, "post", f"{REPLIES}{bobs.pk}/flag/", {"reason": "spam"})
    send(mod_api, "post", f"{REPLIES}{bobs.pk}/hide/", {"reason": "spam indeed"})
    with schema_context("acme"):
        assert Flag.objects.get(reply=bobs).resolution == "hide"


# -- rate limits -------------------------------------------------------------------------------


@pytest.fixture
def limits_clock(monkeypatch):
    """The rate limits' clock, fixed so that no window ends in the middle of a test."""
    return ratelimit_clock(monkeypatch)


def test_posting_and_reporting_are_rate_limited_per_user(
    board, mod_api, sam_api, settings, limits_clock
):
    settings.RATE_LIMITS = {
        **settings.RATE_LIMITS,
        "forum_post_user": "2/m",
        "forum_flag_user": "1/h",
    }
    asked = topic(board["alice"], board["help"])
    for number in range(2):
        made = send(sam_api, "post", REPLIES, {"topic_id": asked.pk, "body": f"Reply {number}"})
        assert made.status_code == 201
    over = send(
        sam_api, "post", TOPICS, {"category_id": board["help"].pk, "title": "T", "body": "B"}
    )
    assert_problem(over, 429, "rate_limited")
    assert 1 <= int(over["Retry-After"]) <= 61
    # Another user has a count of their own.
    assert send(mod_api, "post", REPLIES, {"topic_id": asked.pk, "body": "Mine"}).status_code == 201
    with schema_context("acme"):
        assert asked.replies.count() == 3

    first, second = reply(board["bob"], asked), reply(board["bob"], asked)
    assert (
        send(sam_api, "post", f"{REPLIES}{first.pk}/flag/", {"reason": "spam"}).status_code == 201
    )
    limited = send(sam_api, "post", f"{REPLIES}{second.pk}/flag/", {"reason": "spam"})
    assert_problem(limited, 429, "rate_limited")
    with schema_context("acme"):
        assert not Flag.objects.filter(reply=second).exists()


def test_a_retried_post_gets_its_first_answer_and_is_not_counted_again(
    board, sam_api, settings, limits_clock
):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "forum_post_user": "1/m"}
    asked = topic(board["alice"], board["help"])
    data, key = {"topic_id": asked.pk, "body": "Once"}, {"HTTP_IDEMPOTENCY_KEY": "reply-1"}
    first = send(sam_api, "post", REPLIES, data, **key)
    again = send(sam_api, "post", REPLIES, data, **key)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true" and again.json() == first.json()
    with schema_context("acme"):
        assert asked.replies.count() == 1
    assert_problem(send(sam_api, "post", REPLIES, {**data, "body": "Twice"}), 429, "rate_limited")
