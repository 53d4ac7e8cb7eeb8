"""The interface in the reader's locale, the one locale rule, and the message catalogues.

German pages have German labels, dates and plurals; English pages stay English; a
locale with no interface translation keeps English labels with its own formats.
The URL decides the locale: a bare URL sends a reader who prefers another enabled
locale (cookie, else Accept-Language) to ``?lang=xx``.
"""

from __future__ import annotations

import gettext
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.utils import translation
from django.utils.translation import trans_real
from django_tenants.utils import schema_context

from apps.pages import services as pages
from apps.pages.errors import PagesInvalid
from apps.tenancy.models import Tenant
from apps.tenancy.resolver import tenant_cache
from scripts import messages
from tests.conftest import tenant_client
from tests.index.support import author, post, project
from tests.pages.support import make_page, staff_client, superuser_client

pytestmark = pytest.mark.usefixtures("acme_site", "compiled_messages")

DAY = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
LONG_BODY = "word " * 450  # three minutes of reading


@pytest.fixture(scope="module")
def compiled_messages():
    """The German catalogue compiled (``make install`` does it; this covers a bare pytest run)."""
    for language in messages.LANGUAGES:
        po = messages.LOCALE_DIR / language / "LC_MESSAGES" / "django.po"
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            call_command("compilemessages", locale=[language], ignore_patterns=[".venv", ".data"])
            # Catalogues loaded before the compile would lack the project's strings
            # (Python's gettext keeps its own cache of the .mo files it read).
            gettext._translations.clear()
            trans_real._translations = {}
            trans_real._default = None


def html(response) -> str:
    return response.content.decode()


@pytest.fixture
def posts(acme_site):
    """Two posts in English and German, a day apart, projected into the listing."""
    with schema_context("acme"):
        older = post(
            "Caring for your gear",
            LONG_BODY,
            slug="caring-for-your-gear",
            published_at=DAY,
            more={"de": {"title": "Pflege der Ausrüstung", "slug": "pflege", "body": LONG_BODY}},
        )
        newer = post(
            "Trail report",
            "A short trail report.",
            slug="trail-report",
            published_at=DAY + timedelta(days=1),
            more={"de": {"title": "Wegbericht", "slug": "wegbericht", "body": "Ein Wegbericht."}},
        )
    project()
    return older, newer


# -- German labels, dates and plurals ----------------------------------------------------


def test_a_german_post_page_has_german_labels_dates_and_reading_time(posts):
    page = html(tenant_client("acme").get("/blog/trail-report/?lang=de"))
    assert '<html lang="de">' in page and "<h1>Wegbericht</h1>" in page
    assert ">2. Dezember 2026</time>" in page and "1 Min. Lesezeit" in page
    assert "Zum Inhalt springen" in page and "Im Blog suchen" in page
    assert '<span class="post-nav__label">Vorheriger Beitrag</span>' in page
    assert "Folgen:" in page and 'aria-label="Sprache"' in page
    for english in ("Skip to content", "Search the blog", "Previous post", "Follow:", "min read"):
        assert english not in page
    older = html(tenant_client("acme").get("/blog/pflege/?lang=de"))
    assert ">1. Dezember 2026</time>" in older and "3 Min. Lesezeit" in older
    assert '<span class="post-nav__label">Nächster Beitrag</span>' in older


def test_the_same_post_in_english_stays_english(posts):
    page = html(tenant_client("acme").get("/blog/trail-report/"))
    assert '<html lang="en">' in page and "<h1>Trail report</h1>" in page
    assert ">Dec. 2, 2026</time>" in page and "1 min read" in page
    assert "Skip to content" in page and "Previous post" in page
    assert "Dezember" not in page and "Lesezeit" not in page


def test_the_german_blog_index_and_archive(posts):
    index = html(tenant_client("acme").get("/blog/?lang=de"))
    assert "<h1>Blog</h1>" in index and ">1. Dezember 2026</time>" in index
    assert '">Archiv</h2>' in index and "Dezember 2026</a>" in index  # the sidebar's months
    assert 'href="/blog/pflege/?lang=de">Pflege der Ausrüstung</a>' in index
    archive = tenant_client("acme").get("/blog/archive/?lang=de")
    page = html(archive)
    assert archive.status_code == 200 and "<h1>Archiv</h1>" in page
    assert ">Dezember</a>" in page and "(2 Beiträge)" in page
    month = html(tenant_client("acme").get("/blog/archive/2026/12/?lang=de"))
    assert '<p class="kicker">Archiv</p>' in month and "<h1>Dezember 2026</h1>" in month
    english = html(tenant_client("acme").get("/blog/archive/"))
    assert "<h1>Archive</h1>" in english and ">December</a>" in english and "(2 posts)" in english


def test_search_results_are_counted_in_the_readers_language(posts):
    client = tenant_client("acme")
    both = html(client.get("/blog/search/", {"q": "Wegbericht OR Ausrüstung", "lang": "de"}))
    assert "2 Ergebnisse für „Wegbericht OR Ausrüstung“" in both
    one = html(client.get("/blog/search/", {"q": "Wegbericht", "lang": "de"}))
    assert "1 Ergebnis für „Wegbericht“" in one and "3 Min. Lesezeit" not in one
    assert ">Suchen</button>" in one and '<h1 id="search-heading">Suche</h1>' in one
    none = html(client.get("/blog/search/", {"q": "Zebra", "lang": "de"}))
    assert "Keine Ergebnisse für „Zebra“." in none
    english = tenant_client("acme")
    assert "2 results for “trail OR gear”" in html(
        english.get("/blog/search/", {"q": "trail OR gear"})
    )
    assert "1 result for “report”" in html(english.get("/blog/search/", {"q": "report"}))


def test_an_author_without_a_name_is_the_staff_writer_in_every_language(acme_site):
    with schema_context("acme"):
        nameless = author("", "")
        post("Notes", "Some notes.", slug="notes", by=nameless, more={"de": {"title": "Notizen"}})
    project()
    assert "Staff writer</a>" in html(tenant_client("acme").get("/blog/"))
    german = html(tenant_client("acme").get("/blog/?lang=de"))
    assert 'rel="author">Redaktion</a>' in german and "Staff writer" not in german
    assert 'rel="author">Redaktion</a>' in html(tenant_client("acme").get("/blog/notes/?lang=de"))


def test_the_404_page_follows_the_url(acme_site):
    german = tenant_client("acme").get("/gibt-es-nicht/?lang=de")
    assert german.status_code == 404
    page = html(german)
    assert '<html lang="de">' in page and '<h1 id="error-heading">Seite nicht gefunden</h1>' in page
    assert 'href="/?lang=de">Zur Startseite</a>' in page
    english = tenant_client("acme").get("/gibt-es-nicht/")
    assert english.status_code == 404 and "Page not found" in html(english)


def test_the_feed_is_titled_in_the_readers_language(posts):
    feed = html(tenant_client("acme").get("/blog/feed/?lang=de"))
    assert "<title>Acme Test: Blog</title>" in feed and "<language>de</language>" in feed
    assert "Die neuesten Beiträge von Acme Test" in feed
    assert "<title>Acme Test: blog</title>" in html(tenant_client("acme").get("/blog/feed/"))


def test_a_locale_without_an_interface_translation_keeps_english_labels(posts):
    Tenant.objects.filter(slug="acme").update(enabled_locales=["en", "de", "fr"])
    tenant_cache.clear_local()
    page = html(tenant_client("acme").get("/blog/trail-report/?lang=fr"))
    assert '<html lang="fr">' in page and "Search the blog" in page
    # The post has no French translation: its English text, French formats around it.
    assert "<h1>Trail report</h1>" in page and ">2 décembre 2026</time>" in page


# -- one locale rule: the URL decides ------------------------------------------------------


def _german_reader():
    client = tenant_client("acme")
    client.cookies["locale"] = "de"
    return client


def test_a_bare_url_sends_a_reader_with_the_german_cookie_to_lang_de(posts):
    make_page(en=("About us", "about"), de=("Über uns", "ueber-uns"))
    reader = _german_reader()
    for bare, localized in (
        ("/about/", "/about/?lang=de"),
        ("/blog/trail-report/", "/blog/trail-report/?lang=de"),
        ("/", "/?lang=de"),
        ("/blog/?page=1", "/blog/?page=1&lang=de"),
        ("/blog/feed/", "/blog/feed/?lang=de"),
    ):
        response = reader.get(bare)
        assert response.status_code == 302 and response["Location"] == localized, bare
        assert {"Cookie", "Accept-Language"} <= {
            name.strip() for name in response["Vary"].split(",")
        }
    # Followed, both are German; the page moves to its German path.
    response = reader.get("/about/?lang=de")
    assert response.status_code == 302 and response["Location"] == "/ueber-uns/?lang=de"
    page = reader.get("/ueber-uns/?lang=de")
    assert page.status_code == 200 and "<h1>Über uns</h1>" in html(page)
    assert '<html lang="de">' in html(page) and "Zum Inhalt springen" in html(page)
    assert "Zum Inhalt springen" in html(reader.get("/blog/trail-report/?lang=de"))
    # A path spelled only in German names German itself: no redirect, German for everyone.
    german_path = tenant_client("acme").get("/ueber-uns/")
    assert german_path.status_code == 200 and "Zum Inhalt springen" in html(german_path)
    assert '<a class="brand" href="/?lang=de">' in html(german_path)  # links keep the locale


def test_previews_follow_the_same_rule(posts):
    older, _ = posts
    editor = staff_client()
    editor.cookies["locale"] = "de"
    response = editor.get(f"/preview/{older.pk}/")
    assert response.status_code == 302 and response["Location"] == f"/preview/{older.pk}/?lang=de"
    page = html(editor.get(f"/preview/{older.pk}/?lang=de"))
    # The post's own page, in German, under the preview banner.
    assert "<h1>Pflege der Ausrüstung</h1>" in page and 'class="post-meta"' in page
    assert "<strong>Vorschau</strong>" in page and "In der Verwaltung bearbeiten" in page


def test_accept_language_redirects_only_without_a_cookie(posts):
    client = tenant_client("acme")
    response = client.get("/blog/", HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9,en;q=0.5")
    assert response.status_code == 302 and response["Location"] == "/blog/?lang=de"
    # Choosing English sticks: the cookie wins over the browser's German.
    chosen = client.get("/blog/?lang=en", HTTP_ACCEPT_LANGUAGE="de")
    assert chosen.status_code == 200 and chosen.cookies["locale"].value == "en"
    again = client.get("/blog/", HTTP_ACCEPT_LANGUAGE="de")
    assert again.status_code == 200 and "Search the blog" in html(again)


def test_a_locale_the_tenant_has_not_enabled_is_ignored(posts):
    client = tenant_client("acme")
    response = client.get("/blog/trail-report/?lang=it")
    assert response.status_code == 200 and '<html lang="en">' in html(response)
    assert "locale" not in response.cookies
    client.cookies["locale"] = "it"
    assert client.get("/blog/").status_code == 200
    assert tenant_client("acme").get("/blog/", HTTP_ACCEPT_LANGUAGE="it, fr").status_code == 200


def test_every_page_offers_its_alternates(posts):
    page = html(tenant_client("acme").get("/blog/trail-report/?lang=de"))
    assert 'hreflang="en" href="http://acme.localhost/blog/trail-report/"' in page
    switcher = 'href="http://acme.localhost/blog/trail-report/?lang=en" hreflang="en" lang="en">'
    assert switcher + "English</a>" in page
    current = 'href="http://acme.localhost/blog/wegbericht/?lang=de" hreflang="de" lang="de"'
    assert current + ' aria-current="true">Deutsch</a>' in page
    index = html(tenant_client("acme").get("/blog/?lang=de"))
    assert 'href="/blog/?lang=en" hreflang="en" lang="en">English</a>' in index


def test_the_admin_keeps_its_own_language(acme_site):
    german = tenant_client("acme").get("/admin/login/", HTTP_ACCEPT_LANGUAGE="de")
    assert german.status_code == 200 and 'lang="de"' in html(german) and "Anmelden" in html(german)
    english = tenant_client("acme").get("/admin/login/")
    assert 'lang="en"' in html(english) and "Log in" in html(english)
    # The storefront's cookie does not choose the admin's language.
    client = tenant_client("acme")
    client.cookies["locale"] = "de"
    assert client.get("/admin/login/").status_code == 200


def test_the_admin_speaks_german_to_a_german_browser(posts):
    client = superuser_client()
    page = html(client.get("/admin/blog/post/", HTTP_ACCEPT_LANGUAGE="de"))
    assert "Veröffentlichen (Auswahl)" in page and ">Vorschau</a>" in page
    assert "Beiträge" in page and "Publish selected" not in page
    assert "Publish selected" in html(client.get("/admin/blog/post/"))


def test_the_platform_page_follows_the_browser(public_client):
    german = html(public_client.get("/", HTTP_ACCEPT_LANGUAGE="de"))
    assert '<html lang="de">' in german and "Mandantenfähige CMS- und Commerce-Plattform" in german
    assert "Multi-tenant CMS and commerce platform" in html(public_client.get("/"))


def test_a_services_refusal_is_worded_in_the_active_language(acme_site):
    with schema_context("acme"), translation.override("de"), pytest.raises(PagesInvalid) as refused:
        pages.menu_create(slug="Not a slug!", name="x")
    assert refused.value.errors == {
        "slug": "Kleinbuchstaben, Ziffern, '-' oder '_', bis zu 32 Zeichen"
    }
    with schema_context("acme"), pytest.raises(PagesInvalid) as refused:
        pages.menu_create(slug="Not a slug!", name="x")
    assert refused.value.errors == {
        "slug": "lowercase letters, digits, '-' or '_', up to 32 characters"
    }


# -- the catalogues --------------------------------------------------------------------------


@pytest.mark.parametrize("language", messages.LANGUAGES)
def test_every_message_has_a_translation(language):
    path = messages.LOCALE_DIR / language / "LC_MESSAGES" / "django.po"
    entries = messages.read_catalogue(path)
    assert len(entries) > 200
    assert [e.msgid for e in entries if not e.translations or not all(e.translations)] == []
    assert [e.msgid for e in entries if e.fuzzy] == []
    plurals = [e for e in entries if e.plural]
    assert plurals and all(len(e.translations) == 2 for e in plurals)


@pytest.mark.parametrize("language", messages.LANGUAGES)
def test_the_catalogue_has_every_interface_string_and_no_stale_one(language):
    assert messages.problems(language) == []
