"""/api/v1/posts/: blog posts (content nodes of kind "post"), written through the blog's services.

The blog adds its rules to content's (slugs its own pages use are refused; a
post has no place in the page tree; tags may be given by name), so every write
here goes through ``apps.blog.services``; reads and the answers are content's.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from rest_framework import serializers

from apps.blog import selectors as blog_selectors
from apps.blog import services as blog
from apps.content.models import Node

from .nodes import ContentViewSet, node_views, translation_inputs
from .serializers import NodeFieldsIn, NodeOut, translations_in, translations_patch, update_keywords


class PostCreateIn(NodeFieldsIn):
    """A new post, created as a draft."""

    translations = translations_in()
    tag_names = serializers.ListField(
        child=serializers.CharField(max_length=80),
        required=False,
        max_length=100,
        help_text="Tags by name, created when they do not exist yet (besides the tags by id).",
    )


class PostUpdateIn(NodeFieldsIn):
    """Fields of a post to change; the others keep their value."""

    translations = translations_patch()


@node_views("posts", create_input=PostCreateIn, update_input=PostUpdateIn, output=NodeOut)
class PostViewSet(ContentViewSet):
    """Blog posts: content nodes of kind ``post``."""

    kind = blog.KIND
    create_input = PostCreateIn
    update_input = PostUpdateIn

    def get_queryset(self):
        return blog_selectors.posts()

    def create_node(self, data: dict[str, Any], *, actor) -> UUID:
        return blog.post_create(
            translations=translation_inputs(data["translations"]),
            category_id=data.get("category"),
            tag_ids=data.get("tags", ()),
            tag_names=data.get("tag_names", ()),
            metadata=data.get("metadata"),
            publish_at=data.get("publish_at"),
            canonical_url=data.get("canonical_url", ""),
            og_image_id=data.get("og_image"),
            actor=actor,
        ).pk

    def patch_node(
        self,
        node: Node,
        data: dict[str, Any],
        *,
        translations: Mapping[str, Mapping[str, Any]] | None = None,
        delete_locales: tuple[str, ...] = (),
        actor,
    ) -> None:
        blog.post_patch(
            post_id=node.pk,
            fields=update_keywords(data),
            translations=translations,
            delete_locales=delete_locales,
            actor=actor,
        )

    def transition_node(self, action_name: str, node: Node, *, actor) -> None:
        blog.post_transition(post_id=node.pk, action=action_name, actor=actor)

    def schedule_node(self, node: Node, publish_at: datetime | None, *, actor) -> None:
        blog.post_schedule(post_id=node.pk, publish_at=publish_at, actor=actor)

    def delete_node(self, node: Node, *, actor) -> None:
        blog.post_delete(post_id=node.pk, actor=actor)
