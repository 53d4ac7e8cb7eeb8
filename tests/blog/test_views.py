"""The blog's public pages, feeds and search, as a reader on a tenant's site sees them."""

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest
from django_tenants.utils import schema_context

from apps.blog import services as blog
from tests.index.support import NEWEST_FIRST, author, category, post, project, tied_posts

BASE = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
ATOM = "{http://www.w3.org/2005/Atom}"


def _xml(response):
    return ET.fromstring(response.content)  # noqa: S314


def _posts(count, start=0, **kwargs):
    with schema_context("acme"):
        nodes = [
            post(
                f"Post number {n + start}",
                f"Body of post {n}.",
                published_at=BASE + timedelta(days=n),
                **kwargs,
            )
            for n in range(count)
        ]
    project()
    return nodes


def test_the_index_lists_published_posts_newest_first(acme_client):
    with schema_context("acme"):
        writer = author("Ada", "Lovelace")
        news = category("News")
        post("Older", "Old body", published_at=BASE, by=writer, category=news, tags=("python",))
        post("Newer", "x " * 450, published_at=BASE + timedelta(days=1))
        post("A draft", publish=False)
    project()
    response = acme_client.get("/blog/")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.index("Newer") < html.index("Older")
    assert "A draft" not in html
    assert "Ada Lovelace" in html and 'href="/blog/category/news/"' in html
    assert 'href="/blog/tag/python/"' in html and "3 min read" in html
    assert 'href="/static/css/blog.css"' in html
    assert response["Content-Language"] == "en"
    assert "Accept-Language" in response["Vary"]


def test_pagination_and_pages_past_the_end(acme_client):
    _posts(12)
    first = acme_client.get("/blog/")
    assert 'href="?page=2"' in first.content.decode() and "Post number 11" in first.content.decode()
    second = acme_client.get("/blog/?page=2")
    assert (
        "Post number 0" in second.content.decode()
        and "Post number 11" not in second.content.decode()
    )
    for bad in ("3", "0", "abc", "1e9", "-1"):
        assert acme_client.get(f"/blog/?page={bad}").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/blog/",
        "/blog/tag/t/",
        "/blog/category/cat/",
        "/blog/archive/2025/3/",
        "/blog/feed/",
        "/blog/feed/atom/",
        "/blog/search/?q=post",
    ],
)
def test_listing_pages_run_a_bounded_number_of_queries(
    acme_client, django_assert_max_num_queries, path
):
    with schema_context("acme"):
        cat = category("Cat")
    _posts(3, tags=("t",), category=cat)
    acme_client.get(path)  # warm: the tenant is resolved from cache afterwards
    # At most: the schema's search_path (after a switch), a tag or category, a count, a page, months.
    with django_assert_max_num_queries(5):
        small = acme_client.get(path)
    assert small.status_code == 200
    _posts(25, start=3, tags=("t",), category=cat)
    with django_assert_max_num_queries(5):
        large = acme_client.get(path)
    assert large.status_code == 200
    assert large.content.count(b"/blog/post-number-") > small.content.count(b"/blog/post-number-")


def test_a_post_page(acme_client):
    with schema_context("acme"):
        writer = author("Grace", "Hopper")
        news = category("News")
        post("Before", published_at=BASE)
        post(
            "The post", "# Heading\n\n" + "word " * 580 + "\n\n<script>alert(1)</script>",
            published_at=BASE + timedelta(days=1), by=writer, category=news, tags=("python", "django"),
        )  # fmt: skip
        post("After", published_at=BASE + timedelta(days=2))
        post("Draft after", publish=False)
    project()
    response = acme_client.get("/blog/the-post/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>The post</h1>" in html and "<h1>Heading</h1>" in html
    assert "<script>alert(1)</script>" not in html
    assert "3 min read" in html and "Grace Hopper" in html
    assert f'href="/blog/author/{writer.pk}/"' in html and 'href="/blog/category/news/"' in html
    assert 'href="/blog/tag/django/"' in html and 'href="/blog/tag/python/"' in html
    assert 'href="/blog/before/" rel="prev"' in html and 'href="/blog/after/" rel="next"' in html
    assert 'rel="canonical" href="http://acme.localhost/blog/the-post/"' in html
    # The oldest post links only forward, the newest only back: the draft is never linked.
    first = acme_client.get("/blog/before/").content.decode()
    assert 'rel="prev"' not in first
    assert '<a class="post-nav__next" href="/blog/the-post/" rel="next">' in first
    last = acme_client.get("/blog/after/").content.decode()
    assert '<a class="post-nav__prev" href="/blog/the-post/" rel="prev">' in last
    assert 'rel="next"' not in last and "draft-after" not in last


def test_a_post_page_runs_a_bounded_number_of_queries(acme_client, django_assert_max_num_queries):
    with schema_context("acme"):
        post("Before", published_at=BASE)
        post("Few tags", tags=("a",), published_at=BASE + timedelta(days=1))
        post("Many tags", tags=tuple(f"tag{n}" for n in range(30)), by=author(), category=category("C"),
             more={}, published_at=BASE + timedelta(days=2))  # fmt: skip
        post("After", published_at=BASE + timedelta(days=3))
    project()
    for path in ("/blog/few-tags/", "/blog/many-tags/"):
        acme_client.get(path)
        # search_path, the post, its tags, its translations, the previous and next posts
        with django_assert_max_num_queries(6):
            assert acme_client.get(path).status_code == 200


def test_drafts_archived_and_unknown_posts_are_404(acme_client):
    with schema_context("acme"):
        post("Secret", "draft", publish=False)
        archived = post("Old news", "archived")
        blog.post_archive(post_id=archived.pk)
    project()
    for path in ("/blog/secret/", "/blog/old-news/", "/blog/no-such-post/", "/blog/tag/nope/",
                 "/blog/category/nope/", "/blog/author/999999/", "/blog/archive/2025/13/",
                 "/blog/archive/1999/1/", "/blog/archive/0/1/", "/blog/%C3%A9t%C3%A9/",
                 "/blog/tag/%00/"):  # fmt: skip
        assert acme_client.get(path).status_code == 404, path
    assert acme_client.post("/blog/").status_code == 405


def test_tag_category_author_and_archive_pages(acme_client):
    with schema_context("acme"):
        ada, bob = author("Ada", "Lovelace"), author("Bob", "Builder")
        news = category("News", description="What happened.")
        post(
            "Ada in Jan",
            published_at=datetime(2025, 1, 3, tzinfo=UTC),
            by=ada,
            category=news,
            tags=("x",),
        )
        post("Bob in Feb", published_at=datetime(2025, 2, 3, tzinfo=UTC), by=bob, tags=("x", "y"))
        category("Empty")
    project()

    def titles(path):
        response = acme_client.get(path)
        assert response.status_code == 200, path
        html = response.content.decode()
        return {t for t in ("Ada in Jan", "Bob in Feb") if f">{t}</a>" in html}, html

    assert titles("/blog/tag/x/")[0] == {"Ada in Jan", "Bob in Feb"}
    assert titles("/blog/tag/y/")[0] == {"Bob in Feb"}
    found, html = titles("/blog/category/news/")
    assert found == {"Ada in Jan"} and "What happened." in html
    assert titles("/blog/category/empty/")[0] == set()
    found, html = titles(f"/blog/author/{bob.pk}/")
    assert found == {"Bob in Feb"} and "<h1>Bob Builder</h1>" in html
    found, html = titles("/blog/archive/2025/1/")
    assert found == {"Ada in Jan"} and "January 2025" in html
    archive = acme_client.get("/blog/archive/").content.decode()
    assert 'href="/blog/archive/2025/2/"' in archive and 'href="/blog/archive/2025/1/"' in archive


def test_feeds_are_valid_rss_and_atom(acme_client):
    with schema_context("acme"):
        post(
            "Feed & <friends>",
            "Body",
            excerpt="Short & sweet",
            tags=("t",),
            category=category("C"),
            by=author(),
        )
        post("Draft", publish=False)
    project()
    rss = acme_client.get("/blog/feed/")
    assert rss.status_code == 200 and rss["Content-Type"].startswith("application/rss+xml")
    channel = _xml(rss).find("channel")
    items = channel.findall("item")
    assert [item.findtext("title") for item in items] == ["Feed & <friends>"]
    assert items[0].findtext("link") == "http://acme.localhost/blog/feed-friends/"
    assert items[0].findtext("description") == "Short & sweet"
    assert {c.text for c in items[0].findall("category")} == {"C", "t"}
    assert channel.findtext("language") == "en"
    atom = acme_client.get("/blog/feed/atom/")
    assert atom.status_code == 200 and atom["Content-Type"].startswith("application/atom+xml")
    entries = _xml(atom).findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in entries] == ["Feed & <friends>"]
    assert entries[0].find(f"{ATOM}link").get("href") == "http://acme.localhost/blog/feed-friends/"


def test_an_empty_feed_is_still_valid(acme_client):
    assert _xml(acme_client.get("/blog/feed/")).find("channel").findall("item") == []
    assert _xml(acme_client.get("/blog/feed/atom/")).findall(f"{ATOM}entry") == []


def test_search_page(acme_client):
    with schema_context("acme"):
        post("Bicycle repair", "Fixing a <b>bicycle</b> & more")
        post("Cooking", "Nothing here")
    project()
    empty = acme_client.get("/blog/search/")
    assert empty.status_code == 200 and 'role="search"' in empty.content.decode()
    response = acme_client.get("/blog/search/", {"q": "bicycle"})
    html = response.content.decode()
    assert response.status_code == 200 and "1 result for" in html
    assert '<a href="/blog/bicycle-repair/"><mark>Bicycle</mark> repair</a>' in html
    assert "Cooking" not in html
    hostile = acme_client.get(
        "/blog/search/", {"q": '"><script>alert(1)</script>'}
    ).content.decode()
    assert "<script>alert(1)</script>" not in hostile and "&lt;script&gt;" in hostile
    assert acme_client.get("/blog/search/", {"q": "bicycle", "page": "9"}).status_code == 404


def test_search_results_of_equal_rank_are_listed_newest_first(acme_client):
    with schema_context("acme"):
        tied_posts()
    project()
    html = acme_client.get("/blog/search/", {"q": "kettle"}).content.decode()
    assert "7 results for" in html
    links = re.findall(r'<a href="/blog/(kettle-[a-z-]+)/">', html)
    assert links == [
        "kettle-kettle-sunday",
        *(title.lower().replace(" ", "-") for title in NEWEST_FIRST),
    ]


def test_locale_negotiation(acme_client, acme_en_de):
    with schema_context("acme"):
        post(
            "Cats",
            "Cats are great.",
            more={"de": {"title": "Katzen", "slug": "katzen", "body": "Katzen sind toll."}},
        )
        post("Only English", "No translation.")
    project()
    redirect = acme_client.get("/blog/", HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9")
    assert redirect.status_code == 302 and redirect["Location"] == "/blog/?lang=de"
    german = acme_client.get("/blog/?lang=de")
    html = german.content.decode()
    assert german["Content-Language"] == "de"
    assert "Katzen" in html and "Only English" in html and 'lang="en"' in html
    assert acme_client.get("/blog/").content.decode().count("Katzen") == 0
    assert "Katzen sind toll" in acme_client.get("/blog/cats/?lang=de").content.decode()
    assert "Cats are great" in acme_client.get("/blog/katzen/?lang=en").content.decode()
    page = acme_client.get("/blog/?lang=de").content.decode()
    assert 'href="/blog/katzen/?lang=de"' in page
    post_de = acme_client.get("/blog/katzen/?lang=de").content.decode()
    assert 'rel="canonical" href="http://acme.localhost/blog/katzen/?lang=de"' in post_de
    assert 'hreflang="en" href="http://acme.localhost/blog/cats/"' in post_de
    found = acme_client.get("/blog/search/", {"q": "Katze", "lang": "de"}).content.decode()
    assert "<mark>Katzen</mark>" in found


def test_a_post_of_acme_is_never_reachable_from_globex(acme_client, globex_client):
    with schema_context("acme"):
        writer = author()
        post(
            "Acme secret plans",
            "Bicycle",
            tags=("acme-tag",),
            category=category("Acme cat"),
            by=writer,
        )
    project()
    assert acme_client.get("/blog/acme-secret-plans/").status_code == 200
    for path in ("/blog/acme-secret-plans/", "/blog/tag/acme-tag/", "/blog/category/acme-cat/",
                 f"/blog/author/{writer.pk}/"):  # fmt: skip
        assert globex_client.get(path).status_code == 404, path
    for path in ("/blog/", "/blog/feed/", "/blog/feed/atom/", "/blog/search/?q=bicycle",
                 "/blog/search/?q=secret", "/blog/archive/"):  # fmt: skip
        response = globex_client.get(path)
        assert response.status_code == 200 and b"Acme secret" not in response.content, path
