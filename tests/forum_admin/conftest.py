"""Fixtures of the forum admin's tests: acme's moderators and members, posts made through the
forum's services, and what the admin's pages post back."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client
from django_tenants.utils import schema_context

from apps.core.errors import InvalidTransition
from apps.forum import services
from apps.forum.models import Reply, Topic
from tests.factories import StaffFactory
from tests.forum import factories

ADMIN = "/admin/forum/"
QUEUE = f"{ADMIN}moderation/"
TOPICS = f"{ADMIN}topic/"
REPLIES = f"{ADMIN}reply/"
FLAGS = f"{ADMIN}flag/"
CATEGORIES = f"{ADMIN}forumcategory/"


def in_acme(function, /, **kwargs: Any) -> Any:
    with schema_context("acme"):
        return function(**kwargs)


@pytest.fixture
def mod(db):
    """A moderator of acme (the Moderator group), with a public name."""
    return in_acme(factories.moderator, name="Mia Moderator")


@pytest.fixture
def moderator_client(acme_client, mod) -> Client:
    with schema_context("acme"):
        acme_client.force_login(mod)
    return acme_client


def staff_client(client: Client, *, email: str, groups: Iterable[str] = (), schema: str = "acme"):
    """``client`` logged in as a new staff member of ``schema`` in ``groups``."""
    from django.contrib.auth.models import Group

    with schema_context(schema):
        user = StaffFactory(email=email)
        for name in groups:
            user.groups.add(Group.objects.get(name=name))
        client.force_login(user)
    return user


@pytest.fixture
def category(db):
    return in_acme(factories.category, name="Help", slug="help")


@pytest.fixture
def moderated(db):
    return in_acme(factories.category, name="Introductions", slug="introductions", moderated=True)


@pytest.fixture
def alice(db):
    return in_acme(factories.member, name="Alice Example")


@pytest.fixture
def bob(db):
    return in_acme(factories.member, name="Bob Example")


def topic(category, author, title: str = "A question", body: str = "Some words") -> Topic:
    return in_acme(
        services.topic_start, category_id=category.pk, title=title, body=body, actor=author
    )


def reply(topic: Topic, author, body: str = "An answer") -> Reply:
    return in_acme(services.reply_post, topic_id=topic.pk, body=body, actor=author)


def flag(reply: Reply, reporter, reason: str = "spam", note: str = "") -> Any:
    return in_acme(services.reply_flag, reply_id=reply.pk, reason=reason, note=note, actor=reporter)


def refusal(table, state: str, action: str) -> str:
    """What the service says when ``action`` is refused in ``state`` (its own words)."""
    with pytest.raises(InvalidTransition) as refused:
        table.check(state, action)
    return refused.value.detail


def page(response) -> str:
    assert response.status_code == 200, response.content[:3000]
    return response.content.decode()


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def act(client: Client, url: str, action: str, objects, **extra: Any):
    """The first step of a bulk action, as the changelist posts it."""
    data = {"action": action, ACTION_CHECKBOX_NAME: [str(obj.pk) for obj in objects], "index": 0}
    return client.post(url, {**data, **extra})


def confirm(client: Client, url: str, action: str, objects, **extra: Any):
    """The second step: the confirmation page's form, with the reason (and what else)."""
    data = {"action": action, ACTION_CHECKBOX_NAME: [str(obj.pk) for obj in objects]}
    return client.post(url, {**data, "apply": "yes", **extra}, follow=True)


def rows(content: str, name: str) -> list[str]:
    """The values of the checkboxes named ``name`` on a page, in order."""
    return re.findall(rf'name="{name}" value="(\d+)"', content)


def inline_management(client: Client, url: str) -> dict[str, str]:
    """The management forms of the read-only inlines on the page at ``url`` (what a browser
    posts back with the change form)."""
    content = page(client.get(url))
    return dict(
        re.findall(
            r'<input type="hidden" name="([\w-]+-(?:TOTAL|INITIAL|MIN_NUM|MAX_NUM)_FORMS)"'
            r'(?: value="(\d*)")?',
            content,
        )
    )
