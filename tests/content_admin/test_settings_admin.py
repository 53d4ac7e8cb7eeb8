"""Feature flags, samples and switches belong to the tenant's administrators only."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django_tenants.utils import schema_context

from tests.factories import StaffFactory

from .conftest import page

WAFFLE_PAGES = [
    "/admin/waffle/flag/",
    "/admin/waffle/flag/add/",
    "/admin/waffle/sample/",
    "/admin/waffle/switch/",
    "/admin/waffle/switch/add/",
]


def grant_every_waffle_permission(user) -> None:
    """As if someone edited the Editor's group: the pages must still refuse."""
    with schema_context("acme"):
        user.user_permissions.add(*Permission.objects.filter(content_type__app_label="waffle"))
        assert user.__class__.objects.get(pk=user.pk).has_perm("waffle.view_flag")


@pytest.mark.parametrize("url", WAFFLE_PAGES)
def test_an_editor_with_waffle_permissions_still_gets_403(editor_client, editor, url):
    grant_every_waffle_permission(editor)
    assert editor_client.get(url).status_code == 403


def test_editors_and_moderators_do_not_see_waffle_in_the_index(
    editor_client, editor, moderator_client
):
    grant_every_waffle_permission(editor)
    with schema_context("acme"):
        editor_client.force_login(editor)
    index = page(editor_client.get("/admin/"))
    assert "/admin/content/" in index or "/admin/blog/" in index  # the index lists their apps
    assert "/admin/waffle/" not in index


@pytest.mark.parametrize("url", WAFFLE_PAGES)
def test_a_moderator_gets_403(moderator_client, url):
    assert moderator_client.get(url).status_code == 403


def test_the_tenant_administrator_sees_and_opens_them(acme_client):
    with schema_context("acme"):
        acme_client.force_login(StaffFactory(email="boss@acme.test", is_superuser=True))
    index = page(acme_client.get("/admin/"))
    for url in ("/admin/waffle/flag/", "/admin/waffle/sample/", "/admin/waffle/switch/"):
        assert url in index
    for url in WAFFLE_PAGES:
        assert acme_client.get(url).status_code == 200, url
