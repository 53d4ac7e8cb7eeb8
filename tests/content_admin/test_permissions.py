"""Who may do what, through the default groups of apps/tenancy/roles.py."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django_tenants.utils import schema_context

from apps.content.models import Node, NodeStatus
from apps.tenancy.roles import DEFAULT_GROUPS, SETTINGS_APPS

from .conftest import NODES, change_form_data, in_acme, make_node, node_url, page

SETTINGS_PAGES = [
    "/admin/auth/user/",
    "/admin/auth/group/",
    "/admin/auth/user/add/",
    "/admin/waffle/flag/",
    "/admin/waffle/switch/",
    "/admin/waffle/flag/add/",
]


def permissions_of(group: str) -> set[str]:
    with schema_context("acme"):
        return {
            f"{app_label}.{codename}"
            for app_label, codename in Group.objects.get(name=group).permissions.values_list(
                "content_type__app_label", "codename"
            )
        }


def test_editor_may_write_every_content_model():
    perms = permissions_of("Editor")
    for model in ("node", "nodetranslation", "category", "tag", "media", "revision"):
        for action in ("add", "change", "delete", "view"):
            assert f"content.{action}_{model}" in perms


def test_moderator_may_only_view_content():
    content = {perm for perm in permissions_of("Moderator") if perm.startswith("content.")}
    assert "content.view_node" in content
    assert content and all(perm.split(".")[1].startswith("view_") for perm in content)


def test_merchant_has_nothing_on_content():
    assert not any(perm.startswith("content.") for perm in permissions_of("Merchant"))


def test_no_default_group_touches_settings():
    for group in DEFAULT_GROUPS:
        assert not any(perm.split(".")[0] in SETTINGS_APPS for perm in permissions_of(group))


def test_editor_may_list_add_change_and_delete(editor_client):
    node = make_node()
    assert editor_client.get(NODES).status_code == 200
    assert editor_client.get(f"{NODES}add/").status_code == 200
    assert 'name="_save"' in page(editor_client.get(node_url(node)))
    assert editor_client.get(node_url(node, "delete/")).status_code == 200
    assert editor_client.get("/admin/content/category/add/").status_code == 200
    assert editor_client.get("/admin/content/media/add/").status_code == 200


def test_moderator_may_view_but_not_add_or_change(moderator_client):
    node = make_node(title="Look only")
    assert "Look only" in page(moderator_client.get(NODES))
    view = page(moderator_client.get(node_url(node)))
    assert "Look only" in view and 'name="_save"' not in view

    assert moderator_client.get(f"{NODES}add/").status_code == 403
    assert moderator_client.post(f"{NODES}add/", {}).status_code == 403
    response = moderator_client.post(node_url(node), change_form_data(node, position="5"))
    assert response.status_code == 403
    assert moderator_client.post(node_url(node, "transition/publish/")).status_code == 403
    assert moderator_client.get(node_url(node, "delete/")).status_code == 403
    with schema_context("acme"):
        assert Node.objects.get(pk=node.pk).position == 0
        assert Node.objects.get(pk=node.pk).status == NodeStatus.DRAFT


@pytest.mark.parametrize("url", SETTINGS_PAGES)
def test_moderator_cannot_touch_settings(moderator_client, url):
    assert moderator_client.get(url).status_code == 403


@pytest.mark.parametrize("url", SETTINGS_PAGES)
def test_editor_cannot_touch_settings_either(editor_client, url):
    assert editor_client.get(url).status_code == 403


@pytest.mark.parametrize(
    "url",
    [
        NODES,
        f"{NODES}add/",
        "/admin/content/category/",
        "/admin/content/tag/",
        "/admin/content/media/",
        "/admin/content/media/add/",
    ],
)
def test_staff_without_a_group_gets_403(staff_client, url):
    assert staff_client.get(url).status_code == 403


def test_staff_without_a_group_cannot_open_a_node(staff_client):
    node = make_node()
    assert staff_client.get(node_url(node)).status_code == 403
    assert (
        staff_client.post(node_url(node), change_form_data(node, position="3")).status_code == 403
    )
    assert in_acme(lambda: Node.objects.get(pk=node.pk).position) == 0


def test_an_editor_of_acme_is_nobody_on_globex(editor_client, globex_client, editor):
    # The session lives in acme's schema: globex does not know it.
    globex_client.cookies = editor_client.cookies
    response = globex_client.get(NODES)
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_moderator_may_view_categories_tags_and_media(moderator_client, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    from .test_media_categories_tags import png

    with schema_context("acme"):
        from apps.content import services

        category = services.category_create(name="Seen")
        tag = services.tag_get_or_create(name="Seen too")
        media = services.media_upload(file=png(), alt_text={"en": "A red square"})
    for url in (
        f"/admin/content/category/{category.pk}/change/",
        f"/admin/content/tag/{tag.pk}/change/",
        f"/admin/content/media/{media.pk}/change/",
    ):
        content = page(moderator_client.get(url))
        assert 'name="_save"' not in content
    assert "A red square" in page(moderator_client.get("/admin/content/media/"))
    assert moderator_client.get("/admin/content/media/add/").status_code == 403
    assert moderator_client.get("/admin/content/tag/add/").status_code == 403
