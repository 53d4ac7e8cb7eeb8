"""Forum data and callers for the API's forum tests: members, staff with a public name, posts
written through the forum's services (in acme unless told otherwise)."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client
from django_tenants.utils import schema_context

from apps.forum import services
from apps.people import services as people
from tests.forum import factories

from .conftest import login_as

JSON = "application/json"
TOPICS = "/api/v1/forum/topics/"
REPLIES = "/api/v1/forum/replies/"
CATEGORIES = "/api/v1/forum/categories/"
FLAGS = "/api/v1/forum/flags/"
# What staff who moderate nothing need to take part through the API (``change_reply`` would
# make them moderators: ``apps.forum.selectors.is_moderator``).
PARTICIPANT = (
    "forum.view_forumcategory", "forum.view_topic", "forum.add_topic", "forum.change_topic",
    "forum.view_reply", "forum.add_reply",
)  # fmt: skip


def staff(client: Client, name: str, *, groups=(), perms=(), schema: str = "acme"):
    """``client`` logged in as a new staff user of ``schema`` whose public name is ``name``."""
    email = f"{name.lower().replace(' ', '.')}@{schema}.test"
    user = login_as(client, schema, email=email, groups=groups, perms=perms)
    with schema_context(schema):
        people.profile_update(user_id=user.pk, display_name=name, actor=user)
    return user


def participant(client: Client, name: str = "Sam Staff", schema: str = "acme"):
    """Staff who may read and post in the forum but moderates nothing."""
    return staff(client, name, perms=PARTICIPANT, schema=schema)


def moderator(client: Client, name: str = "Mia Moderator", schema: str = "acme"):
    return staff(client, name, groups=["Moderator"], schema=schema)


def in_acme(function, /, **kwargs: Any) -> Any:
    with schema_context("acme"):
        return function(**kwargs)


def category(schema: str = "acme", **values):
    with schema_context(schema):
        return factories.category(**values)


def member(name: str, schema: str = "acme"):
    with schema_context(schema):
        return factories.member(name)


def topic(author, category, title: str = "How do I?", body: str = "Help me", schema="acme"):
    with schema_context(schema):
        return services.topic_start(
            category_id=category.pk, title=title, body=body, actor=author, subscribe=False
        )


def reply(author, topic, body: str = "Like this", schema: str = "acme", **kwargs):
    with schema_context(schema):
        return services.reply_post(topic_id=topic.pk, body=body, actor=author, **kwargs)


def moderate(topic, action: str, actor, schema: str = "acme"):
    with schema_context(schema):
        return services.topic_moderate(topic_id=topic.pk, action=action, actor=actor)


def send(client: Client, method: str, url: str, data=None, **headers):
    """``method`` with a JSON body (an empty object when ``data`` is None)."""
    body = json.dumps({} if data is None else data)
    return getattr(client, method)(url, body, content_type=JSON, **headers)
