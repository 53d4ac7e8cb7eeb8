"""Editors' admin of posts ("Posts"): content's node admin for kind "post", writing through the blog.

Every write is one call to ``apps.blog.services``, so the blog's rules (slugs its
own pages use are refused; a post has no place in the page tree) hold here as
in the API.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib import admin

from apps.content.admin.nodes import NodeAdmin
from apps.content.services import NodeInput

from . import services
from .models import Post


@admin.register(Post)
class PostAdmin(NodeAdmin):
    kind = services.KIND
    main_fields = ("category", "tags")
    autocomplete_fields = ["tags", "og_image"]

    def create_node(self, request, data: NodeInput):
        return services.post_create(
            translations=data.translations,
            category_id=data.category_id,
            tag_ids=data.tag_ids,
            metadata=data.metadata,
            publish_at=data.publish_at,
            canonical_url=data.canonical_url,
            og_image_id=data.og_image_id,
            actor=request.user,
        )

    def patch_node(self, request, node_id, *, fields, translations, delete_locales) -> None:
        services.post_patch(
            post_id=node_id,
            fields=fields,
            translations=translations,
            delete_locales=delete_locales,
            actor=request.user,
        )

    def transition_node(self, request, node_id, action: str) -> None:
        services.post_transition(post_id=node_id, action=action, actor=request.user)

    def schedule_node(self, request, node_id, publish_at: datetime | None) -> None:
        services.post_schedule(post_id=node_id, publish_at=publish_at, actor=request.user)

    def delete_node(self, request, node_id) -> None:
        services.post_delete(post_id=node_id, actor=request.user)
