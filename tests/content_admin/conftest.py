"""Fixtures of the content admin tests: editors of the acme tenant and content made by services."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django_tenants.utils import schema_context

from apps.content import services
from apps.content.models import Node
from apps.events.models import OutboxEvent
from apps.tenancy.services import tenant_groups_sync, tenant_update
from tests.factories import StaffFactory

User = get_user_model()
# Posts are edited under "Posts" (the blog's admin), pages under "Pages"; the generic
# content admin lists the kinds no wrapper module owns.
NODES = "/admin/blog/post/"
PAGES = "/admin/pages/page/"
CONTENT = "/admin/content/node/"


@pytest.fixture(autouse=True)
def acme_groups(db) -> None:
    """acme's default groups with the permissions roles.py gives them today."""
    with schema_context("acme"):
        tenant_groups_sync()


@pytest.fixture
def acme_de(db, django_capture_on_commit_callbacks) -> None:
    """acme writes in English and German (its cached entries dropped, as after a commit)."""
    with django_capture_on_commit_callbacks(execute=True):
        tenant_update(slug="acme", enabled_locales=["en", "de"])


def staff_member(*, email: str, groups: Iterable[str] = ()) -> Any:
    """A staff user of acme in ``groups``."""
    with schema_context("acme"):
        user = StaffFactory(email=email)
        for name in groups:
            user.groups.add(Group.objects.get(name=name))
    return user


def login(client: Client, *, email: str, groups: Iterable[str] = ()) -> Any:
    user = staff_member(email=email, groups=groups)
    with schema_context("acme"):
        client.force_login(user)
    return user


@pytest.fixture
def editor(db) -> Any:
    """An Editor of acme (not logged in anywhere: ``editor_client`` is)."""
    return staff_member(email="editor@acme.test", groups=["Editor"])


@pytest.fixture
def editor_client(acme_client, editor) -> Client:
    with schema_context("acme"):
        acme_client.force_login(editor)
    return acme_client


@pytest.fixture
def moderator_client(acme_client) -> Client:
    login(acme_client, email="moderator@acme.test", groups=["Moderator"])
    return acme_client


@pytest.fixture
def staff_client(acme_client) -> Client:
    """A staff member of acme in no group and with no permission."""
    login(acme_client, email="staff@acme.test")
    return acme_client


def make_node(*, title: str = "Hello", kind: str = "post", **fields: Any) -> Node:
    """A node made by the service in acme (in English unless ``translations`` say otherwise)."""
    translations = fields.pop("translations", None) or {"en": {"title": title}}
    actor = fields.pop("actor", None)
    with schema_context("acme"):
        return services.node_create(
            data=services.NodeInput(
                kind=kind,
                translations=[
                    services.TranslationInput(locale=locale, **values)
                    for locale, values in translations.items()
                ],
                **fields,
            ),
            actor=actor,
        )


def in_acme(function, /, **kwargs: Any) -> Any:
    with schema_context("acme"):
        return function(**kwargs)


def node_url(node: Node, suffix: str = "change/") -> str:
    return f"{NODES}{node.pk}/{suffix}"


def page(response) -> str:
    assert response.status_code == 200, response.content[:2000]
    return response.content.decode()


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def events(event_type: str, aggregate_id: Any = None) -> list[OutboxEvent]:
    rows = OutboxEvent.objects.filter(event_type=event_type)
    if aggregate_id is not None:
        rows = rows.filter(aggregate_id=str(aggregate_id))
    return list(rows.order_by("position"))


def node_form_data(**overrides: Any) -> dict[str, Any]:
    """What the add form posts: node fields and one (English) translation."""
    data = {
        "kind": "post",
        "category": "",
        "parent": "",
        "position": "0",
        "publish_at_0": "",
        "publish_at_1": "",
        "canonical_url": "",
        "og_image": "",
        "metadata": "{}",
        "translations-TOTAL_FORMS": "1",
        "translations-INITIAL_FORMS": "0",
        "translations-MIN_NUM_FORMS": "1",
        "translations-MAX_NUM_FORMS": "1000",
        **translation_form_data(0, locale="en", title="Hello"),
        "_save": "Save",
    }
    data.update(overrides)
    return data


def translation_form_data(index: int, **values: Any) -> dict[str, Any]:
    fields = {
        "locale": "en",
        "body_format": "markdown",
        "title": "",
        "slug": "",
        "excerpt": "",
        "body": "",
        "meta_title": "",
        "meta_description": "",
        **values,
    }
    return {f"translations-{index}-{name}": value for name, value in fields.items()}


def change_form_data(node: Node, **overrides: Any) -> dict[str, Any]:
    """What the change form of ``node`` posts when nothing is edited."""
    with schema_context("acme"):
        node = Node.objects.prefetch_related("tags", "translations").get(pk=node.pk)
        translations = list(node.translations.order_by("locale"))
        data: dict[str, Any] = {
            "category": node.category_id or "",
            "tags": [tag.pk for tag in node.tags.all()],
            "parent": node.parent_id or "",
            "position": str(node.position),
            "publish_at_0": node.publish_at.strftime("%Y-%m-%d") if node.publish_at else "",
            "publish_at_1": node.publish_at.strftime("%H:%M:%S") if node.publish_at else "",
            "canonical_url": node.canonical_url,
            "og_image": node.og_image_id or "",
            "metadata": json.dumps(node.metadata or {}),
            "translations-TOTAL_FORMS": str(len(translations)),
            "translations-INITIAL_FORMS": str(len(translations)),
            "translations-MIN_NUM_FORMS": "1",
            "translations-MAX_NUM_FORMS": "1000",
            "_save": "Save",
        }
        for index, translation in enumerate(translations):
            data.update(
                translation_form_data(
                    index,
                    id=translation.pk,
                    node=node.pk,
                    locale=translation.locale,
                    body_format=translation.body_format,
                    title=translation.title,
                    slug=translation.slug,
                    excerpt=translation.excerpt,
                    body=translation.body,
                    meta_title=translation.meta_title,
                    meta_description=translation.meta_description,
                )
            )
    data.update(overrides)
    return data


def errors_in(content: str) -> list[str]:
    """The texts of the error lists a form page shows."""
    return [
        re.sub(r"<[^>]+>", "", item).strip()
        for item in re.findall(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', content, re.S)
    ]
