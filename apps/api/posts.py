"""/api/v1/posts/: blog posts (content nodes of kind "post"), written through the blog's services.

The blog adds its rules to content's (slugs its own pages use are refused; a
post has no place in the page tree; tags may be given by name), so every write
here goes through ``apps.blog.services``; reads and the answers are content's.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from rest_framework import serializers

from apps.blog import selectors as blog_selectors
from apps.blog import services as blog
from apps.content import api as content_api
from apps.content.models import Node, NodeTranslation
from apps.content.services import TranslationInput


class PostCreateIn(content_api.NodeFieldsIn):
    """A new post, created as a draft."""

    translations = content_api.translations_in()
    tag_names = serializers.ListField(
        child=serializers.CharField(max_length=80),
        required=False,
        max_length=100,
        help_text="Tags by name, created when they do not exist yet (besides the tags by id).",
    )


class PostUpdateIn(content_api.NodeFieldsIn):
    """Fields of a post to change; the others keep their value."""

    translations = content_api.translations_patch()


@content_api.node_views(
    "posts", create_input=PostCreateIn, update_input=PostUpdateIn, output=content_api.NodeOut
)
class PostViewSet(content_api.ContentViewSet):
    """Blog posts: content nodes of kind ``post``."""

    kind = blog.KIND
    create_input = PostCreateIn
    update_input = PostUpdateIn

    def get_queryset(self):
        return blog_selectors.posts()

    def create_node(self, data: dict[str, Any], *, actor) -> UUID:
        return blog.post_create(
            translations=content_api.translation_inputs(data["translations"]),
            category_id=data.get("category"),
            tag_ids=data.get("tags", ()),
            tag_names=data.get("tag_names", ()),
            metadata=data.get("metadata"),
            publish_at=data.get("publish_at"),
            canonical_url=data.get("canonical_url", ""),
            og_image_id=data.get("og_image"),
            actor=actor,
        ).pk

    def update_node(self, node: Node, data: dict[str, Any], *, actor) -> None:
        if data:
            blog.post_update(post_id=node.pk, actor=actor, **content_api.update_keywords(data))

    def upsert_translation(
        self, node: Node, translation: TranslationInput, *, actor
    ) -> NodeTranslation:
        return blog.post_translation_upsert(post_id=node.pk, data=translation, actor=actor)

    def delete_translation(self, node: Node, locale: str, *, actor) -> None:
        blog.post_translation_delete(post_id=node.pk, locale=locale, actor=actor)

    def delete_node(self, node: Node, *, actor) -> None:
        blog.post_delete(post_id=node.pk, actor=actor)

    def change_status(self, action_name: str, node: Node, *, actor) -> None:
        change = {
            "publish": blog.post_publish,
            "unpublish": blog.post_unpublish,
            "archive": blog.post_archive,
            "restore": blog.post_restore,
        }[action_name]
        change(post_id=node.pk, actor=actor)

    def schedule_node(self, node: Node, publish_at, *, actor) -> None:
        blog.post_schedule(post_id=node.pk, publish_at=publish_at, actor=actor)
