"""The pages admin: layouts and menus are saved through the services, refusals shown on the field."""

import json

import pytest
from django.contrib.admin.models import LogEntry
from django_tenants.utils import schema_context

from apps.content import services as content
from apps.content.services import NodeInput
from apps.pages import services
from apps.pages.models import Menu, MenuItem, PageLayout
from tests.pages.support import events, make_page, superuser_client, translations

pytestmark = pytest.mark.usefixtures("acme_site")
LAYOUTS = "/admin/pages/pagelayout/"
MENUS = "/admin/pages/menu/"


@pytest.fixture
def admin_client(acme_site):
    return superuser_client("acme")


@pytest.fixture
def bare_page(acme_site):
    with schema_context("acme"):
        return content.node_create(
            data=NodeInput(kind="page", translations=translations(en=("Bare", "bare")))
        )


def _layout_form(node, blocks, **extra):
    return {
        "node": str(node.pk), "template": "default", "blocks": json.dumps(blocks), **extra,
    }  # fmt: skip


def test_a_layout_with_bad_blocks_is_shown_again_with_the_errors(admin_client, bare_page):
    blocks = {"en": [{"type": "hero"}, {"type": "call_to_action", "title": "x", "button_label": "y", "url": "javascript:alert(1)"}]}  # fmt: skip
    response = admin_client.post(f"{LAYOUTS}add/", _layout_form(bare_page, blocks))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["blocks"]
    assert any("blocks.en[0].title" in error for error in errors)
    assert any("blocks.en[1].url" in error for error in errors)
    with schema_context("acme"):
        assert not PageLayout.objects.exists()
    assert not events("pages.layout.updated")


def test_a_layout_is_saved_and_changed_through_the_services(admin_client, bare_page):
    blocks = {"en": [{"type": "rich_text", "body": "Hi"}]}
    response = admin_client.post(f"{LAYOUTS}add/", _layout_form(bare_page, blocks, is_home="on"))
    assert response.status_code == 302, response.content.decode()[:2000]
    with schema_context("acme"):
        layout = PageLayout.objects.get(pk=bare_page.pk)
    assert layout.is_home and layout.blocks["en"][0]["format"] == "markdown"
    (event,) = events("pages.layout.updated")
    assert event.actor and event.actor.get("label")
    change = admin_client.get(f"{LAYOUTS}{bare_page.pk}/change/")
    assert change.status_code == 200 and f"/preview/{bare_page.pk}/" in change.content.decode()
    response = admin_client.post(
        f"{LAYOUTS}{bare_page.pk}/change/",
        {"template": "landing", "is_home": "on", "blocks": json.dumps(blocks)},
    )
    assert response.status_code == 302
    with schema_context("acme"):
        assert PageLayout.objects.get(pk=bare_page.pk).template == "landing"
    assert [e.payload["version"] for e in events("pages.layout.updated")] == [1, 2]
    assert admin_client.get(LAYOUTS).status_code == 200


def test_a_layout_is_deleted_through_the_services(admin_client, acme_site):
    page = make_page(en=("About", "about"))
    response = admin_client.post(f"{LAYOUTS}{page.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert events("pages.layout.deleted")


def test_a_menu_with_items_per_locale(admin_client, acme_site):
    about = make_page(en=("About", "about"))
    data = {
        "slug": "header", "name": "Header",
        "items-TOTAL_FORMS": "2", "items-INITIAL_FORMS": "0",
        "items-MIN_NUM_FORMS": "0", "items-MAX_NUM_FORMS": "1000",
        "items-0-position": "0", "items-0-label_en": "Blog", "items-0-label_de": "Blog",
        "items-0-url": "/blog/",
        "items-1-position": "1", "items-1-page": str(about.pk),
    }  # fmt: skip
    response = admin_client.post(f"{MENUS}add/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    with schema_context("acme"):
        menu = Menu.objects.get(slug="header")
        items = list(MenuItem.objects.filter(menu=menu).order_by("position"))
    assert [(i.label, i.url, i.page_id) for i in items] == [
        ({"en": "Blog", "de": "Blog"}, "/blog/", None), ({}, "", about.pk),
    ]  # fmt: skip
    assert [e.event_type for e in events("pages.menu.created")] == ["pages.menu.created"]
    page = admin_client.get(f"{MENUS}{menu.pk}/change/").content.decode()
    assert "Label (de)" in page and 'value="Blog"' in page


def test_a_bad_menu_item_is_shown_on_its_field(admin_client, acme_site):
    data = {
        "slug": "header", "name": "Header",
        "items-TOTAL_FORMS": "1", "items-INITIAL_FORMS": "0",
        "items-MIN_NUM_FORMS": "0", "items-MAX_NUM_FORMS": "1000",
        "items-0-position": "0", "items-0-label_en": "Evil", "items-0-url": "javascript:alert(1)",
    }  # fmt: skip
    response = admin_client.post(f"{MENUS}add/", data)
    assert response.status_code == 200
    formset = response.context["inline_admin_formsets"][0].formset
    assert "url" in formset.forms[0].errors
    with schema_context("acme"):
        assert not Menu.objects.exists()


def test_menu_items_are_changed_and_deleted_through_the_services(admin_client, acme_site):
    with schema_context("acme"):
        menu = services.menu_create(slug="footer", name="Footer")
        blog = services.menu_item_add(menu_id=menu.pk, label={"en": "Blog"}, url="/blog/")
        feed = services.menu_item_add(menu_id=menu.pk, label={"en": "RSS"}, url="/blog/feed/")
    data = {
        "slug": "footer", "name": "Footer",
        "items-TOTAL_FORMS": "2", "items-INITIAL_FORMS": "2",
        "items-MIN_NUM_FORMS": "0", "items-MAX_NUM_FORMS": "1000",
        "items-0-id": str(blog.pk), "items-0-menu": str(menu.pk), "items-0-position": "0",
        "items-0-label_en": "Journal", "items-0-url": "/blog/",
        "items-1-id": str(feed.pk), "items-1-menu": str(menu.pk), "items-1-position": "1",
        "items-1-label_en": "RSS", "items-1-url": "/blog/feed/", "items-1-DELETE": "on",
    }  # fmt: skip
    response = admin_client.post(f"{MENUS}{menu.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    with schema_context("acme"):
        assert [(i.label, i.url) for i in MenuItem.objects.filter(menu=menu)] == [
            ({"en": "Journal"}, "/blog/")
        ]
        assert Menu.objects.get(pk=menu.pk).version == 5  # created, 2 adds, 1 change, 1 delete


# -- labels ---------------------------------------------------------------------------------


def _between(page: str, start: str, end: str) -> str:
    return page.split(start, 1)[1].split(end, 1)[0]


def test_a_layout_is_labelled_by_its_page_title_and_template_never_by_id(admin_client, acme_site):
    page = make_page(en=("About us", "about"), de=("Über uns", "ueber-uns"), template="sidebar")
    url = f"{LAYOUTS}{page.pk}/change/"
    change = admin_client.get(url).content.decode()
    assert "<h2>About us (sidebar)</h2>" in change
    breadcrumbs = _between(change, '<div class="breadcrumbs">', "</div>")
    assert "About us (sidebar)" in breadcrumbs and str(page.pk) not in breadcrumbs

    response = admin_client.post(url, {"template": "landing", "blocks": "{}"}, follow=True)
    messages = _between(response.content.decode(), '<ul class="messagelist">', "</ul>")
    assert ">About us (landing)</a>” was changed successfully." in messages
    with schema_context("acme"):
        entry = LogEntry.objects.order_by("-action_time").first()
    assert entry.object_repr == "About us (landing)"

    confirm = admin_client.get(f"{LAYOUTS}{page.pk}/delete/").content.decode()
    assert "About us (landing)" in confirm and f"layout of {page.pk}" not in confirm


def test_the_layout_changelist_costs_the_same_queries_for_many_layouts(
    admin_client, acme_site, django_assert_num_queries
):
    def add_pages(numbers) -> None:
        for n in numbers:
            make_page(en=(f"Page {n}", f"page-{n}"), de=(f"Seite {n}", f"seite-{n}"))

    # Session, user, two counts (filtered and total), the layouts with their pages, translations.
    queries = 6
    add_pages(range(3))
    admin_client.get(LAYOUTS)  # warm the tenant caches and the schema
    with django_assert_num_queries(queries):
        page = admin_client.get(LAYOUTS).content.decode()
    assert page.count('class="field-page_title"') == 3
    add_pages(range(3, 25))
    admin_client.get(LAYOUTS)
    with django_assert_num_queries(queries):
        page = admin_client.get(LAYOUTS).content.decode()
    assert page.count('class="field-page_title"') == 25 and ">Page 24</a>" in page
