"""Bulk actions: each goes through the services; refusals are messages, never errors."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.utils import timezone

from apps.content import services
from apps.content.models import Node, NodeStatus

from .conftest import NODES, PAGES, events, in_acme, make_node, messages_of, page


def act(client, action: str, nodes, url: str = NODES, **extra):
    data = {"action": action, ACTION_CHECKBOX_NAME: [str(node.pk) for node in nodes], "index": 0}
    return client.post(url, {**data, **extra}, follow=True)


def statuses(*nodes) -> list[str]:
    return [in_acme(lambda n=node: Node.objects.get(pk=n.pk).status) for node in nodes]


def test_publish_selected(editor_client, editor):
    first, second = make_node(title="First"), make_node(title="Second")

    response = act(editor_client, "publish_selected", [first, second])

    assert response.status_code == 200
    [message] = messages_of(response)
    assert message.startswith("Published 2 posts:")
    assert "“First”" in message and "“Second”" in message
    assert statuses(first, second) == [NodeStatus.PUBLISHED] * 2
    published = events("content.node.published", first.pk)
    assert published[0].actor["id"] == str(editor.pk)


def test_publish_reports_each_invalid_transition_and_publishes_the_rest(editor_client):
    draft, archived = make_node(title="Draft"), make_node(title="Old")
    in_acme(services.node_publish, node_id=archived.pk)
    in_acme(services.node_archive, node_id=archived.pk)

    response = act(editor_client, "publish_selected", [draft, archived])

    assert response.status_code == 200
    messages = messages_of(response)
    assert "Published 1 post: “Draft”." in messages
    assert (
        "“Old” was not published. This content is archived: only draft content can be published."
        in messages
    )
    assert statuses(draft, archived) == [NodeStatus.PUBLISHED, NodeStatus.ARCHIVED]
    assert 'class="error"' in page(response)


def test_unpublish_selected(editor_client):
    published, draft = make_node(title="Live"), make_node(title="Draft")
    in_acme(services.node_publish, node_id=published.pk)

    messages = messages_of(act(editor_client, "unpublish_selected", [published, draft]))

    assert "Unpublished 1 post: “Live”." in messages
    assert (
        "“Draft” was not unpublished. This content is a draft already: only published content can be unpublished."
        in messages
    )
    assert statuses(published, draft) == [NodeStatus.DRAFT, NodeStatus.DRAFT]
    assert events("content.node.unpublished", published.pk)


def test_archive_selected(editor_client):
    published, draft = make_node(title="Live"), make_node(title="Draft")
    in_acme(services.node_publish, node_id=published.pk)

    messages = messages_of(act(editor_client, "archive_selected", [published, draft]))

    assert "Archived 1 post: “Live”." in messages
    assert (
        "“Draft” was not archived. This content is a draft: only published content can be archived."
        in messages
    )
    assert statuses(published, draft) == [NodeStatus.ARCHIVED, NodeStatus.DRAFT]
    assert events("content.node.archived", published.pk)


def test_restore_selected(editor_client):
    archived, draft = make_node(title="Old"), make_node(title="Draft")
    in_acme(services.node_publish, node_id=archived.pk)
    in_acme(services.node_archive, node_id=archived.pk)

    messages = messages_of(act(editor_client, "restore_selected", [archived, draft]))

    assert "Restored 1 post: “Old”." in messages
    assert (
        "“Draft” was not restored. This content is a draft already: only archived content can be restored."
        in messages
    )
    assert statuses(archived, draft) == [NodeStatus.DRAFT, NodeStatus.DRAFT]
    assert events("content.node.restored", archived.pk)


def test_schedule_selected_asks_for_a_time_then_schedules_the_drafts(editor_client):
    draft, published = make_node(title="Draft"), make_node(title="Live")
    in_acme(services.node_publish, node_id=published.pk)

    form = act(editor_client, "schedule_selected", [draft, published])
    assert "Schedule publication" in page(form)
    assert 'name="publish_at_0"' in page(form)

    when = timezone.now() + timedelta(days=1)
    response = editor_client.post(
        NODES,
        {
            "action": "schedule_selected",
            ACTION_CHECKBOX_NAME: [str(draft.pk), str(published.pk)],
            "apply": "yes",
            "publish_at_0": when.strftime("%Y-%m-%d"),
            "publish_at_1": when.strftime("%H:%M:%S"),
        },
        follow=True,
    )

    messages = messages_of(response)
    assert any(m.startswith("1 post scheduled for") and "“Draft”" in m for m in messages), messages
    assert (
        "“Live” was not scheduled: only drafts can be scheduled; this one is published" in messages
    )
    assert in_acme(lambda: Node.objects.get(pk=draft.pk).publish_at) == when.replace(microsecond=0)

    messages = messages_of(act(editor_client, "unschedule_selected", [draft]))
    assert "1 post unscheduled: “Draft”." in messages
    assert in_acme(lambda: Node.objects.get(pk=draft.pk).publish_at) is None


def test_schedule_selected_refuses_a_time_in_the_past(editor_client):
    draft = make_node(title="Draft")
    past = timezone.now() - timedelta(days=1)
    response = editor_client.post(
        NODES,
        {
            "action": "schedule_selected",
            ACTION_CHECKBOX_NAME: [str(draft.pk)],
            "apply": "yes",
            "publish_at_0": past.strftime("%Y-%m-%d"),
            "publish_at_1": past.strftime("%H:%M:%S"),
        },
    )

    assert "Must be in the future." in page(response)
    assert in_acme(lambda: Node.objects.get(pk=draft.pk).publish_at) is None


def test_delete_selected_confirms_then_deletes_through_the_service(editor_client):
    parent = make_node(title="Parent", kind="page")
    child = make_node(title="Child", kind="page", parent_id=parent.pk)
    lonely = make_node(title="Lonely")

    confirm = act(editor_client, "delete_selected", [lonely])
    assert "Are you sure" in page(confirm)
    response = act(editor_client, "delete_selected", [lonely], post="yes")

    assert "Deleted 1 post: “Lonely”." in messages_of(response)
    assert events("content.node.deleted", lonely.pk)
    assert not in_acme(lambda: Node.objects.filter(pk=lonely.pk).exists())

    # A parent page is protected (under "Pages"): Django's page says so and nothing is deleted.
    response = act(editor_client, "delete_selected", [parent], url=PAGES, post="yes")
    assert "Cannot delete" in page(response)
    assert in_acme(lambda: Node.objects.filter(pk__in=[parent.pk, child.pk]).count()) == 2


def test_actions_need_the_change_permission(moderator_client):
    draft = make_node(title="Draft")
    version = in_acme(lambda: Node.objects.get(pk=draft.pk).version)

    response = act(moderator_client, "publish_selected", [draft])

    # A moderator has no action at all, so Django never reads the posted one: the
    # changelist is shown again, read-only, with no redirect and no message.
    assert response.status_code == 200 and response.redirect_chain == []
    assert response.templates[0].name == "admin/content/node/change_list.html"
    assert messages_of(response) == []
    assert "Select post to view" in page(response) and 'name="action"' not in page(response)
    assert statuses(draft) == [NodeStatus.DRAFT]
    assert in_acme(lambda: Node.objects.get(pk=draft.pk).version) == version
    assert events("content.node.published", draft.pk) == []
    assert 'value="publish_selected"' not in page(moderator_client.get(NODES))
