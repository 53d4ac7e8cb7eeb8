"""/api/v1/pages/: pages (content nodes of kind "page") with their layout, through the pages' services.

A page is a content node plus what ``apps.pages`` owns: a template, the home
flag and the body as typed blocks per locale. Every write (the node's fields,
its translations, its layout, its status, deleting it) is one call to
``apps.pages.services``, where the pages' rules (root slugs, a page's parent is
a page) apply.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.content.models import Node
from apps.pages import selectors as pages_selectors
from apps.pages import services as pages
from apps.pages.models import PAGE_KIND, PageTemplate

from .nodes import ContentViewSet, node_views, translation_inputs
from .serializers import (
    NodeFieldsIn,
    NodeOut,
    NulFreeJSONField,
    TreeFieldsIn,
    translations_in,
    translations_patch,
    update_keywords,
)

LAYOUT_FIELDS = ("template", "is_home", "blocks")
BLOCKS_HELP = (
    'The body per locale: {"en": [{"type": "hero", ...}, {"type": "rich_text", ...}], ...}; '
    "block types: hero, rich_text, image, gallery, call_to_action, faq, embed_html, product_grid "
    '(one source of products: "collection" or "category", a handle, or "handles", a list of '
    'at most 24 product handles shown in that order; "count", 1 to 24).'
)


class PageLayoutOut(serializers.Serializer):
    template = serializers.ChoiceField(choices=PageTemplate.choices)
    is_home = serializers.BooleanField(help_text="Served at the site's root.")
    blocks = serializers.JSONField(help_text=BLOCKS_HELP)
    version = serializers.IntegerField()


class PageOut(NodeOut):
    layout = serializers.SerializerMethodField()

    @extend_schema_field(PageLayoutOut(allow_null=True))
    def get_layout(self, node: Node) -> dict[str, Any] | None:
        layout = pages_selectors.layout_of(node)
        return PageLayoutOut(layout).data if layout is not None else None


class _LayoutIn(serializers.Serializer):
    template = serializers.ChoiceField(choices=PageTemplate.choices, required=False)
    is_home = serializers.BooleanField(required=False)
    blocks = NulFreeJSONField(required=False, help_text=BLOCKS_HELP)


class PageCreateIn(TreeFieldsIn, _LayoutIn):
    """A new page, created as a draft, with its layout."""

    translations = translations_in()
    metadata = NulFreeJSONField(required=False)


class PageUpdateIn(TreeFieldsIn, NodeFieldsIn, _LayoutIn):
    """Fields of a page and its layout to change; the others keep their value."""

    translations = translations_patch()


@node_views("pages", create_input=PageCreateIn, update_input=PageUpdateIn, output=PageOut)
class PageViewSet(ContentViewSet):
    """Pages: content nodes of kind ``page``, with their layout."""

    kind = PAGE_KIND
    create_input = PageCreateIn
    update_input = PageUpdateIn
    output = PageOut

    def get_queryset(self):
        return pages_selectors.page_nodes()

    def create_node(self, data: dict[str, Any], *, actor) -> UUID:
        layout = pages.page_create(
            data=pages.PageInput(
                translations=translation_inputs(data["translations"]),
                parent_id=data.get("parent"),
                position=data.get("position", 0),
                template=data.get("template", PageTemplate.DEFAULT),
                is_home=data.get("is_home", False),
                blocks=data.get("blocks") or {},
                metadata=data.get("metadata") or {},
            ),
            actor=actor,
        )
        return layout.node_id

    def patch_node(
        self,
        node: Node,
        data: dict[str, Any],
        *,
        translations: Mapping[str, Mapping[str, Any]] | None = None,
        delete_locales: tuple[str, ...] = (),
        actor,
    ) -> None:
        layout = {name: data.pop(name) for name in LAYOUT_FIELDS if name in data}
        pages.page_update(
            node_id=node.pk,
            fields=update_keywords(data),
            translations=translations,
            delete_locales=delete_locales,
            actor=actor,
            **layout,
        )

    def transition_node(self, action_name: str, node: Node, *, actor) -> None:
        pages.page_transition(node_id=node.pk, action=action_name, actor=actor)

    def schedule_node(self, node: Node, publish_at: datetime | None, *, actor) -> None:
        pages.page_schedule(node_id=node.pk, publish_at=publish_at, actor=actor)

    def delete_node(self, node: Node, *, actor) -> None:
        pages.page_delete(node_id=node.pk, actor=actor)
