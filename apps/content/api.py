"""REST delivery of content: nodes (and posts/pages, nodes of one kind), categories, tags, media.

Thin viewsets: small input serializers check the shape of a request, the
services in ``apps.content.services`` do every write (and every rule), the
selectors every read, and small output serializers shape the answers. URLs
are mounted by ``apps.api.urls``; authentication, permissions, pagination,
filter backends and the error format are the API's defaults
(``REST_FRAMEWORK`` in settings, code in ``apps.api``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from uuid import UUID

from django import forms
from django.db import transaction
from django.http import Http404
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from . import selectors, services
from .models import BodyFormat, Category, Node, NodeStatus, NodeTranslation

MAX_ID = 2**63 - 1  # bigint primary keys
MAX_POSITION = 2**31 - 1
TRANSLATION_FIELDS = (
    "title",
    "slug",
    "excerpt",
    "body",
    "body_format",
    "meta_title",
    "meta_description",
)


# -- input -------------------------------------------------------------------------


class StrictInput(serializers.Serializer):
    # Input that refuses the fields it does not know: a typo is an error, not a silent no-op.
    # (A comment, not a docstring: the schema would show it on every input.)

    def to_internal_value(self, data: Any) -> Any:
        unknown = {}
        if isinstance(data, Mapping):
            for name in data:
                # multipart spells nested values "alt_text.en"
                base = str(name).split(".", 1)[0]
                if base not in self.fields or self.fields[base].read_only:
                    unknown[name] = ["Unknown field."]
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if unknown and isinstance(exc.detail, dict):
                exc.detail.update(unknown)
            raise
        if unknown:
            raise serializers.ValidationError(unknown)
        return value


class TranslationIn(StrictInput):
    """A translation: the content in one locale."""

    title = serializers.CharField(max_length=255)
    slug = serializers.CharField(
        max_length=255,
        required=False,
        allow_blank=True,
        help_text="Made from the title when empty; slugified.",
    )
    excerpt = serializers.CharField(required=False, allow_blank=True)
    body = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    body_format = serializers.ChoiceField(choices=BodyFormat.choices, required=False)
    meta_title = serializers.CharField(max_length=255, required=False, allow_blank=True)
    meta_description = serializers.CharField(max_length=320, required=False, allow_blank=True)


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


class NulFreeJSONField(serializers.JSONField):
    """JSON that PostgreSQL can store: no NUL characters (jsonb refuses them)."""

    def to_internal_value(self, data: Any) -> Any:
        value = super().to_internal_value(data)
        if _has_nul(value):
            raise serializers.ValidationError("Null characters are not allowed.")
        return value


class TreeFieldsIn(StrictInput):
    """Where a node sits in the tree."""

    parent = serializers.UUIDField(required=False, allow_null=True)
    position = serializers.IntegerField(required=False, min_value=0, max_value=MAX_POSITION)


class NodeFieldsIn(StrictInput):
    """Fields of a node besides its place in the tree."""

    category = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_ID, help_text="Category id."
    )
    tags = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        max_length=100,
        help_text="Tag ids; replaces the node's tags.",
    )
    metadata = NulFreeJSONField(
        required=False,
        help_text="A flat JSON object: slug-like keys; strings, numbers, booleans or lists of them.",
    )
    publish_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="Scheduled publication of a draft."
    )
    canonical_url = serializers.URLField(required=False, allow_blank=True, max_length=200)
    og_image = serializers.UUIDField(required=False, allow_null=True, help_text="Media id.")


class TranslationPatchIn(TranslationIn):
    """Fields of a translation to replace; the others keep their value."""

    title = serializers.CharField(max_length=255, required=False)


def translations_in() -> serializers.DictField:
    """The translations of a new node."""
    return serializers.DictField(
        child=TranslationIn(),
        allow_empty=False,
        help_text="Translations keyed by locale (one of the site's enabled locales).",
    )


def translations_patch() -> serializers.DictField:
    """Translations to change: per locale, the fields given replace the stored ones."""
    return serializers.DictField(
        child=TranslationPatchIn(),
        required=False,
        help_text=(
            "Translations keyed by locale: fields given replace the stored ones, the others "
            "stay; a new locale needs a title."
        ),
    )


class NodeCreateIn(TreeFieldsIn, NodeFieldsIn):
    """A new node of any kind, created as a draft."""

    kind = serializers.CharField(
        max_length=32, help_text="recipe, event, ...: lowercase letters, digits, '-' or '_'."
    )
    translations = translations_in()


class NodeUpdateIn(TreeFieldsIn, NodeFieldsIn):
    """Fields of a node to change; the others keep their value."""

    translations = translations_patch()


# Input field name -> keyword of the update services (content's node_update, blog's post_update).
UPDATE_KEYWORDS = {
    "parent": "parent_id",
    "position": "position",
    "category": "category_id",
    "tags": "tag_ids",
    "metadata": "metadata",
    "publish_at": "publish_at",
    "canonical_url": "canonical_url",
    "og_image": "og_image_id",
}


def update_keywords(data: Mapping[str, Any]) -> dict[str, Any]:
    """Validated input fields as keywords of an update service."""
    return {UPDATE_KEYWORDS[name]: value for name, value in data.items()}


class ScheduleIn(StrictInput):
    """When a draft gets published."""

    publish_at = serializers.DateTimeField(
        allow_null=True, help_text="When to publish (in the future), or null to cancel."
    )


# -- output ------------------------------------------------------------------------


class TranslationOut(serializers.Serializer):
    locale = serializers.CharField()
    title = serializers.CharField()
    slug = serializers.CharField()
    excerpt = serializers.CharField()
    body = serializers.CharField()
    body_format = serializers.ChoiceField(choices=BodyFormat.choices)
    body_html = serializers.CharField(help_text="The body rendered and sanitized.")
    meta_title = serializers.CharField()
    meta_description = serializers.CharField()
    updated_at = serializers.DateTimeField()


class TranslationsOut(serializers.DictField):
    """A node's translations keyed by locale (from the prefetched rows)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(child=TranslationOut(), read_only=True, **kwargs)

    def to_representation(self, value: Any) -> dict[str, Any]:
        return {row.locale: self.child.to_representation(row) for row in value.all()}


class AuthorOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.SerializerMethodField()

    def get_name(self, user: Any) -> str:
        return user.get_full_name() or user.get_username()


class CategoryRefOut(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.CharField()
    name = serializers.CharField()


class TagOut(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.CharField()
    name = serializers.CharField()


class NodeOut(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.CharField()
    status = serializers.ChoiceField(choices=NodeStatus.choices)
    parent = serializers.UUIDField(source="parent_id", allow_null=True)
    position = serializers.IntegerField()
    author = AuthorOut(allow_null=True)
    category = CategoryRefOut(allow_null=True)
    tags = TagOut(many=True)
    published_at = serializers.DateTimeField(allow_null=True)
    publish_at = serializers.DateTimeField(allow_null=True)
    metadata = serializers.JSONField()
    canonical_url = serializers.CharField()
    og_image = serializers.UUIDField(source="og_image_id", allow_null=True)
    version = serializers.IntegerField(help_text="Bumped by every change.")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    translations = TranslationsOut()


# -- nodes -------------------------------------------------------------------------


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(filters.NumberFilter):
    field_class = forms.IntegerField


class ContentFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=NodeStatus.choices)
    category = filters.CharFilter(field_name="category__slug", help_text="Category slug.")
    tag = filters.CharFilter(field_name="tags__slug", help_text="Tag slug.")
    locale = filters.CharFilter(
        field_name="translations__locale", help_text="Only nodes translated into this locale."
    )
    parent = filters.UUIDFilter(field_name="parent_id", help_text="Children of this node.")
    author = IdFilter(field_name="author_id", help_text="Author's user id.")

    class Meta:
        model = Node
        fields: list[str] = []


class NodeFilter(ContentFilter):
    kind = filters.CharFilter(help_text="post, page, ...")


NODE_ORDERING = ("created_at", "updated_at", "published_at", "publish_at", "position")
TRANSITION_ACTIONS = ("publish", "unpublish", "archive", "restore", "schedule")
LOCALE_PARAMETER = OpenApiParameter(
    "locale", OpenApiTypes.STR, OpenApiParameter.PATH, description="A locale, e.g. 'en'."
)


def translation_inputs(translations: Mapping[str, Any]) -> list[services.TranslationInput]:
    return [
        services.TranslationInput(locale=locale, **fields)
        for locale, fields in translations.items()
    ]


def merged_translation(
    locale: str, stored: NodeTranslation | None, given: Mapping[str, Any]
) -> services.TranslationInput:
    """The stored translation with the given fields replaced (a PATCH of one locale)."""
    fields = {name: getattr(stored, name) for name in TRANSLATION_FIELDS} if stored else {}
    fields.update(given)
    fields.setdefault("title", "")
    return services.TranslationInput(locale=locale, **fields)


def node_views(
    resource: str,
    *,
    create_input: type[serializers.Serializer],
    update_input: type[serializers.Serializer],
    output: type[serializers.Serializer],
):
    """The schema of a viewset of nodes (/nodes/, /posts/, /pages/)."""
    return extend_schema_view(
        list=extend_schema(summary=f"List {resource}", responses=output(many=True)),
        retrieve=extend_schema(summary=f"Get one of the {resource}", responses=output),
        create=extend_schema(summary="Create (as a draft)", request=create_input, responses=output),
        partial_update=extend_schema(
            summary="Change fields and translations", request=update_input, responses=output
        ),
        destroy=extend_schema(summary="Delete (a node without children)", responses={204: None}),
        publish=extend_schema(summary="Publish a draft", request=None, responses=output),
        unpublish=extend_schema(
            summary="Unpublish (published -> draft)", request=None, responses=output
        ),
        archive=extend_schema(
            summary="Archive (published -> archived)", request=None, responses=output
        ),
        restore=extend_schema(
            summary="Restore (archived -> draft)", request=None, responses=output
        ),
        schedule=extend_schema(
            summary="Schedule (or unschedule) the publication of a draft",
            request=ScheduleIn,
            responses=output,
        ),
    )


class ContentViewSet(viewsets.GenericViewSet):
    """Nodes: reads, and writes through the services of the endpoint's kind.

    This base writes through ``apps.content.services``; the endpoints of a
    wrapper module (posts, pages in ``apps.api``) override the ``*_node`` and
    ``*_translation`` methods to write through that module's services.
    """

    kind: str | None = None  # None: every kind
    create_input: type[serializers.Serializer] = NodeCreateIn
    update_input: type[serializers.Serializer] = NodeUpdateIn
    output: type[serializers.Serializer] = NodeOut
    filterset_class: type[filters.FilterSet] = ContentFilter
    ordering_fields = NODE_ORDERING
    ordering = ("-created_at",)
    # apps.api.permissions: these POSTs and PUTs change a node (they create nothing).
    action_permissions = {name: "change" for name in (*TRANSITION_ACTIONS, "translation")}
    conflict_actions = TRANSITION_ACTIONS

    def get_queryset(self):
        return selectors.nodes(kind=self.kind)

    # -- writes (one service call each; overridden by wrapper endpoints) --

    def create_node(self, data: dict[str, Any], *, actor) -> UUID:
        return services.node_create(
            data=services.NodeInput(
                kind=self.kind or data["kind"],
                translations=translation_inputs(data["translations"]),
                parent_id=data.get("parent"),
                position=data.get("position", 0),
                category_id=data.get("category"),
                tag_ids=data.get("tags", []),
                metadata=data.get("metadata", {}),
                publish_at=data.get("publish_at"),
                canonical_url=data.get("canonical_url", ""),
                og_image_id=data.get("og_image"),
            ),
            actor=actor,
        ).pk

    def update_node(self, node: Node, data: dict[str, Any], *, actor) -> None:
        if data:
            services.node_update(node_id=node.pk, actor=actor, **update_keywords(data))

    def upsert_translation(
        self, node: Node, translation: services.TranslationInput, *, actor
    ) -> NodeTranslation:
        return services.translation_upsert(node_id=node.pk, data=translation, actor=actor)

    def delete_translation(self, node: Node, locale: str, *, actor) -> None:
        services.translation_delete(node_id=node.pk, locale=locale, actor=actor)

    def delete_node(self, node: Node, *, actor) -> None:
        services.node_delete(node_id=node.pk, actor=actor)

    def change_status(self, action_name: str, node: Node, *, actor) -> None:
        change = {
            "publish": services.node_publish,
            "unpublish": services.node_unpublish,
            "archive": services.node_archive,
            "restore": services.node_restore,
        }[action_name]
        change(node_id=node.pk, actor=actor)

    def schedule_node(self, node: Node, publish_at, *, actor) -> None:
        services.node_schedule(node_id=node.pk, publish_at=publish_at, actor=actor)

    def check_writable(self, node: Node) -> None:
        """Refuse to write ``node`` here (raise); every node of the endpoint's kind is writable."""

    # -- the operations --

    def _node(self) -> Node:
        """The node of the URL (404 unless it is of this endpoint's kind)."""
        return self.get_object()

    def _answer(self, node_id: UUID, status_code: int = status.HTTP_200_OK) -> Response:
        node = self.get_queryset().filter(pk=node_id).first()
        return Response(self.output(node, context=self.get_serializer_context()).data, status_code)

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        context = self.get_serializer_context()
        return self.get_paginated_response(self.output(page, many=True, context=context).data)

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(self.output(self._node(), context=self.get_serializer_context()).data)

    def create(self, request: Request) -> Response:
        serializer = self.create_input(data=request.data)
        serializer.is_valid(raise_exception=True)
        node_id = self.create_node(dict(serializer.validated_data), actor=request.user)
        return self._answer(node_id, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        node = self._node()
        self.check_writable(node)
        serializer = self.update_input(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        translations = data.pop("translations", {})
        stored = {row.locale: row for row in node.translations.all()}
        # One request, one outcome: a refused translation undoes the field changes too.
        with transaction.atomic():
            self.update_node(node, data, actor=request.user)
            for locale, given in translations.items():
                self.upsert_translation(
                    node, merged_translation(locale, stored.get(locale), given), actor=request.user
                )
        return self._answer(node.pk)

    def destroy(self, request: Request, pk: str) -> Response:
        node = self._node()
        self.check_writable(node)
        self.delete_node(node, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _transition(self, request: Request) -> Response:
        node = self._node()
        self.change_status(self.action, node, actor=request.user)
        return self._answer(node.pk)

    @action(detail=True, methods=["post"])
    def publish(self, request: Request, pk: str) -> Response:
        return self._transition(request)

    @action(detail=True, methods=["post"])
    def unpublish(self, request: Request, pk: str) -> Response:
        return self._transition(request)

    @action(detail=True, methods=["post"])
    def archive(self, request: Request, pk: str) -> Response:
        return self._transition(request)

    @action(detail=True, methods=["post"])
    def restore(self, request: Request, pk: str) -> Response:
        return self._transition(request)

    @action(detail=True, methods=["post"])
    def schedule(self, request: Request, pk: str) -> Response:
        node = self._node()
        serializer = ScheduleIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        self.schedule_node(node, serializer.validated_data["publish_at"], actor=request.user)
        return self._answer(node.pk)

    @extend_schema(
        methods=["PUT"],
        summary="Create or replace the translation in one locale",
        parameters=[LOCALE_PARAMETER],
        request=TranslationIn,
        responses={200: TranslationOut, 201: TranslationOut},
    )
    @extend_schema(
        methods=["DELETE"],
        summary="Delete the translation in one locale (not the last one)",
        parameters=[LOCALE_PARAMETER],
        responses={204: None},
    )
    @action(
        detail=True,
        methods=["put", "delete"],
        url_path=r"translations/(?P<locale>[^/]+)",
        url_name="translation",
    )
    def translation(self, request: Request, pk: str, locale: str) -> Response:
        node = self._node()
        self.check_writable(node)
        exists = any(row.locale == locale for row in node.translations.all())
        if request.method == "DELETE":
            if not exists:
                raise Http404
            self.delete_translation(node, locale, actor=request.user)
            return Response(status=status.HTTP_204_NO_CONTENT)
        serializer = TranslationIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        row = self.upsert_translation(
            node,
            services.TranslationInput(locale=locale, **serializer.validated_data),
            actor=request.user,
        )
        return Response(
            TranslationOut(row).data,
            status=status.HTTP_200_OK if exists else status.HTTP_201_CREATED,
        )


@node_views("nodes", create_input=NodeCreateIn, update_input=NodeUpdateIn, output=NodeOut)
class NodeViewSet(ContentViewSet):
    """Content nodes of every kind.

    Kinds that a wrapper module owns (``delegated_kinds``: kind -> the endpoint
    that writes them) are read and change status here, but are created, changed
    and deleted only through their own endpoint, where the wrapper's rules apply.
    """

    filterset_class = NodeFilter
    delegated_kinds: Mapping[str, str] = {}

    def _refuse(self, kind: str) -> None:
        endpoint = self.delegated_kinds.get(kind)
        if endpoint:
            raise serializers.ValidationError(
                {"kind": [f"nodes of kind '{kind}' are written through {endpoint}"]}
            )

    def check_writable(self, node: Node) -> None:
        self._refuse(node.kind)

    def create_node(self, data: dict[str, Any], *, actor) -> UUID:
        self._refuse(data["kind"])
        return super().create_node(data, actor=actor)


# -- categories ----------------------------------------------------------------------


class CategoryOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()
    parent = serializers.IntegerField(source="parent_id", allow_null=True)
    position = serializers.IntegerField()
    description = serializers.CharField()


class CategoryCreateIn(StrictInput):
    """A new category."""

    name = serializers.CharField(max_length=120)
    slug = serializers.CharField(max_length=120, required=False, allow_blank=True)
    parent = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_ID
    )
    description = serializers.CharField(required=False, allow_blank=True)


class CategoryUpdateIn(StrictInput):
    """Fields of a category to change (a category cannot be moved back to the top level)."""

    name = serializers.CharField(max_length=120, required=False)
    slug = serializers.CharField(max_length=120, required=False, allow_blank=True)
    parent = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="Move under this category."
    )
    description = serializers.CharField(required=False, allow_blank=True)


class CategoryFilter(filters.FilterSet):
    parent = IdFilter(field_name="parent_id", help_text="Children of this category.")

    class Meta:
        model = Category
        fields: list[str] = []


@extend_schema_view(
    list=extend_schema(summary="List categories", responses=CategoryOut(many=True)),
    retrieve=extend_schema(summary="Get a category", responses=CategoryOut),
    create=extend_schema(
        summary="Create a category", request=CategoryCreateIn, responses=CategoryOut
    ),
    partial_update=extend_schema(
        summary="Change a category", request=CategoryUpdateIn, responses=CategoryOut
    ),
    destroy=extend_schema(
        summary="Delete a category (without subcategories)", responses={204: None}
    ),
)
class CategoryViewSet(viewsets.GenericViewSet):
    filterset_class = CategoryFilter
    ordering_fields = ("position", "name", "slug")
    ordering = ("position", "name")

    def get_queryset(self):
        return selectors.categories()

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(CategoryOut(page, many=True).data)

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(CategoryOut(self.get_object()).data)

    def create(self, request: Request) -> Response:
        serializer = CategoryCreateIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        category = services.category_create(
            name=data["name"],
            slug=data.get("slug", ""),
            parent_id=data.get("parent"),
            description=data.get("description", ""),
            actor=request.user,
        )
        return Response(CategoryOut(category).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        category = self.get_object()
        serializer = CategoryUpdateIn(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        category = services.category_update(
            category_id=category.pk,
            name=data.get("name"),
            slug=data.get("slug"),
            parent_id=data.get("parent"),
            description=data.get("description"),
            actor=request.user,
        )
        return Response(CategoryOut(category).data)

    def destroy(self, request: Request, pk: str) -> Response:
        services.category_delete(category_id=self.get_object().pk, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# -- tags --------------------------------------------------------------------------


class TagCreateIn(StrictInput):
    """A tag; the existing tag when one has the same slug."""

    name = serializers.CharField(max_length=80)
    slug = serializers.CharField(max_length=80, required=False, allow_blank=True)


@extend_schema_view(
    list=extend_schema(summary="List tags", responses=TagOut(many=True)),
    retrieve=extend_schema(summary="Get a tag", responses=TagOut),
    create=extend_schema(
        summary="Create a tag (or get the one with the same slug)",
        request=TagCreateIn,
        responses=TagOut,
    ),
    destroy=extend_schema(summary="Delete a tag", responses={204: None}),
)
class TagViewSet(viewsets.GenericViewSet):
    ordering_fields = ("name", "slug")
    ordering = ("name",)

    def get_queryset(self):
        return selectors.tags()

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(TagOut(page, many=True).data)

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(TagOut(self.get_object()).data)

    def create(self, request: Request) -> Response:
        serializer = TagCreateIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        tag = services.tag_get_or_create(
            name=serializer.validated_data["name"],
            slug=serializer.validated_data.get("slug", ""),
            actor=request.user,
        )
        return Response(TagOut(tag).data, status=status.HTTP_201_CREATED)

    def destroy(self, request: Request, pk: str) -> Response:
        services.tag_delete(tag_id=self.get_object().pk, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# -- media -------------------------------------------------------------------------


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {"type": "string", "maxLength": 300},
        "example": {"en": "A red bicycle", "de": "Ein rotes Fahrrad"},
    }
)
class AltTextField(serializers.DictField):
    """Alt text per locale: a JSON object, also as a JSON string or ``alt_text.<locale>`` form fields."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(child=serializers.CharField(max_length=300, allow_blank=True), **kwargs)

    def get_value(self, dictionary: Any) -> Any:
        raw = dictionary.get(self.field_name) if hasattr(dictionary, "getlist") else None
        if isinstance(raw, str):
            try:
                return json.loads(raw)
            except ValueError:
                return raw  # refused by to_internal_value: "Expected a dictionary"
        return super().get_value(dictionary)


class MediaOut(serializers.Serializer):
    id = serializers.UUIDField()
    url = serializers.SerializerMethodField()
    content_type = serializers.CharField()
    size = serializers.IntegerField(help_text="Bytes.")
    width = serializers.IntegerField(allow_null=True)
    height = serializers.IntegerField(allow_null=True)
    alt_text = serializers.DictField(child=serializers.CharField(), help_text="Per locale.")
    created_at = serializers.DateTimeField()

    def get_url(self, media: Any) -> str:
        request = self.context.get("request")
        url = media.file.url
        return request.build_absolute_uri(url) if request else url


class MediaUploadIn(StrictInput):
    """An image and its alt text per locale."""

    file = serializers.FileField(help_text="JPEG, PNG, GIF or WebP; 10 MB at most.")
    alt_text = AltTextField(required=False)


class MediaUpdateIn(StrictInput):
    """New alt text of a medium."""

    alt_text = AltTextField(help_text="Replaces the alt text of every locale.")


@extend_schema_view(
    list=extend_schema(summary="List media", responses=MediaOut(many=True)),
    retrieve=extend_schema(summary="Get one medium", responses=MediaOut),
    create=extend_schema(
        summary="Upload an image (multipart/form-data)",
        request={"multipart/form-data": MediaUploadIn},
        responses=MediaOut,
    ),
    partial_update=extend_schema(
        summary="Change the alt text", request=MediaUpdateIn, responses=MediaOut
    ),
    destroy=extend_schema(summary="Delete a medium and its file", responses={204: None}),
)
class MediaViewSet(viewsets.GenericViewSet):
    parser_classes = (JSONParser, MultiPartParser)
    ordering_fields = ("created_at", "size")
    ordering = ("-created_at",)

    def get_queryset(self):
        return selectors.media_list()

    def _out(self, media: Any) -> dict[str, Any]:
        return MediaOut(media, context=self.get_serializer_context()).data

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        context = self.get_serializer_context()
        return self.get_paginated_response(MediaOut(page, many=True, context=context).data)

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(self._out(self.get_object()))

    def create(self, request: Request) -> Response:
        serializer = MediaUploadIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        media = services.media_upload(
            file=serializer.validated_data["file"],
            alt_text=serializer.validated_data.get("alt_text") or {},
            actor=request.user,
        )
        return Response(self._out(media), status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        media = self.get_object()
        serializer = MediaUpdateIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        media = services.media_update_alt(
            media_id=media.pk, alt_text=serializer.validated_data["alt_text"], actor=request.user
        )
        return Response(self._out(media))

    def destroy(self, request: Request, pk: str) -> Response:
        services.media_delete(media_id=self.get_object().pk, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
