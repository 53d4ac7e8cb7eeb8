"""Who sees the forum's admin: the Moderator group (all of it, and nothing of commerce);
an Editor or a Merchant sees none of it."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django_tenants.utils import schema_context

from tests.forum import factories

from .conftest import CATEGORIES, FLAGS, QUEUE, REPLIES, TOPICS, in_acme, page, staff_client

FORUM_PAGES = [QUEUE, TOPICS, REPLIES, FLAGS, CATEGORIES, f"{CATEGORIES}add/"]
COMMERCE_PAGES = ["/admin/commerce/product/", "/admin/commerce/order/", "/admin/commerce/import/"]


def test_the_moderator_group_has_every_forum_permission(db):
    with schema_context("acme"):
        forum = set(Permission.objects.filter(content_type__app_label="forum"))
        granted = set(Group.objects.get(name="Moderator").permissions.all())
    assert forum <= granted
    codenames = {permission.codename for permission in forum}
    assert {"change_topic", "change_reply", "view_flag", "view_moderation"} <= codenames


def test_a_moderator_works_the_forum_and_sees_nothing_of_commerce(moderator_client):
    index = page(moderator_client.get("/admin/"))
    assert f'href="{QUEUE}"' in index and f'href="{TOPICS}"' in index
    assert "/admin/commerce/" not in index
    for url in FORUM_PAGES:
        assert moderator_client.get(url).status_code == 200, url
    assert f'href="{QUEUE}"' in page(moderator_client.get(TOPICS))
    for url in COMMERCE_PAGES:
        assert moderator_client.get(url).status_code == 403, url
    assert moderator_client.get("/admin/commerce/").status_code == 404  # an app it has nothing of


@pytest.mark.parametrize("group", ["Editor", "Merchant"])
def test_an_editor_or_a_merchant_sees_no_forum_admin(acme_client, group):
    staff_client(acme_client, email=f"{group.lower()}@acme.test", groups=[group])

    index = page(acme_client.get("/admin/"))
    assert "/admin/forum/" not in index
    for url in FORUM_PAGES:
        assert acme_client.get(url).status_code == 403, url
    response = acme_client.post(QUEUE, {"action": "approve", "topics": ["1"]})
    assert response.status_code == 403


def test_a_member_who_is_not_staff_is_sent_to_the_login(acme_client, db):
    member = in_acme(factories.member, name="Just A Member")
    with schema_context("acme"):
        acme_client.force_login(member)
    response = acme_client.get(QUEUE)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
