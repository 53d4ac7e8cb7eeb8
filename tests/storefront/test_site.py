"""The storefront's frame: home page, sitemap.xml, robots.txt, locales, 404 and 500 pages."""

import re
import xml.etree.ElementTree as ET

from django.template.loader import render_to_string
from django.test import Client
from django_tenants.utils import schema_context

from apps.content import services as content
from apps.pages.services import MenuItemInput
from apps.storefront import views
from tests.conftest import tenant_client
from tests.index.support import project
from tests.pages.support import deliver_to_pages, make_menu, make_page, make_post

SITEMAP_NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}


def html(response) -> str:
    return response.content.decode()


# -- home ------------------------------------------------------------------------------


def test_without_a_home_page_the_home_lists_the_latest_posts(acme_client, acme_site):
    make_post("Older", de="Älter")
    make_post("Newest")
    make_post("Not yet", publish=False)
    assert "Newest" not in html(acme_client.get("/"))  # read from the listing: not there yet
    project()  # the content listing projection hears of them (the relay does it in production)
    deliver_to_pages()
    page = html(acme_client.get("/"))
    assert "Welcome to Acme Test" in page
    assert page.index("Newest") < page.index("Older") and "Not yet" not in page
    assert '<a href="/blog/newest/">Newest</a>' in page
    assert acme_client.get("/", HTTP_ACCEPT_LANGUAGE="de")["Location"] == "/?lang=de"
    german = html(acme_client.get("/?lang=de"))
    assert '<a href="/blog/alter/?lang=de">Älter</a>' in german
    assert '<article lang="en">' in german  # "Newest" has no German translation yet


def test_an_empty_site_says_so(acme_client):
    assert "being set up" in html(acme_client.get("/"))


def test_a_page_marked_as_home_is_the_home_page(acme_client, acme_site):
    home = make_page(
        en=("Home", "home"), de=("Startseite", "startseite"), template="landing", is_home=True,
        blocks={"en": [{"type": "hero", "title": "Hello there"}], "de": [{"type": "hero", "title": "Hallo"}]},
    )  # fmt: skip
    response = acme_client.get("/")
    assert response.status_code == 200 and '<h1 class="hero__title">Hello there</h1>' in html(
        response
    )
    assert "Hallo" in html(tenant_client("acme").get("/?lang=de"))
    # Its own path leads to the root; a staff preview still shows it there.
    assert acme_client.get("/home/")["Location"] == "/"
    assert acme_client.get("/startseite/?lang=de")["Location"] == "/?lang=de"
    # Unpublished, it is no home page any more (once pages hear of it).
    with schema_context("acme"):
        content.node_unpublish(node_id=home.pk)
    deliver_to_pages()
    assert "Hello there" not in html(acme_client.get("/"))


def test_a_warm_home_page_costs_no_query(acme_client, acme_site, django_assert_num_queries):
    make_post("Cached")
    project()
    make_menu("header", [MenuItemInput(label={"en": "Blog"}, url="/blog/")])
    acme_client.get("/")
    with django_assert_num_queries(0):
        response = acme_client.get("/")
    assert "Cached" in html(response) and 'href="/blog/"' in html(response)


def test_the_home_page_has_a_locale_switcher(acme_client, acme_site):
    page = html(acme_client.get("/"))
    assert '<nav class="locale-switcher" aria-label="Language">' in page
    assert 'href="/?lang=de" hreflang="de" lang="de">Deutsch</a>' in page
    assert 'href="/?lang=en" hreflang="en" lang="en" aria-current="true">English</a>' in page
    response = acme_client.get("/?lang=de")
    assert response.cookies["locale"].value == "de" and '<html lang="de">' in html(response)
    assert "Accept-Language" in response["Vary"]


def test_one_locale_means_no_switcher(acme_client):
    assert "locale-switcher" not in html(acme_client.get("/"))


def test_the_platform_home_page_stays(public_client):
    response = public_client.get("/")
    assert response.status_code == 200 and "Multi-tenant CMS and commerce platform" in html(
        response
    )
    assert "menu--header" not in html(response)


# -- sitemap.xml and robots.txt -------------------------------------------------------------


def _sitemap(client: Client) -> dict[str, set[str]]:
    response = client.get("/sitemap.xml")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/xml")
    root = ET.fromstring(response.content)  # noqa: S314 - our own output
    found = {}
    for url in root.findall("s:url", SITEMAP_NS):
        alternates = url.findall("{http://www.w3.org/1999/xhtml}link")
        found[url.find("s:loc", SITEMAP_NS).text] = {a.get("hreflang") for a in alternates}
    return found


def test_the_sitemap_lists_published_pages_and_posts_per_locale(acme_client, acme_site):
    about = make_page(en=("About", "about"), de=("Über uns", "ueber-uns"))
    make_page(en=("Team", "team"), parent=about)
    make_page(en=("Draft", "draft"), publish=False)
    make_page(en=("Home", "home"), is_home=True)
    make_post("First post", de="Erster Beitrag")
    make_post("Draft post", publish=False)
    urls = _sitemap(acme_client)
    base = "http://acme.localhost"
    assert set(urls) == {
        f"{base}/", f"{base}/?lang=de",
        f"{base}/about/", f"{base}/ueber-uns/?lang=de",
        f"{base}/about/team/",
        f"{base}/blog/first-post/", f"{base}/blog/erster-beitrag/?lang=de",
        f"{base}/blog/", f"{base}/blog/?lang=de",
    }  # fmt: skip
    assert urls[f"{base}/ueber-uns/?lang=de"] == {"en", "de"}
    assert urls[f"{base}/about/team/"] == set()  # one locale: no alternates


def test_the_sitemap_is_cached_until_content_changes(
    acme_client, acme_site, django_assert_num_queries
):
    make_page(en=("About", "about"))
    acme_client.get("/sitemap.xml")
    with django_assert_num_queries(0):
        acme_client.get("/sitemap.xml")
    make_page(en=("Later", "later"))
    deliver_to_pages()
    assert "http://acme.localhost/later/" in _sitemap(acme_client)


def test_robots_points_at_the_sitemap(acme_client, django_assert_num_queries):
    acme_client.get("/robots.txt")
    with django_assert_num_queries(0):
        response = acme_client.get("/robots.txt")
    body = html(response)
    assert response["Content-Type"].startswith("text/plain")
    assert "Sitemap: http://acme.localhost/sitemap.xml" in body
    assert "Disallow: /admin/" in body and "Disallow: /preview/" in body


# -- error pages -----------------------------------------------------------------------------


def test_404_fits_the_theme(acme_client, acme_site):
    make_menu("header", [MenuItemInput(label={"en": "Blog"}, url="/blog/")])
    response = acme_client.get("/no/such/page/")
    page = html(response)
    assert response.status_code == 404
    assert "Page not found" in page and "/no/such/page/" in page
    assert 'class="skip-link"' in page and "Acme Test" in page and 'href="/blog/"' in page
    public = Client(HTTP_HOST="localhost").get("/nothing/")
    assert public.status_code == 404 and "Page not found" in html(public)


def test_the_500_page_needs_no_database():
    # No database fixture: any query here would raise.
    page = render_to_string("500.html")
    assert "Something went wrong" in page and "site.css" in page


def test_a_crash_shows_the_500_page(acme_client, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(views, "site_snapshot", broken)
    acme_client.raise_request_exception = False
    response = acme_client.get("/")
    assert response.status_code == 500 and "Something went wrong" in html(response)


def test_pages_are_accessible_landmarks(acme_client, acme_site):
    make_page(en=("About", "about"))
    page = html(acme_client.get("/about/"))
    assert re.search(r'<a class="skip-link" href="#main">', page)
    assert '<main id="main"' in page and "<header" in page and "<footer" in page
    assert page.count("<h1") == 1
