"""Pages selectors: hierarchical paths per locale, drafts, sitemaps, the cached site snapshot."""

import pytest
from django_tenants.utils import schema_context

from apps.content import services as content
from apps.content.services import TranslationInput
from apps.events.models import OutboxEvent
from apps.pages import selectors, site
from apps.pages.services import MenuItemInput
from tests.pages.support import deliver_to_pages, make_menu, make_page, make_post

LOCALES = ["en", "de"]


@pytest.fixture
def tree(acme_site):
    about = make_page(en=("About us", "about"), de=("Über uns", "ueber-uns"))
    team = make_page(en=("Our team", "team"), de=("Unser Team", "team"), parent=about)
    history = make_page(en=("History", "history"), parent=about)  # English only
    return {"about": about, "team": team, "history": history}


def find(path: str, preferred: str = "en", **options):
    with schema_context("acme"):
        return selectors.page_by_path(path, locales=LOCALES, preferred=preferred, **options)


def test_paths_are_slugs_through_the_parents_per_locale(tree):
    assert find("about/team/").node.pk == tree["team"].pk
    match = find("ueber-uns/team/", preferred="en")
    assert (match.node.pk, match.locale) == (tree["team"].pk, "de")
    assert match.path("en") == "/about/team/" and match.path("de") == "/ueber-uns/team/"
    # No German translation: its German path uses the English slug under the German parent.
    assert find("ueber-uns/history/", preferred="de").node.pk == tree["history"].pk
    assert find("about/team", preferred="de").locale == "en"


@pytest.mark.parametrize(
    "path",
    ["team/", "about/nothing/", "ueber-uns/about/", "about/team/team/", "", "/".join("a" * 9)],
)
def test_what_is_not_a_path_of_the_tree_is_not_found(tree, path):
    assert find(path) is None


def test_drafts_and_pages_under_drafts_are_found_only_when_asked(tree):
    with schema_context("acme"):
        content.node_unpublish(node_id=tree["about"].pk)
    assert find("about/") is None and find("about/team/") is None
    match = find("about/team/", include_drafts=True)
    assert match.node.pk == tree["team"].pk and not match.live


def test_published_pages_have_a_path_in_every_locale(tree):
    with schema_context("acme"):
        draft = make_page(en=("Draft", "draft"), publish=False)
        make_page(en=("Under a draft", "hidden"), parent=draft)
        found = {node.pk: paths for node, paths in selectors.published_pages(locales=LOCALES)}
    assert found == {
        tree["about"].pk: {"en": "/about/", "de": "/ueber-uns/"},
        tree["team"].pk: {"en": "/about/team/", "de": "/ueber-uns/team/"},
        tree["history"].pk: {"en": "/about/history/", "de": "/ueber-uns/history/"},
    }


def test_the_snapshot_resolves_menus_per_locale_and_hides_unpublished_pages(tree):
    draft = make_page(en=("Secret", "secret"), publish=False)
    make_menu(
        "header",
        [
            MenuItemInput(label={"en": "Home", "de": "Start"}, url="/"),
            MenuItemInput(page_id=tree["about"].pk, children=[MenuItemInput(page_id=tree["team"].pk)]),
            MenuItemInput(page_id=draft.pk),
        ],
    )  # fmt: skip
    with schema_context("acme"):
        snapshot = selectors.site_snapshot(locales=LOCALES)
        german = selectors.menu_links(snapshot, "header", locale="de", default="en")
        english = selectors.menu_links(snapshot, "header", locale="en", default="en")
    # A link within the site keeps the locale; a page path spelled in German names it already.
    assert [(link.label, link.url) for link in german] == [
        ("Start", "/?lang=de"),
        ("Über uns", "/ueber-uns/"),
    ]
    assert [(link.label, link.url) for link in german[1].children] == [
        ("Unser Team", "/ueber-uns/team/")
    ]
    assert [(link.label, link.url) for link in english] == [("Home", "/"), ("About us", "/about/")]


def test_the_snapshot_names_the_home_page_and_leaves_posts_to_the_listing(acme_site):
    make_post("Newer")
    home = make_page(en=("Home", "home"), is_home=True)
    with schema_context("acme"):
        snapshot = selectors.site_snapshot(locales=LOCALES)
    assert snapshot["home"] == str(home.pk)
    # The newest posts come from the content listing (apps.index), not from here.
    assert "posts" not in snapshot and "Newer" not in str(snapshot)


def test_the_snapshot_is_cached_until_something_changes(tree, django_assert_num_queries):
    with schema_context("acme"):
        first = selectors.site_snapshot(locales=LOCALES)
        with django_assert_num_queries(0):
            assert selectors.site_snapshot(locales=LOCALES) == first
        # A content change reaches pages as events (through the relay in production).
        content.translation_upsert(
            node_id=tree["about"].pk, data=TranslationInput(locale="de", title="Wir", slug="wir")
        )
        assert selectors.site_snapshot(locales=LOCALES) == first  # not told yet
    make_menu("footer", [MenuItemInput(page_id=tree["about"].pk)])
    with schema_context("acme"):
        snapshot = selectors.site_snapshot(locales=LOCALES)
    assert selectors.menu_links(snapshot, "footer", locale="de", default="en")[0].url == "/wir/"


def test_the_handler_rebuilds_the_snapshot_on_page_and_post_events_only(acme_site):
    with schema_context("acme"):
        before = site.generation()
    make_post("Hello")
    assert deliver_to_pages() > 0
    with schema_context("acme"):
        after_post = site.generation()
        assert after_post != before
        OutboxEvent.objects.all().delete()
        content.node_create(
            data=content.NodeInput(kind="note", translations=[TranslationInput("en", "N")])
        )
    assert deliver_to_pages() > 0
    with schema_context("acme"):
        assert site.generation() == after_post


def test_snapshots_are_per_tenant(acme_site, globex_site):
    make_menu("header", [MenuItemInput(label={"en": "Acme only"}, url="/acme/")])
    with schema_context("globex"):
        assert selectors.site_snapshot(locales=LOCALES)["menus"] == {}
    with schema_context("acme"):
        assert list(selectors.site_snapshot(locales=LOCALES)["menus"]) == ["header"]
