"""The forum's search (full text over the topic listing, each topic in its own language,
highlighted, hostile queries answered calmly, one tenant's topics only) and its feeds per
category (RSS and Atom: the newest topics, authors by name, never an email)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from django_tenants.utils import schema_context

from apps.forum import services

from .forum_support import category, member, moderator, project_forum, reply, text
from .forum_support import topic as start

pytestmark = pytest.mark.usefixtures("acme_site", "globex_site")
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def help_desk(acme_site):
    return category(name="Help", description="Questions and answers")


@pytest.fixture
def alice(acme_site):
    return member("Alice Example")


@pytest.fixture
def bob(acme_site):
    return member("Bob Example")


def _xml(response) -> ET.Element:
    return ET.fromstring(response.content)  # noqa: S314 - our own output


def _titles(response) -> list[str]:
    found = re.findall(r'class="search-result__title"><a href="[^"]+">(.*?)</a>', text(response))
    return [re.sub(r"</?mark>", "", title) for title in found]


def test_search_finds_topics_by_title_body_and_replies_best_first(
    acme_client, help_desk, alice, bob
):
    by_title = start(help_desk, alice, "Bicycle chain keeps slipping", "Any idea?")
    by_reply = start(help_desk, bob, "Weekend plans", "Where to go?")
    reply(by_reply, alice, "I will ride my bicycle to the lake.")
    start(help_desk, bob, "Cooking", "Nothing about two wheels.")
    project_forum()

    response = acme_client.get("/forum/search/", {"q": "bicycle"})
    assert response.status_code == 200
    assert _titles(response) == ["Bicycle chain keeps slipping", "Weekend plans"]
    html = response.content.decode()
    assert "<mark>Bicycle</mark> chain" in html
    assert "<mark>bicycle</mark> to the lake" in html  # the snippet shows the answer
    assert f'href="/forum/t/{by_title.pk}/bicycle-chain-keeps-slipping/"' in html
    assert "2 topics for “bicycle”" in text(response)
    assert response["X-Robots-Tag"] == "noindex"


def test_each_topic_is_searched_in_its_own_language(acme_client, help_desk, alice):
    start(help_desk, alice, "Fahrräder reparieren", "Mein Fahrrad quietscht.", locale="de")
    start(help_desk, alice, "Running shoes", "I was running every morning.")
    project_forum()
    assert _titles(acme_client.get("/forum/search/", {"q": "Fahrrad"})) == ["Fahrräder reparieren"]
    assert _titles(acme_client.get("/forum/search/", {"q": "runs"})) == ["Running shoes"]


def test_hidden_and_pending_topics_are_not_found(acme_client, help_desk, alice):
    moderated = category(name="Introductions", moderated=True)
    start(moderated, alice, "Secret bicycle plans")
    hidden = start(help_desk, alice, "Hidden bicycle topic")
    with schema_context("acme"):
        services.topic_moderate(topic_id=hidden.pk, action="hide", actor=moderator())
    project_forum()
    assert _titles(acme_client.get("/forum/search/", {"q": "bicycle"})) == []


@pytest.mark.parametrize(
    "query",
    ["\x00", "bicycle\x00", "-" * 40, '"-(' * 40, "(" * 300, "!(" * 50, "<script>", "a" * 5000],
)
def test_hostile_queries_answer_200_with_no_results_or_a_clear_message(
    acme_client, help_desk, alice, query
):
    start(help_desk, alice, "Bicycle", "Chains")
    project_forum()
    response = acme_client.get("/forum/search/", {"q": query})
    assert response.status_code == 200
    html = text(response)
    assert "No topics for" in html or "nothing to search for" in html or "1 topic for" in html
    assert "<script>" not in response.content.decode().split("<main")[1]


def test_search_past_the_last_page_is_404_not_an_error(acme_client, help_desk, alice):
    start(help_desk, alice, "Bicycle", "Chains")
    project_forum()
    assert acme_client.get("/forum/search/", {"q": "bicycle", "page": "9"}).status_code == 404
    assert acme_client.get("/forum/search/", {"q": "bicycle", "page": "x"}).status_code == 404


def test_search_on_another_tenant_does_not_find_acmes_topics(
    acme_client, globex_client, help_desk, alice
):
    start(help_desk, alice, "Acme bicycle secrets")
    project_forum()
    assert _titles(acme_client.get("/forum/search/", {"q": "bicycle"})) == ["Acme bicycle secrets"]
    response = globex_client.get("/forum/search/", {"q": "bicycle"})
    assert response.status_code == 200 and _titles(response) == []
    assert "No topics for “bicycle”." in text(response)


# -- feeds -------------------------------------------------------------------------------------


def test_the_rss_feed_lists_the_categorys_newest_topics_by_name(acme_client, help_desk, alice, bob):
    for number in range(3):
        start(help_desk, alice if number % 2 else bob, f"Topic {number}", f"Body of {number}")
    start(category(name="Elsewhere"), alice, "Not in this category")
    project_forum()

    response = acme_client.get("/forum/c/help/feed/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/rss+xml")
    channel = _xml(response).find("channel")
    assert channel.findtext("title") == "Acme Test forum: Help"
    assert channel.findtext("description") == "Questions and answers"
    assert channel.findtext("language") == "en"
    items = channel.findall("item")
    assert [item.findtext("title") for item in items] == ["Topic 2", "Topic 1", "Topic 0"]
    first = items[0]
    assert first.findtext("link").startswith("http://acme.localhost/forum/t/")
    assert first.findtext("description") == "Body of 2"
    assert "Bob Example" in ET.tostring(first, encoding="unicode")
    assert b"@example.test" not in response.content


def test_the_atom_feed_and_an_unknown_categorys_feed(acme_client, help_desk, alice):
    start(help_desk, alice, "Atom topic")
    project_forum()
    response = acme_client.get("/forum/c/help/atom/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = _xml(response)
    entries = feed.findall(f"{ATOM}entry")
    assert [entry.findtext(f"{ATOM}title") for entry in entries] == ["Atom topic"]
    assert entries[0].find(f"{ATOM}author").findtext(f"{ATOM}name") == "Alice Example"
    assert b"@example.test" not in response.content
    assert acme_client.get("/forum/c/nothing/feed/").status_code == 404
    assert acme_client.get("/forum/c/nothing/atom/").status_code == 404
