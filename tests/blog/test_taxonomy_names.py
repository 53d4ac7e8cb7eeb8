"""Category and tag names on the blog's pages, in the reader's locale (the default one's as fallback)."""

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest
from django_tenants.utils import schema_context

from apps.content import services as content
from tests.index.support import category, post, project

BASE = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)

pytestmark = pytest.mark.usefixtures("acme_en_de")


def _site():
    """News (named in German too), Misc (English only); tags outdoors (German too) and team."""
    with schema_context("acme"):
        news = category(
            "News",
            description="What happens.",
            translations={"de": {"name": "Neuigkeiten", "description": "Was passiert."}},
        )
        misc = category("Misc", description="Everything else.")
        content.tag_get_or_create(name="Outdoors", translations={"de": {"name": "Draußen"}})
        post(
            "Hike", "Walk.", category=news, tags=("Outdoors", "Team"), published_at=BASE,
            more={"de": {"title": "Wanderung", "slug": "wanderung", "body": "Gehen."}},
        )  # fmt: skip
        post("Odds", "Ends.", category=misc, published_at=BASE + timedelta(days=1))
    project()


def _html(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return response.content.decode()


def _heading(html: str) -> str:
    return re.search(r"<h1>(.*?)</h1>", html).group(1)


def test_category_and_tag_pages_are_headed_by_the_name_in_the_readers_locale(acme_client):
    _site()
    german = _html(acme_client, "/blog/category/news/?lang=de")
    assert _heading(german) == "Neuigkeiten" and "Was passiert." in german
    assert "Neuigkeiten" in re.search(r"<title>(.*?)</title>", german, re.S).group(1)
    english = _html(acme_client, "/blog/category/news/?lang=en")  # (the German choice sticks)
    assert _heading(english) == "News" and "What happens." in english
    assert "Neuigkeiten" not in english
    # No German name: the German page shows the default one.
    fallback = _html(acme_client, "/blog/category/misc/?lang=de")
    assert _heading(fallback) == "Misc" and "Everything else." in fallback
    assert _heading(_html(acme_client, "/blog/tag/outdoors/?lang=de")) == "Draußen"
    assert _heading(_html(acme_client, "/blog/tag/outdoors/?lang=en")) == "Outdoors"
    assert _heading(_html(acme_client, "/blog/tag/team/?lang=de")) == "Team"


def test_cards_and_post_pages_name_the_category_and_tags_in_the_readers_locale(acme_client):
    _site()
    cards = _html(acme_client, "/blog/?lang=de")
    assert 'href="/blog/category/news/?lang=de">Neuigkeiten</a>' in cards
    assert 'href="/blog/tag/outdoors/?lang=de" rel="tag">Draußen</a>' in cards
    assert 'href="/blog/tag/team/?lang=de" rel="tag">Team</a>' in cards
    assert 'href="/blog/category/misc/?lang=de">Misc</a>' in cards
    english = _html(acme_client, "/blog/?lang=en")
    assert 'href="/blog/category/news/">News</a>' in english and "Draußen" not in english

    article = _html(acme_client, "/blog/wanderung/?lang=de")
    assert 'href="/blog/category/news/?lang=de">Neuigkeiten</a>' in article
    assert 'rel="tag">Draußen</a>' in article and 'rel="tag">Team</a>' in article
    original = _html(acme_client, "/blog/hike/?lang=en")
    assert (
        'href="/blog/category/news/">News</a>' in original and 'rel="tag">Outdoors</a>' in original
    )


def test_feeds_and_search_results_carry_the_names_of_their_locale(acme_client):
    _site()
    feed = ET.fromstring(_html(acme_client, "/blog/feed/?lang=de"))  # noqa: S314
    items = {item.findtext("title"): item for item in feed.find("channel").findall("item")}
    assert [c.text for c in items["Wanderung"].findall("category")] == [
        "Neuigkeiten",
        "Draußen",
        "Team",
    ]
    english = ET.fromstring(_html(acme_client, "/blog/feed/?lang=en"))  # noqa: S314
    (hike,) = [i for i in english.find("channel").findall("item") if i.findtext("title") == "Hike"]
    assert [c.text for c in hike.findall("category")] == ["News", "Outdoors", "Team"]


@pytest.mark.parametrize(
    ("path", "queries"),
    # A count and the page, months; on a category's or tag's page that one first; a feed's page.
    [("/blog/", 3), ("/blog/category/news/", 4), ("/blog/tag/tag-7/", 4), ("/blog/feed/", 1)],
)
def test_listing_pages_cost_the_same_queries_in_every_locale(
    acme_client, django_assert_num_queries, path, queries
):
    with schema_context("acme"):
        names = {"de": {"name": "Neuigkeiten", "description": "Was passiert."}}
        news = category("News", translations=names)
        tags = [
            content.tag_get_or_create(
                name=f"Tag {n}", translations={"de": {"name": f"Etikett {n}"}}
            )
            for n in range(8)
        ]
        for n in range(12):
            post(
                f"Post {n}", f"Body {n}.", category=news, tags=tuple(t.name for t in tags),
                published_at=BASE + timedelta(days=n),
            )  # fmt: skip
    project()
    for lang in ("en", "de"):
        acme_client.get(f"{path}?lang={lang}")  # warm: the tenant is resolved from cache afterwards
    with django_assert_num_queries(queries):
        english = _html(acme_client, f"{path}?lang=en")
    with django_assert_num_queries(queries):
        german = _html(acme_client, f"{path}?lang=de")
    assert english.count("Tag 7") >= 10 and "Etikett" not in english
    assert german.count("Etikett 7") >= 10 and "Tag 7" not in german
