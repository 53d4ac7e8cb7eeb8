"""Helpers of the storefront's forum tests: members, topics and replies written through the
forum's services in a tenant, the index's projections run as the relay would, clients
signed in as a member."""

from __future__ import annotations

from html import unescape

from django.test import Client
from django_tenants.utils import schema_context

from apps.forum import services
from tests.conftest import tenant_client
from tests.forum import factories
from tests.index.support import project


def project_forum(schema: str = "acme") -> None:
    """Apply the outbox's forum events to the topic listing and the category counters."""
    project(schema, name="forum_topics")
    project(schema, name="forum_categories")


def member(name: str, schema: str = "acme"):
    with schema_context(schema):
        return factories.member(name)


def moderator(name: str = "Mia Moderator", schema: str = "acme"):
    with schema_context(schema):
        return factories.moderator(name)


def category(schema: str = "acme", **values):
    with schema_context(schema):
        return factories.category(**values)


def topic(category, author, title: str, body: str = "Body", schema: str = "acme", **values):
    with schema_context(schema):
        return services.topic_start(
            category_id=category.pk, title=title, body=body, actor=author, **values
        )


def reply(topic, author, body: str, schema: str = "acme", **values):
    with schema_context(schema):
        return services.reply_post(topic_id=topic.pk, body=body, actor=author, **values)


def signed_in(user, schema: str = "acme") -> Client:
    client = tenant_client(schema)
    with schema_context(schema):
        client.force_login(user)
    return client


def text(response) -> str:
    return unescape(response.content.decode())
