"""Who reaches the forum through the API: tenants never see each other's forum, keys need the
forum's scopes, a publishable key reads what the public sees; and the ETags of forum rows."""

from __future__ import annotations

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from apps.forum import services
from apps.forum.models import Topic
from apps.tenancy.services import tenant_update
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
    moderator,
    reply,
    send,
    staff,
    topic,
)
from .test_api_keys import bearer, make_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def board(acme):
    """acme's forum: a public topic with a reply, a pending topic, a report."""
    help_, intro = category(name="Help"), category(name="Introductions", moderated=True)
    alice, bob = member("Alice Example"), member("Bob Example")
    public = topic(alice, help_, "Public")
    answer = reply(bob, public)
    pending = topic(bob, intro, "Pending")
    return {"help": help_, "public": public, "reply": answer, "pending": pending, "bob": bob}


@pytest.fixture
def mod(acme) -> tuple[Client, object]:
    client = tenant_client("acme")
    return client, moderator(client)


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


# -- tenants -----------------------------------------------------------------------------------


def test_acmes_forum_is_unreachable_through_globex(board, globex_api):
    public, answer = board["public"], board["reply"]
    for url in (
        f"{TOPICS}{public.pk}/",
        f"{REPLIES}{answer.pk}/",
        f"{CATEGORIES}{board['help'].pk}/",
    ):
        assert_problem(globex_api.get(url), 404)
    for url in (TOPICS, REPLIES, CATEGORIES, FLAGS):
        assert _ids(globex_api.get(url)) == []
    assert_problem(send(globex_api, "patch", f"{TOPICS}{public.pk}/", {"title": "Ours"}), 404)
    assert_problem(send(globex_api, "post", f"{TOPICS}{public.pk}/close/"), 404)
    assert_problem(send(globex_api, "post", f"{REPLIES}{answer.pk}/hide/"), 404)
    # A body naming acme's rows finds none of them on globex.
    replied = send(globex_api, "post", REPLIES, {"topic_id": public.pk, "body": "Hi"})
    assert set(assert_problem(replied, 400)["errors"]) == {"topic_id"}
    started = send(
        globex_api, "post", TOPICS, {"category_id": board["help"].pk, "title": "T", "body": "B"}
    )
    assert set(assert_problem(started, 400)["errors"]) == {"category_id"}
    with schema_context("acme"):
        stored = Topic.objects.get(pk=public.pk)
        assert (stored.title, stored.status, stored.replies.count()) == ("Public", "open", 1)


def test_an_acme_key_is_refused_on_globexs_host(board, mod, globex):
    _, owner = mod
    _, secret = make_key(owner, scopes=["forum:read", "forum:write"])
    seen = _ids(tenant_client("acme").get(TOPICS, **bearer(secret)))
    assert set(seen) == {board["public"].pk, board["pending"].pk}  # its owner moderates
    for url in (TOPICS, f"{TOPICS}{board['public'].pk}/"):
        assert_problem(tenant_client("globex").get(url, **bearer(secret)), 401, "invalid_api_key")


# -- scopes ------------------------------------------------------------------------------------


def test_keys_need_the_forums_scopes(board, mod):
    client, owner = mod
    reader = make_key(owner, scopes=["forum:read"])[1]
    writer = make_key(owner, scopes=["forum:read", "forum:write"])[1]
    content = make_key(owner, scopes=["content:read", "content:write"])[1]
    public = board["public"]

    assert public.pk in _ids(client.get(TOPICS, **bearer(reader)))
    assert _ids(client.get(FLAGS, **bearer(reader))) == []
    refused = send(client, "post", REPLIES, {"topic_id": public.pk, "body": "Hi"}, **bearer(reader))
    assert "forum:write" in assert_problem(refused, 403, "scope_missing")["detail"]
    for url in (TOPICS, REPLIES, CATEGORIES, FLAGS):
        assert_problem(client.get(url, **bearer(content)), 403, "scope_missing")

    made = send(client, "post", REPLIES, {"topic_id": public.pk, "body": "Hi"}, **bearer(writer))
    assert made.status_code == 201, made.content
    assert made.json()["author"]["name"] == "Mia Moderator"  # the key's owner
    closed = send(client, "post", f"{TOPICS}{public.pk}/close/", **bearer(writer))
    assert closed.status_code == 200 and closed.json()["status"] == "closed"


def test_a_key_acts_within_its_owners_permissions(board, acme):
    client = tenant_client("acme")
    owner = staff(client, "Vera Viewer", perms=["forum.view_topic"])
    _, secret = make_key(owner, scopes=["forum:read", "forum:write"])
    assert _ids(client.get(TOPICS, **bearer(secret))) == [board["public"].pk]
    assert_problem(client.get(REPLIES, **bearer(secret)), 403, "permission_denied")
    started = send(
        client, "post", TOPICS, {"category_id": board["help"].pk, "title": "T", "body": "B"},
        **bearer(secret),
    )  # fmt: skip
    assert_problem(started, 403, "permission_denied")


def test_a_publishable_key_reads_what_the_public_sees(board, mod):
    client, owner = mod
    _, publishable = make_key(owner, kind="publishable", scopes=[])
    pending = board["pending"]
    hidden = reply(board["bob"], board["public"], "Spam")
    with schema_context("acme"):
        services.reply_moderate(reply_id=hidden.pk, action="hide", actor=owner)

    # The key's owner moderates and sees everything; the key sees the public's forum.
    assert set(_ids(client.get(TOPICS))) == {board["public"].pk, pending.pk}
    assert _ids(client.get(TOPICS, **bearer(publishable))) == [board["public"].pk]
    assert_problem(client.get(f"{TOPICS}{pending.pk}/", **bearer(publishable)), 404)
    assert _ids(client.get(REPLIES, **bearer(publishable))) == [board["reply"].pk]
    assert_problem(client.get(f"{REPLIES}{hidden.pk}/", **bearer(publishable)), 404)
    assert len(_ids(client.get(CATEGORIES, **bearer(publishable)))) == 2
    assert_problem(client.get(FLAGS, **bearer(publishable)), 403, "scope_missing")
    refused = send(client, "post", f"{TOPICS}{board['public'].pk}/close/", **bearer(publishable))
    assert_problem(refused, 403, "scope_missing")


# -- conditional requests ----------------------------------------------------------------------


def test_a_topics_etag_follows_its_counters_too(board, mod):
    """A topic shows counters its own version does not count (the listing's): its ETag is that
    of its representation, so a new reply is never hidden behind a 304."""
    client, _ = mod
    url = f"{TOPICS}{board['public'].pk}/"
    project(name="forum_topics")
    first = client.get(url)
    etag = first["ETag"]
    assert first.json()["reply_count"] == 1 and not etag.startswith('"v')
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304

    reply(board["bob"], board["public"], "Another")
    project(name="forum_topics")
    again = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 200 and again.json()["reply_count"] == 2
    assert again["ETag"] != etag

    assert_problem(send(client, "patch", url, {"title": "Renamed"}, HTTP_IF_MATCH=etag), 412)
    renamed = send(client, "patch", url, {"title": "Renamed"}, HTTP_IF_MATCH=again["ETag"])
    assert renamed.status_code == 200 and renamed.json()["title"] == "Renamed"


def test_strict_sites_require_if_match_on_forum_rows(board, acme):
    tenant_update(slug="acme", require_if_match=True)
    client = tenant_client("acme")
    moderator(client)
    for url, data in (
        (f"{TOPICS}{board['public'].pk}/", {"title": "New"}),
        (f"{REPLIES}{board['reply'].pk}/", {"body": "New"}),
        (f"{CATEGORIES}{board['help'].pk}/", {"name": "New"}),
    ):
        assert_problem(send(client, "patch", url, data), 428, "precondition_required")
        etag = client.get(url)["ETag"]
        assert send(client, "patch", url, data, HTTP_IF_MATCH=etag).status_code == 200
