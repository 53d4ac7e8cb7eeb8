"""/api/v1/pages/: pages (content nodes of kind "page") with their layout, through the pages' services.

A page is a content node plus what ``apps.pages`` owns: a template, the home
flag and the body as typed blocks per locale. Creating a page and changing or
deleting its layout go through ``apps.pages.services``; pages offers no service
for a page's node fields and translations yet, so those go through content's.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.db import transaction
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.content import api as content_api
from apps.content import services as content_services
from apps.content.models import Node
from apps.pages import selectors as pages_selectors
from apps.pages import services as pages
from apps.pages.models import PAGE_KIND, PageTemplate

LAYOUT_FIELDS = ("template", "is_home", "blocks")
BLOCKS_HELP = (
    'The body per locale: {"en": [{"type": "hero", ...}, {"type": "rich_text", ...}], ...}; '
    "block types: hero, rich_text, image, gallery, call_to_action, faq, embed_html, product_grid."
)


class PageLayoutOut(serializers.Serializer):
    template = serializers.ChoiceField(choices=PageTemplate.choices)
    is_home = serializers.BooleanField(help_text="Served at the site's root.")
    blocks = serializers.JSONField(help_text=BLOCKS_HELP)
    version = serializers.IntegerField()


class PageOut(content_api.NodeOut):
    layout = serializers.SerializerMethodField()

    @extend_schema_field(PageLayoutOut(allow_null=True))
    def get_layout(self, node: Node) -> dict[str, Any] | None:
        layout = pages_selectors.layout_of(node)
        return PageLayoutOut(layout).data if layout is not None else None


class _LayoutIn(serializers.Serializer):
    template = serializers.ChoiceField(choices=PageTemplate.choices, required=False)
    is_home = serializers.BooleanField(required=False)
    blocks = content_api.NulFreeJSONField(required=False, help_text=BLOCKS_HELP)


class PageCreateIn(content_api.TreeFieldsIn, _LayoutIn):
    """A new page, created as a draft, with its layout."""

    translations = content_api.translations_in()
    metadata = content_api.NulFreeJSONField(required=False)


class PageUpdateIn(content_api.TreeFieldsIn, content_api.NodeFieldsIn, _LayoutIn):
    """Fields of a page and its layout to change; the others keep their value."""

    translations = content_api.translations_patch()


@content_api.node_views(
    "pages", create_input=PageCreateIn, update_input=PageUpdateIn, output=PageOut
)
class PageViewSet(content_api.ContentViewSet):
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
                translations=content_api.translation_inputs(data["translations"]),
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

    def update_node(self, node: Node, data: dict[str, Any], *, actor) -> None:
        layout = {name: data.pop(name) for name in LAYOUT_FIELDS if name in data}
        if data:
            content_services.node_update(
                node_id=node.pk, actor=actor, **content_api.update_keywords(data)
            )
        if layout:
            pages.layout_save(node_id=node.pk, actor=actor, **layout)

    def delete_node(self, node: Node, *, actor) -> None:
        # The layout first, through pages (its event, the site's caches); then the node.
        with transaction.atomic():
            if pages_selectors.layout_of(node) is not None:
                pages.layout_delete(node_id=node.pk, actor=actor)
            content_services.node_delete(node_id=node.pk, actor=actor)
