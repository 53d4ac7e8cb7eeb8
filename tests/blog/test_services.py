"""The blog's services: thin wrappers over content's, always for posts."""

import pytest

from apps.blog import selectors, services
from apps.blog.errors import PostNotFound
from apps.blog.services import TranslationInput
from apps.content import services as content
from apps.content.errors import ContentInvalid
from apps.content.services import NodeInput
from apps.core.errors import InvalidTransition
from apps.events.models import OutboxEvent


def _create(title="Hello", **kwargs):
    return services.post_create(translations=[TranslationInput(locale="en", title=title)], **kwargs)


def test_post_create_makes_a_draft_post_and_its_tags(acme_schema):
    node = _create(tag_names=["News", "Python"])
    assert (node.kind, node.status) == ("post", "draft")
    assert sorted(node.tags.values_list("slug", flat=True)) == ["news", "python"]
    assert selectors.post_get(node.pk) == node
    types = set(OutboxEvent.objects.values_list("event_type", flat=True))
    assert {"content.node.created", "content.translation.updated", "content.tag.created"} <= types


def test_the_whole_life_of_a_post(acme_schema):
    node = _create()
    assert services.post_publish(post_id=node.pk).status == "published"
    assert selectors.published_post(slug="hello") == node
    assert services.post_unpublish(post_id=node.pk).status == "draft"
    assert selectors.published_post(slug="hello") is None
    services.post_publish(post_id=node.pk)
    assert services.post_archive(post_id=node.pk).status == "archived"
    with pytest.raises(InvalidTransition):
        services.post_unpublish(post_id=node.pk)
    assert services.post_restore(post_id=node.pk).status == "draft"
    services.post_update(post_id=node.pk, metadata={"featured": True})
    services.post_delete(post_id=node.pk)
    assert selectors.post_get(node.pk) is None


def test_reserved_slugs_are_refused(acme_schema):
    for title in ("Search", "feed", "Archive"):
        with pytest.raises(ContentInvalid) as error:
            _create(title)
        assert "reserved" in str(error.value)
    node = _create("Searching")
    with pytest.raises(ContentInvalid):
        services.post_translation_upsert(
            post_id=node.pk, data=TranslationInput(locale="en", title="x", slug="search")
        )


def test_other_kinds_are_not_posts(acme_schema):
    page = content.node_create(
        data=NodeInput(kind="page", translations=[TranslationInput(locale="en", title="About")])
    )
    for action in (services.post_publish, services.post_delete, services.post_archive):
        with pytest.raises(PostNotFound):
            action(post_id=page.pk)
    with pytest.raises(PostNotFound):
        services.post_update(post_id=page.pk, metadata={})
    assert selectors.post_get(page.pk) is None


def test_posts_have_no_place_in_a_tree(acme_schema):
    node = _create()
    with pytest.raises(ContentInvalid):
        services.post_update(post_id=node.pk, parent_id=None)
