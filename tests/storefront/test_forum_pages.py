"""The forum's public pages: the index with its counters, categories, topics with their
replies (what each reader may see), permalinks, members' and tags' pages, "my topics",
tenant isolation; login emails never shown."""

from __future__ import annotations

import re

import pytest
from django_tenants.utils import schema_context

from apps.content import services as content
from apps.forum import services, view_counts
from apps.forum.models import WhoMayStart

from .forum_support import category, member, moderator, project_forum, reply, signed_in, text
from .forum_support import topic as start

pytestmark = pytest.mark.usefixtures("acme_site", "globex_site")


@pytest.fixture
def help_desk(acme_site):
    return category(name="Help", description="Questions and answers", colour="#aa3300", icon="🛟")


@pytest.fixture
def alice(acme_site):
    return member("Alice Example")


@pytest.fixture
def bob(acme_site):
    return member("Bob Example")


def test_the_index_lists_categories_with_their_counters_and_the_latest_topics(
    acme_client, help_desk, alice, bob
):
    billing = category(name="Billing", parent_id=help_desk.pk)
    first = start(help_desk, alice, "How do I reset?", "Steps please")
    reply(first, bob, "Like this")
    reply(first, alice, "Thanks")
    start(billing, bob, "Invoice question")
    project_forum()

    response = acme_client.get("/forum/")
    assert response.status_code == 200
    html = text(response)
    assert "🛟" in html and "--category-colour: #aa3300" in html
    assert '<a href="/forum/c/billing/">Billing</a>' in html
    help_card = html.split('class="forum-category"')[1]
    assert re.search(r"<dt>Topics</dt><dd>1</dd>", help_card)
    assert re.search(r"<dt>Replies</dt><dd>2</dd>", help_card)
    assert "How do I reset?" in help_card and "Alice Example" in help_card
    latest = html.split('id="forum-latest-heading"')[1]
    assert latest.index("Invoice question") < latest.index("How do I reset?")
    assert "@example.test" not in html


def test_a_category_lists_pinned_topics_first_then_by_last_activity(
    acme_client, help_desk, alice, bob
):
    mod = moderator()
    old = start(help_desk, alice, "Old but pinned")
    quiet = start(help_desk, alice, "Quiet topic")
    busy = start(help_desk, bob, "Busy topic", tag_names=())
    reply(quiet, bob, "A reply brings it up")
    reply(busy, alice, "And this one is newer")
    with schema_context("acme"):
        services.topic_moderate(topic_id=old.pk, action="pin", actor=mod)
        services.topic_moderate(topic_id=quiet.pk, action="close", actor=mod)
    project_forum()

    html = text(acme_client.get("/forum/c/help/"))
    titles = re.findall(
        r'class="forum-topic-line__title">.*?<a href="[^"]+">([^<]+)</a>', html, re.S
    )
    assert titles == ["Old but pinned", "Busy topic", "Quiet topic"]
    assert "Pinned" in html and "Closed" in html
    assert "Log in to start a topic" in html


def test_the_new_topic_button_follows_who_may_start(acme_client, alice):
    staff_only = category(name="Announcements", who_may_start=WhoMayStart.STAFF)
    open_one = category(name="Lounge")
    member_client = signed_in(alice)
    assert "New topic" not in text(member_client.get(f"/forum/c/{staff_only.slug}/"))
    assert "Only staff start topics here." in text(
        member_client.get(f"/forum/c/{staff_only.slug}/")
    )
    assert "New topic" in text(member_client.get(f"/forum/c/{open_one.slug}/"))
    refused = member_client.get(f"/forum/c/{staff_only.slug}/new/")
    assert refused.status_code == 403
    assert "Only staff start topics in this category." in text(refused)


def test_a_topic_page_shows_replies_quotes_solution_and_links_authors_by_name(
    acme_client, help_desk, alice, bob
):
    topic = start(help_desk, alice, "Printer on fire", "It **burns**")
    answer = reply(topic, bob, "Use water? No: an extinguisher.")
    reply(topic, alice, "Thank you", quoted_reply_id=answer.pk)
    with schema_context("acme"):
        services.topic_mark_solved(topic_id=topic.pk, reply_id=answer.pk, actor=alice)

    response = acme_client.get(f"/forum/t/{topic.pk}/{topic.slug}/")
    assert response.status_code == 200
    html = text(response)
    assert "<strong>burns</strong>" in html
    assert f'id="reply-{answer.pk}" class="forum-reply forum-reply--solution"' in html
    assert "Solved: see the answer" in html
    assert "Bob Example wrote:" in html
    assert '<a href="/forum/u/bob-example/">Bob Example</a>' in html
    assert "@example.test" not in html
    assert "Log in to reply" in html and "/account/login/?next=" in html


def test_a_topic_without_its_slug_or_with_a_wrong_one_redirects_to_its_address(
    acme_client, help_desk, alice
):
    topic = start(help_desk, alice, "Proper title")
    for path in (f"/forum/t/{topic.pk}/", f"/forum/t/{topic.pk}/old-title/"):
        response = acme_client.get(path + "?page=1")
        assert response.status_code == 301
        assert response["Location"] == f"/forum/t/{topic.pk}/proper-title/?page=1"
    assert acme_client.get("/forum/t/999999/x/").status_code == 404
    assert acme_client.get("/forum/t/99999999999999999999999/x/").status_code == 404


def test_pending_and_hidden_posts_are_seen_only_by_their_author_and_moderators(
    acme_client, alice, bob
):
    moderated = category(name="Introductions", moderated=True)
    open_topic = start(category(name="Lounge"), alice, "Open")
    mod = moderator()
    pending_topic = start(moderated, alice, "Hello, I am new")
    shown = reply(open_topic, bob, "Public reply")
    hidden = reply(open_topic, bob, "Rude reply")
    with schema_context("acme"):
        services.reply_moderate(reply_id=hidden.pk, action="hide", actor=mod)
    project_forum()

    assert acme_client.get(f"/forum/t/{pending_topic.pk}/{pending_topic.slug}/").status_code == 404
    assert signed_in(bob).get(f"/forum/t/{pending_topic.pk}/").status_code == 404
    own = signed_in(alice).get(f"/forum/t/{pending_topic.pk}/{pending_topic.slug}/")
    assert own.status_code == 200 and "Awaiting approval" in text(own)
    assert "Hello, I am new" not in text(acme_client.get(f"/forum/c/{moderated.slug}/"))

    path = f"/forum/t/{open_topic.pk}/{open_topic.slug}/"
    public = text(acme_client.get(path))
    assert "Public reply" in public and "Rude reply" not in public
    assert "Rude reply" not in text(signed_in(alice).get(path))
    for viewer in (bob, mod):
        seen = text(signed_in(viewer).get(path))
        assert "Rude reply" in seen and "Hidden by a moderator" in seen
    assert acme_client.get(f"/forum/r/{hidden.pk}/").status_code == 404
    assert acme_client.get(f"/forum/r/{shown.pk}/").status_code == 302


def test_a_reply_permalink_lands_on_the_page_that_shows_it(acme_client, help_desk, alice, bob):
    topic = start(help_desk, alice, "Long thread")
    replies = [reply(topic, bob if n % 2 else alice, f"Reply number {n}") for n in range(45)]
    cases = {0: f"/forum/t/{topic.pk}/long-thread/", 19: f"/forum/t/{topic.pk}/long-thread/",
             20: f"/forum/t/{topic.pk}/long-thread/?page=2",
             44: f"/forum/t/{topic.pk}/long-thread/?page=3"}  # fmt: skip
    for index, expected in cases.items():
        target = replies[index]
        response = acme_client.get(f"/forum/r/{target.pk}/")
        assert response.status_code == 302
        assert response["Location"] == f"{expected}#reply-{target.pk}"
        landed = text(acme_client.get(response["Location"].split("#")[0]))
        assert f'id="reply-{target.pk}"' in landed
        assert f"Reply number {index}<" in landed
    third = text(acme_client.get(f"/forum/t/{topic.pk}/long-thread/?page=3"))
    assert len(re.findall(r'id="reply-\d+"', third)) == 5
    assert acme_client.get(f"/forum/t/{topic.pk}/long-thread/?page=4").status_code == 404
    assert acme_client.get(f"/forum/t/{topic.pk}/long-thread/?page=x").status_code == 404


def test_member_and_tag_pages_list_public_topics(acme_client, help_desk, alice, bob):
    with schema_context("acme"):
        content.tag_get_or_create(name="Printers")
    start(help_desk, alice, "Tagged topic", tag_slugs=["printers"])
    start(help_desk, bob, "Bob's topic")
    project_forum()

    by_alice = acme_client.get("/forum/u/alice-example/")
    assert by_alice.status_code == 200
    html = text(by_alice)
    assert "Alice Example" in html and "Tagged topic" in html and "Bob's topic" not in html
    assert "@example.test" not in html
    tagged = text(acme_client.get("/forum/tags/printers/"))
    assert "Tagged topic" in tagged and "Bob's topic" not in tagged
    assert acme_client.get("/forum/u/nobody-here/").status_code == 404
    assert acme_client.get("/forum/tags/unknown/").status_code == 404


def test_my_topics_lists_pending_ones_and_subscriptions(acme_client, alice, bob):
    moderated = category(name="Introductions", moderated=True)
    lounge = category(name="Lounge")
    start(moderated, alice, "My pending hello")
    public = start(lounge, alice, "My public topic")
    others = start(lounge, bob, "Bob's thread")
    with schema_context("acme"):
        services.topic_subscribe(topic_id=others.pk, actor=alice)
    reply(public, bob, "One reply")
    project_forum()

    assert acme_client.get("/forum/my/")["Location"].startswith("/account/login/?next=/forum/my/")
    html = text(signed_in(alice).get("/forum/my/"))
    mine = html.split('id="my-subscriptions-heading"')
    assert "My pending hello" in mine[0] and "Awaiting approval" in mine[0]
    assert "My public topic" in mine[0] and "Bob's thread" not in mine[0]
    assert "Bob's thread" in mine[1] and "My public topic" in mine[1]


def test_a_topic_of_one_tenant_is_not_found_on_another(
    acme_client, globex_client, help_desk, alice
):
    topic = start(help_desk, alice, "Acme only")
    the_reply = reply(topic, alice, "Acme reply")
    project_forum()
    assert acme_client.get(f"/forum/t/{topic.pk}/{topic.slug}/").status_code == 200
    assert globex_client.get(f"/forum/t/{topic.pk}/{topic.slug}/").status_code == 404
    assert globex_client.get(f"/forum/r/{the_reply.pk}/").status_code == 404
    assert globex_client.get("/forum/c/help/").status_code == 404
    assert "Acme only" not in text(globex_client.get("/forum/"))
    assert globex_client.get("/forum/u/alice-example/").status_code == 404


def test_a_topics_views_are_counted_and_shown_once_flushed(acme_client, help_desk, alice):
    topic = start(help_desk, alice, "Seen twice")
    project_forum()
    path = f"/forum/t/{topic.pk}/seen-twice/"
    acme_client.get(path)
    acme_client.get(path)
    acme_client.head(path)  # not a view
    acme_client.get(f"/forum/t/{topic.pk}/")  # the redirect is not a view either
    with schema_context("acme"):
        assert view_counts.flush_views() == 1
    assert "2 views" in text(acme_client.get(path))  # itself a view, added by the next flush
    assert re.search(r"<dt>Views</dt><dd>2</dd>", text(acme_client.get("/forum/c/help/")))
    with schema_context("acme"):
        view_counts.flush_views()
    assert re.search(r"<dt>Views</dt><dd>3</dd>", text(acme_client.get("/forum/c/help/")))


def test_the_sitemap_lists_the_forum_its_categories_and_public_topics(
    acme_client, help_desk, alice
):
    public = start(help_desk, alice, "Public topic")
    pending = start(category(name="Introductions", moderated=True), alice, "Pending topic")
    project_forum()
    xml = acme_client.get("/sitemap.xml").content.decode()
    assert "<loc>http://acme.localhost/forum/</loc>" in xml
    assert "<loc>http://acme.localhost/forum/?lang=de</loc>" in xml
    assert "<loc>http://acme.localhost/forum/c/help/</loc>" in xml
    assert f"<loc>http://acme.localhost/forum/t/{public.pk}/public-topic/</loc>" in xml
    assert f"/forum/t/{pending.pk}/" not in xml


def test_pages_follow_the_readers_locale_and_unknown_ones_get_the_themed_404(
    acme_client, help_desk, alice
):
    with schema_context("acme"):
        services.category_update(
            category_id=help_desk.pk, translations={"de": {"name": "Hilfe"}}, actor=None
        )
    topic = start(help_desk, alice, "Ein Thema", locale="de")
    project_forum()
    german = acme_client.get("/forum/?lang=de")
    assert german.status_code == 200
    html = text(german)
    assert '<html lang="de">' in html
    assert '<a href="/forum/c/help/?lang=de">Hilfe</a>' in html
    assert f'href="/forum/t/{topic.pk}/ein-thema/?lang=de"' in html
    missing = acme_client.get("/forum/c/nothing-here/?lang=en")
    assert missing.status_code == 404 and "Page not found" in text(missing)
    assert "Acme Test" in text(missing)  # the site's own page
