"""Fixtures and helpers of the pages and storefront tests: a site in acme with pages, posts, menus."""

from __future__ import annotations

import io
from typing import Any
from uuid import UUID

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django_tenants.utils import schema_context
from PIL import Image

from apps.content import services as content
from apps.content.models import Node
from apps.content.services import NodeInput, TranslationInput
from apps.events.envelope import StoredEvent
from apps.events.models import OutboxEvent
from apps.pages import handlers, services
from apps.pages.models import PageLayout
from apps.pages.services import MenuItemInput, PageInput
from apps.tenancy.models import Tenant
from tests.factories import StaffFactory, UserFactory

LOCALES = ["en", "de"]


@pytest.fixture
def acme_site(acme) -> Tenant:
    """acme with English and German enabled (set before anything caches the tenant)."""
    Tenant.objects.filter(pk=acme.pk).update(enabled_locales=LOCALES)
    acme.enabled_locales = LOCALES
    return acme


@pytest.fixture
def globex_site(globex) -> Tenant:
    Tenant.objects.filter(pk=globex.pk).update(enabled_locales=LOCALES)
    return globex


def png_upload(name: str = "picture.png", size: tuple[int, int] = (8, 6)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, "teal").save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def upload(schema: str = "acme", *, alt: dict[str, str] | None = None) -> UUID:
    with schema_context(schema):
        return content.media_upload(file=png_upload(), alt_text=alt or {"en": "A teal box"}).pk


def translations(**by_locale: tuple[str, str] | str) -> list[TranslationInput]:
    """``en=("About us", "about")`` or ``en="About us"``."""
    found = []
    for locale, value in by_locale.items():
        title, slug = value if isinstance(value, tuple) else (value, "")
        found.append(TranslationInput(locale=locale, title=title, slug=slug))
    return found


def make_page(
    *,
    en: tuple[str, str] | str,
    de: tuple[str, str] | str | None = None,
    parent: Node | None = None,
    publish: bool = True,
    blocks: dict[str, Any] | None = None,
    schema: str = "acme",
    **layout: Any,
) -> Node:
    by_locale = {"en": en, **({"de": de} if de else {})}
    with schema_context(schema):
        page = services.page_create(
            data=PageInput(
                translations=translations(**by_locale),
                parent_id=parent.pk if parent else None,
                blocks=blocks or {},
                **layout,
            )
        )
        if publish:
            content.node_publish(node_id=page.node_id)
        return Node.objects.get(pk=page.node_id)


def make_post(
    title: str = "Hello", *, de: str | None = None, publish: bool = True, schema: str = "acme"
) -> Node:
    items = [TranslationInput(locale="en", title=title, body=f"About *{title}*")]
    if de:
        items.append(TranslationInput(locale="de", title=de, body=f"Über *{de}*"))
    with schema_context(schema):
        node = content.node_create(data=NodeInput(kind="post", translations=items))
        if publish:
            content.node_publish(node_id=node.pk)
        return Node.objects.get(pk=node.pk)


def make_menu(slug: str, items: list[MenuItemInput], *, schema: str = "acme") -> int:
    with schema_context(schema):
        menu = services.menu_create(slug=slug, name=slug.title())
        services.menu_set_items(menu_id=menu.pk, items=items)
        return menu.pk


def layout_of(node: Node, schema: str = "acme") -> PageLayout:
    with schema_context(schema):
        return PageLayout.objects.get(pk=node.pk)


def deliver_to_pages(schema: str = "acme") -> int:
    """Hand the pages handler every content event in the outbox (the relay does it in production)."""
    rows = OutboxEvent.objects.filter(schema_name=schema, event_type__startswith="content.")
    delivered = 0
    with schema_context(schema):
        for row in rows.order_by("position").values():
            handlers.content_changed(StoredEvent.from_row(row))
            delivered += 1
    return delivered


def staff_client(slug: str = "acme") -> Client:
    client = Client(HTTP_HOST=f"{slug}.localhost")
    with schema_context(slug):
        client.force_login(StaffFactory(email=f"staff@{slug}.test"))
    return client


def reader_client(slug: str = "acme") -> Client:
    """Logged in, but not staff."""
    client = Client(HTTP_HOST=f"{slug}.localhost")
    with schema_context(slug):
        client.force_login(UserFactory(email=f"reader@{slug}.test"))
    return client


def superuser_client(slug: str = "acme") -> Client:
    client = Client(HTTP_HOST=f"{slug}.localhost")
    with schema_context(slug):
        user = StaffFactory(email=f"admin-{slug}@example.test", is_superuser=True)
        client.force_login(user)
    return client


def events(event_type: str, schema: str = "acme") -> list[OutboxEvent]:
    return list(
        OutboxEvent.objects.filter(schema_name=schema, event_type=event_type).order_by("position")
    )
