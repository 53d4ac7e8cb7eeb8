"""A German browser sees every model, column, filter and field of both admins named in German."""

from __future__ import annotations

import html
import re

import pytest
from django.apps import apps as django_apps
from django.contrib import admin
from django.utils.functional import Promise
from django.utils.translation import override
from django_tenants.utils import schema_context

from apps.content import services
from apps.events import admin as events_admin  # noqa: F401 (the outbox on the operators' site)
from apps.tenancy.admin import platform_admin_site
from tests.conftest import as_tenant_admin
from tests.storefront.test_i18n import compiled_messages  # noqa: F401 (fixture)

from .conftest import CONTENT, NODES, make_node, page
from .test_media_categories_tags import CATEGORIES, MEDIA, png

pytestmark = pytest.mark.usefixtures("compiled_messages")

GERMAN = {"HTTP_ACCEPT_LANGUAGE": "de"}
# The project's apps whose models the admins show (commerce has its own work under way).
OWN_APPS = ("content", "blog", "pages", "forum", "people", "tenancy", "events", "events_ledger")
# Names that German spells as English does (compared without case).
SAME_IN_GERMAN = {
    "domains", "domain", "id", "url", "name", "position", "status", "handler", "region", "moderator",
}  # fmt: skip


def columns(content: str) -> list[str]:
    """The changelist's column headers, as text."""
    head = re.search(r'<table id="result_list">\s*<thead>(.*?)</thead>', content, re.S).group(1)
    cells = re.findall(r"<th[^>]*>(.*?)</th>", head, re.S)
    texts = [re.search(r'<div class="text">(.*?)</div>', cell, re.S) for cell in cells]
    return [html.unescape(re.sub(r"<[^>]+>", "", text.group(1))).strip() for text in texts if text]


def filter_titles(content: str) -> list[str]:
    found = re.findall(r"<summary>\s*(.*?)\s*</summary>", content, re.S)
    return [html.unescape(title) for title in found]


def labels(content: str) -> list[str]:
    found = re.findall(r"<label[^>]*>(.*?):</label>", content, re.S)
    return [html.unescape(re.sub(r"<[^>]+>", "", label)).strip() for label in found]


@pytest.fixture
def admin_client(acme_client):
    return as_tenant_admin(acme_client)


@pytest.fixture
def news(db):
    with schema_context("acme"):
        category = services.category_create(name="News")
        tag = services.tag_get_or_create(name="Team")
    return make_node(title="Hello", category_id=category.pk, tag_ids=[tag.pk])


def test_the_posts_changelist_names_its_columns_and_filters_in_german(admin_client, news):
    content = page(admin_client.get(NODES, **GERMAN))

    assert columns(content)[1:] == ["Titel", "Status", "Autor", "Kategorie", "Aktualisiert"]
    titles = filter_titles(content)
    assert "Nach Kategorie" in titles and "Nach Schlagwörter" in titles, titles
    assert "Nach tags" not in titles and "Nach category" not in titles
    assert "Beiträge" in content


def test_the_node_change_form_labels_its_fields_in_german(admin_client):
    note = make_node(title="A note", kind="note")

    content = page(admin_client.get(f"{CONTENT}{note.pk}/change/", **GERMAN))

    shown = labels(content)
    for german in ("Kategorie", "Schlagwörter", "Position", "Versionsnummer", "Erstellt am"):
        assert german in shown, (german, shown)
    for german in ("Sprache", "Textformat", "Titel", "Kürzel", "Auszug", "Text", "Meta-Titel"):
        assert german in shown, (german, shown)
    english = {"Tags", "Category", "Body format", "Excerpt", "Slug", "Locale", "Created at"}
    assert english.isdisjoint(shown), english & set(shown)
    assert "Knoten" in content


def test_the_media_and_category_lists_are_german(admin_client, media_root, news):
    with schema_context("acme"):
        services.media_upload(file=png(), alt_text={"en": "A red square"})

    media = page(admin_client.get(MEDIA, **GERMAN))
    assert columns(media)[2:] == ["Datei", "Alternativtext", "Hochgeladen von", "Hochgeladen"]
    assert "Nach Inhaltstyp" in filter_titles(media)
    assert "Medien" in media and "content type" not in media.lower()

    categories = page(admin_client.get(CATEGORIES, **GERMAN))
    assert columns(categories)[1:] == [
        "Name",
        "Kürzel",
        "Übergeordnetes Element",
        "Position",
        "Inhalte",
    ]
    assert "Kategorie" in categories and "Parent" not in columns(categories)


def test_the_operators_outbox_list_is_german(operator_client, news):
    content = page(operator_client.get("/admin/events/outboxevent/", **GERMAN))

    assert "Outbox-Ereignisse" in content and "Outbox events" not in content
    assert columns(content)[1:3] == ["Position", "Ereignistyp"]
    assert {"Nach Mandant", "Nach Ereignistyp", "Nach Status"} <= set(filter_titles(content))

    index = page(operator_client.get("/admin/", **GERMAN))
    for german in ("Mandanten", "Domains", "Outbox-Ereignisse", "Zustellungen"):
        assert f">{german}</a>" in index, german


# -- every name, not only the ones the pages above show --------------------------------------


def registered_models():
    for site in (admin.site, platform_admin_site):
        yield from site._registry


def test_every_registered_models_name_is_german():
    assert len(list(registered_models())) > 10
    english_left = []
    for model in registered_models():
        for name in ("verbose_name", "verbose_name_plural"):
            with override("en"):
                english = str(getattr(model._meta, name))
            with override("de"):
                german = str(getattr(model._meta, name))
            if german.lower() == english.lower() and english.lower() not in SAME_IN_GERMAN:
                english_left.append(f"{model._meta.label}.{name}: {english}")
    assert english_left == []


def own_fields():
    for label in OWN_APPS:
        for model in django_apps.get_app_config(label).get_models():
            for field in model._meta.get_fields():
                if not field.auto_created:  # reverse relations and implicit ids are Django's
                    yield model, field


def test_every_field_of_the_projects_models_is_named_in_german():
    fields = list(own_fields())
    assert len(fields) > 100
    english_left = []
    for model, field in fields:
        where = f"{model._meta.label}.{field.name}"
        if not isinstance(field.verbose_name, Promise):
            english_left.append(f"{where}: {field.verbose_name!r} is not translatable")
            continue
        with override("en"):
            english = str(field.verbose_name)
        with override("de"):
            german = str(field.verbose_name)
        if german.lower() == english.lower() and english.lower() not in SAME_IN_GERMAN:
            english_left.append(f"{where}: {english}")
        for value, label in field.flatchoices or ():
            if not isinstance(label, Promise):
                english_left.append(f"{where} choice {value}: {label!r} is not translatable")
    assert english_left == []


def test_every_model_of_the_project_has_a_german_name():
    english_left = []
    for label in OWN_APPS:
        for model in django_apps.get_app_config(label).get_models():
            for name in ("verbose_name", "verbose_name_plural"):
                value = getattr(model._meta, name)
                with override("en"):
                    english = str(value)
                with override("de"):
                    german = str(value)
                translated = isinstance(value, Promise) and (
                    german.lower() != english.lower() or english.lower() in SAME_IN_GERMAN
                )
                if not translated:
                    english_left.append(f"{model._meta.label}.{name}: {english}")
    assert english_left == []
