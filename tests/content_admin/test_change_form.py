"""The node change form: node fields and inline translations are saved through the services."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django_tenants.utils import schema_context

from apps.content import services
from apps.content.models import Node, NodeStatus, NodeTranslation, Revision

from .conftest import (
    NODES,
    change_form_data,
    errors_in,
    events,
    in_acme,
    make_node,
    node_url,
    page,
    translation_form_data,
)
from .conftest import node_form_data as add_data


def test_add_creates_the_node_and_its_translation_through_the_services(editor_client, editor):
    response = editor_client.post(
        f"{NODES}add/", add_data(**translation_form_data(0, title="Hello world", body="*Hi*"))
    )

    assert response.status_code == 302, errors_in(response.content.decode())
    with schema_context("acme"):
        node = Node.objects.get()
        translation = node.translations.get()
        revisions = list(node.revisions.values_list("number", "message", "author_id"))
    assert (node.kind, node.status, node.author_id) == ("post", NodeStatus.DRAFT, editor.pk)
    assert (translation.locale, translation.title, translation.slug) == (
        "en",
        "Hello world",
        "hello-world",
    )
    assert translation.body_html.strip() == "<p><em>Hi</em></p>"  # rendered by the service
    assert revisions == [(1, "Created", editor.pk)]
    assert response["Location"] == NODES
    [created] = events("content.node.created", node.pk)
    [translated] = events("content.translation.updated", node.pk)
    assert created.actor == {"kind": "user", "id": str(editor.pk), "label": "editor@acme.test"}
    assert translated.payload["locale"] == "en"


def test_add_with_a_schedule_schedules_through_the_service(editor_client):
    when = timezone.now() + timedelta(days=2)
    response = editor_client.post(
        f"{NODES}add/",
        add_data(publish_at_0=when.strftime("%Y-%m-%d"), publish_at_1=when.strftime("%H:%M:%S")),
    )

    assert response.status_code == 302, errors_in(response.content.decode())
    with schema_context("acme"):
        node = Node.objects.get()
        messages = list(node.revisions.order_by("number").values_list("message", flat=True))
    assert node.publish_at == when.replace(microsecond=0)
    # One service call, one revision: the schedule is part of what was created.
    assert messages == ["Created"]
    assert in_acme(lambda: node.revisions.get().snapshot["publish_at"]) is not None


def test_updating_a_translation_goes_through_translation_upsert(editor_client, editor):
    node = make_node(title="Old title")
    before = len(events("content.translation.updated", node.pk))
    data = change_form_data(
        node, **{"translations-0-title": "New title", "translations-0-body": "Body"}
    )

    response = editor_client.post(node_url(node), data)

    assert response.status_code == 302, errors_in(response.content.decode())
    with schema_context("acme"):
        translation = NodeTranslation.objects.get(node=node)
        latest = node.revisions.order_by("-number").first()
        node.refresh_from_db()
    assert (translation.title, translation.body_html.strip()) == ("New title", "<p>Body</p>")
    assert translation.slug == "old-title"  # the slug stays what it was
    assert latest.author_id == editor.pk
    assert "translations.en.title" in latest.changed
    assert node.version == 2
    updated = events("content.translation.updated", node.pk)
    assert len(updated) == before + 1
    assert updated[-1].payload["version"] == 2
    assert events("content.node.updated", node.pk)


def test_adding_and_removing_translations_inline(editor_client, acme_de):
    node = make_node(title="Hello")
    data = change_form_data(node)
    data.update(translation_form_data(1, locale="de", title="Hallo"))
    data["translations-TOTAL_FORMS"] = "2"

    response = editor_client.post(node_url(node), data)

    assert response.status_code == 302, errors_in(response.content.decode())
    assert in_acme(
        lambda: sorted(NodeTranslation.objects.filter(node=node).values_list("locale", "slug"))
    ) == [
        ("de", "hallo"),
        ("en", "hello"),
    ]

    data = change_form_data(node, **{"translations-0-DELETE": "on"})  # de, ordered by locale
    response = editor_client.post(node_url(node), data)

    assert response.status_code == 302, errors_in(response.content.decode())
    assert in_acme(
        lambda: list(NodeTranslation.objects.filter(node=node).values_list("locale", flat=True))
    ) == ["en"]
    [deleted] = events("content.translation.deleted", node.pk)
    assert deleted.payload["locale"] == "de"


def test_a_duplicate_slug_is_shown_on_the_translation_form_and_nothing_is_saved(editor_client):
    make_node(title="Taken", translations={"en": {"title": "Taken", "slug": "taken"}})
    node = make_node(title="Other")
    outbox_before = len(events("content.node.updated"))
    data = change_form_data(
        node,
        position="7",
        **{"translations-0-slug": "taken", "translations-0-title": "Renamed"},
    )

    response = editor_client.post(node_url(node), data)

    content = page(response)
    assert "already used by another post" in " ".join(errors_in(content))
    assert 'name="translations-0-slug"' in content and 'value="taken"' in content
    with schema_context("acme"):
        node.refresh_from_db()
        translation = NodeTranslation.objects.get(node=node)
        revisions = Revision.objects.filter(node=node).count()
    # Nothing of the refused save remains: the position change was rolled back with it.
    assert (node.position, node.version, revisions) == (0, 1, 1)
    assert (translation.title, translation.slug) == ("Other", "other")
    assert len(events("content.node.updated")) == outbox_before


def test_a_duplicate_slug_on_add_is_shown_on_the_form(editor_client):
    make_node(title="Taken")
    response = editor_client.post(
        f"{NODES}add/", add_data(**translation_form_data(0, title="Taken"))
    )

    assert "already used by another post" in " ".join(errors_in(page(response)))
    assert in_acme(lambda: Node.objects.count()) == 1


def test_bad_node_fields_are_shown_on_the_form(editor_client):
    response = editor_client.post(
        f"{NODES}add/", add_data(kind="Not A Kind!", metadata='{"Bad Key": 1}')
    )

    errors = " ".join(errors_in(page(response)))
    assert "slug" in errors.lower() or "letters" in errors
    assert in_acme(lambda: Node.objects.count()) == 0


def test_invalid_metadata_refused_by_the_service_is_shown_on_its_field(editor_client):
    node = make_node()
    response = editor_client.post(node_url(node), change_form_data(node, metadata='{"Bad Key": 1}'))

    content = page(response)
    assert "lowercase letters" in " ".join(errors_in(content))
    assert in_acme(lambda: Node.objects.get(pk=node.pk).metadata) == {}


def test_only_drafts_show_a_schedule_field(editor_client):
    node = make_node()
    assert 'name="publish_at_0"' in page(editor_client.get(node_url(node)))
    in_acme(services.node_publish, node_id=node.pk)
    # A published node shows its schedule read-only: only drafts can be scheduled.
    assert 'name="publish_at_0"' not in page(editor_client.get(node_url(node)))


def test_a_schedule_in_the_past_is_refused_by_the_service_on_its_field(editor_client):
    node = make_node()
    past = timezone.now() - timedelta(hours=1)
    data = change_form_data(
        node, publish_at_0=past.strftime("%Y-%m-%d"), publish_at_1=past.strftime("%H:%M:%S")
    )

    errors = errors_in(page(editor_client.post(node_url(node), data)))

    assert "must be in the future (or empty to cancel)" in errors
    assert in_acme(lambda: Node.objects.get(pk=node.pk).publish_at) is None


def test_the_change_form_links_preview_and_revisions(editor_client):
    node = make_node(title="Linked")
    content = page(editor_client.get(node_url(node)))

    assert f'href="/preview/{node.pk}/"' in content
    assert f'href="{node_url(node, "revisions/")}"' in content
    assert "Linked" in content
    assert f'action="{node_url(node, "transition/publish/")}"' in content


def test_publishing_from_the_change_form(editor_client):
    node = make_node()
    response = editor_client.post(node_url(node, "transition/publish/"), follow=True)

    assert "Published 1 post" in page(response)
    assert in_acme(lambda: Node.objects.get(pk=node.pk).status) == NodeStatus.PUBLISHED
    response = editor_client.post(node_url(node, "transition/restore/"), follow=True)
    assert "was not restored" in page(response)
    assert editor_client.get(node_url(node, "transition/publish/")).status_code == 405


def test_deleting_a_node_goes_through_the_service(editor_client):
    node = make_node()
    response = editor_client.post(node_url(node, "delete/"), {"post": "yes"})

    assert response.status_code == 302
    assert in_acme(lambda: Node.objects.filter(pk=node.pk).exists()) is False
    assert events("content.node.deleted", node.pk)
