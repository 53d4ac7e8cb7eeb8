"""Revision history: the list, and restore (a POST after a confirmation) making a new revision."""

from __future__ import annotations

from django.test import Client
from django_tenants.utils import schema_context

from apps.content import services
from apps.content.models import Node, NodeTranslation

from .conftest import events, in_acme, make_node, messages_of, node_url, page


def edited_node(editor):
    node = make_node(title="First title", actor=editor)
    in_acme(
        services.translation_upsert,
        node_id=node.pk,
        data=services.TranslationInput(locale="en", title="Second title", slug="first-title"),
        actor=editor,
    )
    return node


def test_the_revision_list_shows_number_author_time_and_changes(editor_client, editor):
    node = edited_node(editor)

    content = page(editor_client.get(node_url(node, "revisions/")))

    assert "#1" in content and "#2" in content
    assert "Created" in content and "Translation en" in content
    assert "<code>translations.en.title</code>" in content
    assert "editor@acme.test" in content
    assert "First title" in content and "Second title" in content
    assert 'datetime="' in content
    # The current revision cannot be restored; the older one can.
    assert content.count(">Restore</a>") == 1
    assert f'href="{node_url(node, "revisions/1/restore/")}"' in content


def test_restore_asks_for_confirmation_then_restores_as_a_new_revision(editor_client, editor):
    node = edited_node(editor)
    url = node_url(node, "revisions/1/restore/")

    confirm = page(editor_client.get(url))
    assert "Restore revision 1?" in confirm
    assert 'name="csrfmiddlewaretoken"' in confirm
    assert in_acme(lambda: NodeTranslation.objects.get(node=node).title) == "Second title"

    response = editor_client.post(url, follow=True)

    assert "Restored revision 1 of “First title” as a new revision." in messages_of(response)
    with schema_context("acme"):
        assert NodeTranslation.objects.get(node=node).title == "First title"
        latest = node.revisions.order_by("-number").first()
        assert Node.objects.get(pk=node.pk).version == 3
    assert (latest.number, latest.message, latest.author_id) == (
        3,
        "Restored revision 1",
        editor.pk,
    )
    assert "translations.en.title" in latest.changed
    assert "#3" in page(response)
    assert events("content.node.updated", node.pk)


def test_restore_needs_post_with_a_csrf_token(editor):
    client = Client(HTTP_HOST="acme.localhost", enforce_csrf_checks=True)
    with schema_context("acme"):
        client.force_login(editor)
    node = edited_node(editor)

    response = client.post(node_url(node, "revisions/1/restore/"))

    assert response.status_code == 403
    assert in_acme(lambda: NodeTranslation.objects.get(node=node).title) == "Second title"


def test_restoring_the_current_state_changes_nothing(editor_client, editor):
    node = edited_node(editor)

    response = editor_client.post(node_url(node, "revisions/2/restore/"), follow=True)

    assert "Revision 2 is the same as the current content: nothing changed." in messages_of(
        response
    )
    assert in_acme(lambda: node.revisions.count()) == 2


def test_unknown_revision_or_node_is_404(editor_client, editor):
    node = edited_node(editor)
    assert editor_client.get(node_url(node, "revisions/9/restore/")).status_code == 404
    missing = "/admin/content/node/00000000-0000-0000-0000-000000000001/revisions/"
    assert editor_client.get(missing).status_code == 404
    assert editor_client.get("/admin/content/node/not-a-uuid/revisions/").status_code == 404


def test_a_moderator_sees_the_history_but_cannot_restore(moderator_client, editor):
    node = edited_node(editor)

    content = page(moderator_client.get(node_url(node, "revisions/")))
    assert "#2" in content and ">Restore</a>" not in content

    assert moderator_client.get(node_url(node, "revisions/1/restore/")).status_code == 403
    assert moderator_client.post(node_url(node, "revisions/1/restore/")).status_code == 403
    assert in_acme(lambda: node.revisions.count()) == 2


def test_staff_without_permission_cannot_see_the_history(staff_client, editor):
    node = edited_node(editor)
    assert staff_client.get(node_url(node, "revisions/")).status_code == 403
