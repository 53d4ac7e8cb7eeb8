"""The forum's @mentions behind the ``forum_mentions`` flag: decided for the member who posts,
in the storefront and the API alike, and kept with the post for its edits and its emails."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django_tenants.utils import schema_context

from apps.events.relay import drain
from apps.forum import services
from apps.forum.models import Reply, Topic
from tests.api.forum_support import REPLIES, TOPICS, participant, send
from tests.conftest import tenant_client
from tests.forum import factories
from tests.forum.test_notifications import _member, forum  # noqa: F401 (fixture)
from tests.storefront.forum_support import category, signed_in, text
from tests.storefront.forum_support import topic as start

from .support import set_flag

ON_OFF = pytest.mark.parametrize("on", [True, False], ids=["flag-on", "flag-off"])


def link(handle: str) -> str:
    return f'href="/forum/u/{handle}/"'


def member(name: str):
    """A member of acme with a handle made from ``name`` (as on their first post)."""
    with schema_context("acme"):
        user = factories.member(name)
        services.member_for(user)
        return user


@pytest.fixture
def board(acme):
    return {
        "help": category(name="Help"),
        "alice": member("Alice Example"),
        "bob": member("Bob Example"),
    }


@pytest.fixture
def thread(board):
    return start(board["help"], board["alice"], "Printer trouble", "It jams.")


def reply_as(user, thread, body: str) -> Reply:
    response = signed_in(user).post(f"/forum/topic/{thread.pk}/reply/", {"body": body})
    assert response.status_code == 302, text(response)
    with schema_context("acme"):
        return Reply.objects.filter(topic=thread, author=user).latest("pk")


# -- the storefront ------------------------------------------------------------------------------


@ON_OFF
def test_a_topic_started_in_the_storefront(board, on):
    set_flag("acme", everyone=on)
    client = signed_in(board["alice"])
    response = client.post("/forum/c/help/new/", {"title": "Tents", "body": "Ask @bob-example"})
    assert response.status_code == 302
    with schema_context("acme"):
        topic = Topic.objects.get(title="Tents")
    assert topic.mentions is on
    assert (link("bob-example") in topic.body_html) is on
    page = text(client.get(response["Location"]))
    assert (link("bob-example") in page) is on
    assert "@bob-example" in page  # as text when off


@ON_OFF
def test_a_reply_in_the_storefront(board, thread, on):
    set_flag("acme", everyone=on)
    reply = reply_as(board["bob"], thread, "Ask @alice-example")
    assert reply.mentions is on
    assert (link("alice-example") in reply.body_html) is on


@ON_OFF
def test_an_edit_follows_what_the_post_was_written_with(board, thread, on):
    set_flag("acme", everyone=on)
    reply = reply_as(board["bob"], thread, "Ask @alice-example")
    set_flag("acme", everyone=not on)  # rolled out, or back, since

    client = signed_in(board["bob"])
    preview = client.post(
        f"/forum/r/{reply.pk}/edit/", {"body": "Still @alice-example", "preview": "1"}
    )
    assert (link("alice-example") in text(preview)) is on
    assert client.post(f"/forum/r/{reply.pk}/edit/", {"body": "Still @alice-example"}).status_code
    with schema_context("acme"):
        edited = Reply.objects.get(pk=reply.pk)
    assert edited.body == "Still @alice-example"
    assert (edited.mentions, link("alice-example") in edited.body_html) == (on, on)


def test_percentage_zero_and_nearly_all(board, thread):
    set_flag("acme", percent=0)
    assert not reply_as(board["bob"], thread, "Ask @alice-example").mentions
    random.seed(20261207)  # waffle's draw at 99.9 %: the same each run (in)
    set_flag("acme", percent=Decimal("99.9"))
    assert reply_as(board["bob"], thread, "Ask @alice-example").mentions


def test_user_targeting(board, thread):
    set_flag("acme", users=[board["alice"]])
    assert reply_as(board["alice"], thread, "Ask @bob-example").mentions
    bobs = reply_as(board["bob"], thread, "Ask @alice-example")
    assert not bobs.mentions and link("alice-example") not in bobs.body_html


def test_group_targeting(board, thread):
    with schema_context("acme"):
        testers = Group.objects.create(name="Beta testers")
        board["bob"].groups.add(testers)
    set_flag("acme", groups=[testers])
    bobs = reply_as(board["bob"], thread, "Ask @alice-example")
    assert bobs.mentions and link("alice-example") in bobs.body_html
    assert not reply_as(board["alice"], thread, "Ask @bob-example").mentions


def test_each_tenant_decides_for_itself(board, thread, globex):
    set_flag("acme", everyone=False)
    set_flag("globex", everyone=True)
    assert not reply_as(board["bob"], thread, "Ask @alice-example").mentions


# -- the API ----------------------------------------------------------------------------------


@pytest.fixture
def sam(acme) -> Client:
    client = tenant_client("acme")
    participant(client)
    return client


@ON_OFF
def test_a_topic_and_a_reply_through_the_api(board, sam, on):
    set_flag("acme", everyone=on)
    made = send(sam, "post", TOPICS, {"category_id": board["help"].pk, "title": "Tents",
                                      "body": "Ask @bob-example"})  # fmt: skip
    assert made.status_code == 201, made.content
    assert (link("bob-example") in made.json()["body_html"]) is on

    answered = send(sam, "post", REPLIES, {"topic_id": made.json()["id"],
                                           "body": "And @alice-example"})  # fmt: skip
    assert answered.status_code == 201, answered.content
    assert (link("alice-example") in answered.json()["body_html"]) is on
    with schema_context("acme"):
        assert Topic.objects.get(pk=made.json()["id"]).mentions is on
        assert Reply.objects.get(pk=answered.json()["id"]).mentions is on


def test_the_api_targets_the_callers_user(board, sam):
    with schema_context("acme"):
        sam_user = get_user_model().objects.get(email="sam.staff@acme.test")
    set_flag("acme", users=[sam_user])
    made = send(sam, "post", TOPICS, {"category_id": board["help"].pk, "title": "Tents",
                                      "body": "Ask @bob-example"})  # fmt: skip
    assert link("bob-example") in made.json()["body_html"]

    olga = tenant_client("acme")
    participant(olga, "Olga Other")
    theirs = send(olga, "post", TOPICS, {"category_id": board["help"].pk, "title": "Tarps",
                                         "body": "Ask @bob-example"})  # fmt: skip
    assert theirs.status_code == 201 and link("bob-example") not in theirs.json()["body_html"]


# -- the emails (committed posts, the relay drained as a worker drains it) ----------------------


@pytest.fixture
def mentions_flag(forum):  # noqa: F811
    """The committed acme flag, put back as the migration made it afterwards."""
    yield
    set_flag("acme")


def test_mentioned_members_are_emailed_only_for_posts_written_with_the_flag_on(
    mentions_flag, mailoutbox
):
    alice, bob, carol = _member("Alice Example"), _member("Bob Example"), _member("Carol Example")
    thread = start(category(name="Help"), alice, "Tents", "Which tent?")  # alice is subscribed

    set_flag("acme", everyone=False)
    off = reply_as(bob, thread, "Ask @carol-example")
    drain()
    drain()
    # The subscriber hears of the reply; Carol, mentioned while the flag was off, does not.
    assert sorted((m.to[0], m.subject) for m in mailoutbox) == [
        (alice.email, "Bob Example replied to “Tents”")
    ]

    mailoutbox.clear()
    set_flag("acme", everyone=True)
    reply_as(bob, thread, "Ask @carol-example again")
    drain()
    drain()
    assert sorted((m.to[0], m.subject) for m in mailoutbox) == sorted([
        (alice.email, "Bob Example replied to “Tents”"),
        (carol.email, "Bob Example mentioned you in “Tents”"),
    ])  # fmt: skip

    # An edit of the reply written with the flag off mentions nobody, flag on or not.
    mailoutbox.clear()
    _member("Dave Example")
    edited = signed_in(bob).post(f"/forum/r/{off.pk}/edit/", {"body": "Ask @dave-example"})
    assert edited.status_code == 302
    drain()
    drain()
    assert mailoutbox == []
