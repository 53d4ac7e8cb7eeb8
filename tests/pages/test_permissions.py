"""Who may do what in the pages admin (layouts and menus), through the default groups of roles.py.

A Moderator "reads the content it is about, changes none of it": pages are
``VIEW`` for that group, so the changelists and change pages open read-only,
and every add, change and delete is refused with 403, with nothing written.
A staff member in no group cannot even look.
"""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django_tenants.utils import schema_context

from apps.content import services as content
from apps.content.services import NodeInput
from apps.events.models import OutboxEvent
from apps.pages.models import Menu, MenuItem, PageLayout
from apps.pages.services import MenuItemInput
from tests.factories import StaffFactory
from tests.pages.support import make_menu, make_page, translations

pytestmark = pytest.mark.usefixtures("acme_site")
LAYOUTS = "/admin/pages/pagelayout/"
MENUS = "/admin/pages/menu/"


def _client_in(groups: list[str], email: str) -> Client:
    client = Client(HTTP_HOST="acme.localhost")
    with schema_context("acme"):
        user = StaffFactory(email=email)
        for name in groups:
            user.groups.add(Group.objects.get(name=name))
        client.force_login(user)
    return client


@pytest.fixture
def moderator() -> Client:
    return _client_in(["Moderator"], "moderator@acme.test")


@pytest.fixture
def site() -> dict:
    """A published page with its layout and a header menu linking to it, in acme."""
    about = make_page(
        en=("About us", "about"), blocks={"en": [{"type": "rich_text", "body": "Hi"}]}
    )
    menu_id = make_menu("header", [MenuItemInput(label={"en": "About"}, page_id=about.pk)])
    return {"layout": about.pk, "menu": menu_id}


def _state() -> dict:
    with schema_context("acme"):
        return {
            "layouts": sorted(
                (str(pk), template, is_home, json.dumps(blocks, sort_keys=True), version)
                for pk, template, is_home, blocks, version in PageLayout.objects.values_list(
                    "pk", "template", "is_home", "blocks", "version"
                )
            ),
            "menus": sorted(Menu.objects.values_list("pk", "slug", "name", "version")),
            "items": sorted(
                (pk, json.dumps(label, sort_keys=True), str(page_id), url)
                for pk, label, page_id, url in MenuItem.objects.values_list(
                    "pk", "label", "page_id", "url"
                )
            ),
            "events": OutboxEvent.objects.count(),
        }


def test_a_moderator_sees_layouts_and_menus_read_only(moderator, site):
    for changelist, change in (
        (LAYOUTS, f"{LAYOUTS}{site['layout']}/change/"),
        (MENUS, f"{MENUS}{site['menu']}/change/"),
    ):
        listed = moderator.get(changelist)
        assert listed.status_code == 200
        assert f'href="{changelist}add/"' not in listed.content.decode()
        opened = moderator.get(change)
        assert opened.status_code == 200
        content = opened.content.decode()
        assert 'name="_save"' not in content and 'name="_continue"' not in content
    assert "About us" in moderator.get(LAYOUTS).content.decode()
    assert "header" in moderator.get(MENUS).content.decode()


def _layout_change(site):
    return {"template": "landing", "is_home": "on", "blocks": json.dumps({"en": []})}


def _layout_add(site):
    with schema_context("acme"):  # a page without a layout yet
        bare = content.node_create(
            data=NodeInput(kind="page", translations=translations(en=("Bare", "bare")))
        )
    return {"node": str(bare.pk), "template": "default", "blocks": "{}"}


def _menu_change(site):
    return {
        "slug": "renamed", "name": "Renamed",
        "items-TOTAL_FORMS": "0", "items-INITIAL_FORMS": "0",
        "items-MIN_NUM_FORMS": "0", "items-MAX_NUM_FORMS": "1000",
    }  # fmt: skip


REFUSED = [
    ("get", LAYOUTS + "add/", None),
    ("post", LAYOUTS + "add/", _layout_add),
    ("post", LAYOUTS + "{layout}/change/", _layout_change),
    ("get", LAYOUTS + "{layout}/delete/", None),
    ("post", LAYOUTS + "{layout}/delete/", lambda site: {"post": "yes"}),
    ("get", MENUS + "add/", None),
    ("post", MENUS + "add/", _menu_change),
    ("post", MENUS + "{menu}/change/", _menu_change),
    ("get", MENUS + "{menu}/delete/", None),
    ("post", MENUS + "{menu}/delete/", lambda site: {"post": "yes"}),
]


@pytest.mark.parametrize(
    ("method", "url", "data"), REFUSED, ids=[f"{m.upper()} {u}" for m, u, _ in REFUSED]
)
def test_a_moderator_cannot_add_change_or_delete(moderator, site, method, url, data):
    payload = data(site) if data else None
    before = _state()
    target = url.format(**site)
    response = moderator.post(target, payload) if method == "post" else moderator.get(target)
    assert response.status_code == 403
    assert _state() == before


@pytest.mark.parametrize("changelist", [LAYOUTS, MENUS])
def test_a_moderator_has_no_bulk_delete(moderator, site, changelist):
    selected = site["layout"] if changelist == LAYOUTS else site["menu"]
    before = _state()
    listed = moderator.get(changelist).content.decode()
    assert 'value="delete_selected"' not in listed
    moderator.post(
        changelist, {"action": "delete_selected", "_selected_action": [selected], "post": "yes"}
    )
    assert _state() == before


@pytest.mark.parametrize(
    "url", [LAYOUTS, MENUS, LAYOUTS + "{layout}/change/", MENUS + "{menu}/change/"]
)
def test_staff_without_a_group_cannot_even_look(site, url):
    client = _client_in([], "staff@acme.test")
    assert client.get(url.format(**site)).status_code == 403
