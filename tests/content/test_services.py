"""Content services: each transition, each validation, revisions, scheduling, media."""

import io
import uuid
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django_tenants.utils import schema_context
from PIL import Image

from apps.content import selectors, services
from apps.content.errors import ContentInvalid, NodeNotFound
from apps.content.models import Media, Node, NodeStatus, Revision
from apps.content.services import NodeInput, TranslationInput
from apps.core.errors import InvalidTransition
from apps.events.models import OutboxEvent
from apps.tenancy.models import Tenant


@pytest.fixture
def acme_db(acme):
    Tenant.objects.filter(pk=acme.pk).update(enabled_locales=["en", "de"])
    with schema_context("acme"):
        yield acme


def _post(title="Hello world", body="Some *text*", locale="en", **extra) -> Node:
    data = NodeInput(
        kind="post", translations=[TranslationInput(locale=locale, title=title, body=body)], **extra
    )
    return services.node_create(data=data)


def _events(node, event_type=None):
    rows = OutboxEvent.objects.filter(aggregate_id=str(node.pk)).order_by("position")
    if event_type:
        rows = rows.filter(event_type=event_type)
    return list(rows)


def test_create_makes_a_draft_with_a_revision_and_events(acme_db):
    node = _post(body="<script>alert(1)</script>\n\n**bold**")
    assert (node.status, node.version) == (NodeStatus.DRAFT, 1)
    translation = node.translations.get()
    assert translation.slug == "hello-world"
    assert (
        "<script" not in translation.body_html and "<strong>bold</strong>" in translation.body_html
    )
    assert [r.number for r in node.revisions.all()] == [1]
    assert [e.event_type for e in _events(node)] == [
        "content.node.created",
        "content.translation.updated",
    ]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (
            NodeInput(kind="Bad Kind", translations=[TranslationInput(locale="en", title="x")]),
            "kind",
        ),
        (NodeInput(kind="post", translations=[]), "translations"),
        (NodeInput(kind="post", translations=[TranslationInput(locale="fr", title="x")]), "locale"),
        (
            NodeInput(kind="post", translations=[TranslationInput(locale="en", title="  ")]),
            "translations.en.title",
        ),
        (
            NodeInput(kind="post", translations=[TranslationInput(locale="en", title="!!!")]),
            "translations.en.slug",
        ),
        (
            NodeInput(
                kind="post",
                translations=[TranslationInput(locale="en", title="x", body_format="rtf")],
            ),
            "translations.en.body_format",
        ),
        (
            NodeInput(
                kind="post", translations=[TranslationInput(locale="en", title="x")], metadata=[1]
            ),
            "metadata",
        ),
        (
            NodeInput(
                kind="post",
                translations=[TranslationInput(locale="en", title="x")],
                metadata={"Bad Key": 1},
            ),
            "metadata",
        ),
        (
            NodeInput(
                kind="post",
                translations=[TranslationInput(locale="en", title="x")],
                metadata={"k": {"nested": 1}},
            ),
            "metadata",
        ),
        (
            NodeInput(
                kind="post",
                translations=[TranslationInput(locale="en", title="x")],
                category_id=999999,
            ),
            "category",
        ),
        (
            NodeInput(
                kind="post",
                translations=[TranslationInput(locale="en", title="x")],
                tag_ids=[999999],
            ),
            "tags",
        ),
        (
            NodeInput(
                kind="post",
                translations=[TranslationInput(locale="en", title="x")],
                parent_id=uuid.uuid4(),
            ),
            "parent",
        ),
    ],
)
def test_invalid_input_is_refused_naming_the_field_and_writes_nothing(acme_db, data, field):
    before = (Node.objects.count(), OutboxEvent.objects.count())
    with pytest.raises(ContentInvalid) as caught:
        services.node_create(data=data)
    assert field in caught.value.errors
    assert (Node.objects.count(), OutboxEvent.objects.count()) == before


def test_slugs_are_unique_per_locale_and_kind(acme_db):
    _post(title="Same")
    with pytest.raises(ContentInvalid, match="already used"):
        _post(title="Same")
    _post(title="Same", locale="de")  # another locale
    services.node_create(
        data=NodeInput(kind="page", translations=[TranslationInput(locale="en", title="Same")])
    )


@pytest.mark.parametrize(
    ("path", "target_status", "event_type"),
    [
        (["publish"], "published", "content.node.published"),
        (["publish", "unpublish"], "draft", "content.node.unpublished"),
        (["publish", "archive"], "archived", "content.node.archived"),
        (["publish", "archive", "restore"], "draft", "content.node.restored"),
    ],
)
def test_each_allowed_transition(acme_db, path, target_status, event_type):
    node = _post()
    for step in path:
        node = getattr(services, f"node_{step}")(node_id=node.pk)
    assert node.status == target_status
    last = _events(node)[-1]
    assert last.event_type == event_type
    assert (
        last.payload["to_status"] == target_status and last.payload["from_status"] != target_status
    )
    assert last.aggregate_version == node.version == 1 + len(path)


@pytest.mark.parametrize(
    ("path", "forbidden"),
    [
        ([], "unpublish"),
        ([], "archive"),
        ([], "restore"),
        (["publish"], "publish"),
        (["publish"], "restore"),
        (["publish", "archive"], "publish"),
        (["publish", "archive"], "unpublish"),
        (["publish", "archive"], "archive"),
    ],
)
def test_invalid_transitions_raise_and_change_nothing(acme_db, path, forbidden):
    node = _post()
    for step in path:
        node = getattr(services, f"node_{step}")(node_id=node.pk)
    events_before = len(_events(node))
    with pytest.raises(InvalidTransition) as caught:
        getattr(services, f"node_{forbidden}")(node_id=node.pk)
    assert caught.value.status == 409
    fresh = Node.objects.get(pk=node.pk)
    assert (fresh.status, fresh.version) == (node.status, node.version)
    assert len(_events(node)) == events_before


def test_transitions_of_unknown_nodes_are_404(acme_db):
    with pytest.raises(NodeNotFound):
        services.node_publish(node_id=uuid.uuid4())
    with pytest.raises(NodeNotFound):
        services.node_publish(node_id="not-a-uuid")


def test_publishing_sets_published_at_once(acme_db):
    node = services.node_publish(node_id=_post().pk)
    first = node.published_at
    services.node_unpublish(node_id=node.pk)
    again = services.node_publish(node_id=node.pk)
    assert first is not None and again.published_at == first


def test_update_records_what_changed_and_a_no_op_records_nothing(acme_db):
    node = _post()
    category = services.category_create(name="News")
    updated = services.node_update(
        node_id=node.pk, category_id=category.pk, metadata={"featured": True}
    )
    revision = updated.revisions.first()
    assert revision.number == 2 and set(revision.changed) == {"category_id", "metadata"}
    assert _events(node, "content.node.updated")[-1].payload["changed"] == revision.changed
    services.node_update(node_id=node.pk, category_id=category.pk)
    assert updated.revisions.count() == 2
    assert len(_events(node, "content.node.updated")) == 1


def test_translations_add_update_and_remove(acme_db):
    node = _post()
    services.translation_upsert(
        node_id=node.pk, data=TranslationInput(locale="de", title="Hallo Welt")
    )
    services.translation_upsert(
        node_id=node.pk, data=TranslationInput(locale="de", title="Hallo Welt", body="neu")
    )
    assert node.translations.get(locale="de").body == "neu"
    changed = [r.changed for r in node.revisions.order_by("number")]
    assert changed[1] == ["translations.de"] and changed[2] == ["translations.de.body"]
    services.translation_delete(node_id=node.pk, locale="de")
    with pytest.raises(ContentInvalid, match="last translation"):
        services.translation_delete(node_id=node.pk, locale="en")


def test_restoring_a_revision_is_a_new_revision(acme_db):
    node = _post(title="Original", body="first")
    services.translation_upsert(
        node_id=node.pk, data=TranslationInput(locale="en", title="Changed", body="second")
    )
    services.translation_upsert(node_id=node.pk, data=TranslationInput(locale="de", title="Neu"))
    restored = services.revision_restore(node_id=node.pk, number=1)
    assert list(restored.translations.values_list("locale", "title", "body")) == [
        ("en", "Original", "first")
    ]
    latest = restored.revisions.first()
    assert latest.number == 4 and latest.message == "Restored revision 1"
    assert Revision.objects.filter(node=node).count() == 4


def test_scheduling_and_publishing_when_due(acme_db):
    soon, later = _post(title="Soon"), _post(title="Later")
    services.node_schedule(node_id=soon.pk, publish_at=timezone.now() + timedelta(minutes=1))
    services.node_schedule(node_id=later.pk, publish_at=timezone.now() + timedelta(days=1))
    assert [n.pk for n in selectors.scheduled()] == [soon.pk, later.pk]
    assert services.nodes_publish_due(now=timezone.now() + timedelta(minutes=2)) == 1
    soon.refresh_from_db()
    later.refresh_from_db()
    assert (soon.status, soon.publish_at) == (NodeStatus.PUBLISHED, None)
    assert later.status == NodeStatus.DRAFT
    with pytest.raises(ContentInvalid, match="future"):
        services.node_schedule(node_id=later.pk, publish_at=timezone.now() - timedelta(minutes=1))
    with pytest.raises(InvalidTransition):
        services.node_schedule(node_id=soon.pk, publish_at=timezone.now() + timedelta(days=1))


def test_deleting_publishes_an_event_and_refuses_parents(acme_db):
    parent = services.node_create(
        data=NodeInput(kind="page", translations=[TranslationInput(locale="en", title="About")])
    )
    child = services.node_create(
        data=NodeInput(
            kind="page",
            parent_id=parent.pk,
            translations=[TranslationInput(locale="en", title="Team")],
        )
    )
    with pytest.raises(ContentInvalid, match="children"):
        services.node_delete(node_id=parent.pk)
    services.node_delete(node_id=child.pk)
    assert not Node.objects.filter(pk=child.pk).exists()
    assert _events(child)[-1].event_type == "content.node.deleted"
    with pytest.raises(ContentInvalid, match="own ancestor"):
        services.node_update(node_id=parent.pk, parent_id=parent.pk)


def test_categories_and_tags(acme_db):
    news = services.category_create(name="News")
    with pytest.raises(ContentInvalid, match="taken"):
        services.category_create(name="News")
    local = services.category_create(name="Local", parent_id=news.pk)
    with pytest.raises(ContentInvalid, match="own ancestor"):
        services.category_update(category_id=news.pk, parent_id=local.pk)
    tag = services.tag_get_or_create(name="Django")
    assert services.tag_get_or_create(name="django").pk == tag.pk
    event_types = set(OutboxEvent.objects.values_list("event_type", flat=True))
    assert {"content.category.created", "content.tag.created"} <= event_types


def _png(size=(4, 3)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "red").save(buffer, "PNG")
    return buffer.getvalue()


def test_media_upload_validates_the_content_not_the_name(acme_db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    media = services.media_upload(
        file=SimpleUploadedFile("a.png", _png(), "image/png"), alt_text={"en": "A red box"}
    )
    assert (media.content_type, media.width, media.height) == ("image/png", 4, 3)
    assert media.alt("de") == "A red box"
    with pytest.raises(ContentInvalid, match="not an image"):
        services.media_upload(file=SimpleUploadedFile("evil.png", b"<?php echo 1; ?>", "image/png"))
    with pytest.raises(ContentInvalid, match="empty"):
        services.media_upload(file=SimpleUploadedFile("empty.png", b"", "image/png"))
    with pytest.raises(ContentInvalid, match="alt_text"):
        services.media_upload(
            file=SimpleUploadedFile("a.png", _png(), "image/png"), alt_text={"xx": "?"}
        )
    services.media_delete(media_id=media.pk)
    assert not Media.objects.filter(pk=media.pk).exists()


def test_metadata_with_nul_characters_is_refused(acme_db):
    with pytest.raises(ContentInvalid, match="NUL"):
        _post(metadata={"note": "a\x00b"})


def test_plain_text_keeps_words_apart():
    from apps.content.rendering import plain_text

    assert plain_text("<p>one</p><p>two &amp; three</p>four<br>five") == "one two & three four five"


def test_tags_can_be_renamed_and_categories_moved_to_the_top(acme_db):
    tag = services.tag_get_or_create(name="Djngo")
    renamed = services.tag_update(tag_id=tag.pk, name="Django")
    assert (renamed.name, renamed.slug) == ("Django", "django")
    other = services.tag_get_or_create(name="Python")
    with pytest.raises(ContentInvalid, match="taken"):
        services.tag_update(tag_id=other.pk, name="Django")
    parent = services.category_create(name="World")
    child = services.category_create(name="Europe", parent_id=parent.pk)
    moved = services.category_update(category_id=child.pk, to_top_level=True, position=3)
    assert (moved.parent_id, moved.position) == (None, 3)
    assert OutboxEvent.objects.filter(event_type="content.tag.updated").count() == 1


def test_restoring_the_current_state_announces_nothing(acme_db):
    node = _post(title="Same")
    before = OutboxEvent.objects.count()
    services.revision_restore(node_id=node.pk, number=1)
    assert OutboxEvent.objects.count() == before
