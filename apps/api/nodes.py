"""/api/v1/nodes/: content nodes of every kind; and the base every endpoint of nodes builds on.

``ContentViewSet`` reads through the selectors and makes one service call per
operation through five hooks (``create_node``, ``patch_node``,
``transition_node``, ``schedule_node``, ``delete_node``); the endpoints of a
wrapper module (``posts``, ``pages``) override them to call that module's
services. The status actions are derived from content's ``NODE_TRANSITIONS``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from django.http import Http404
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.content import selectors, services
from apps.content.kinds import PAGE_KIND, POST_KIND
from apps.content.models import Node, NodeStatus
from apps.content.services import NODE_TRANSITIONS

from .filters import IdFilter
from .permissions import PublishedOnlyForPublishableKeys
from .serializers import (
    NodeCreateIn,
    NodeOut,
    NodeUpdateIn,
    ScheduleIn,
    TranslationIn,
    TranslationOut,
    update_keywords,
)
from .viewsets import ApiViewSetMixin

NODE_ORDERING = ("created_at", "updated_at", "published_at", "publish_at", "position")
TRANSITION_ACTIONS = (*NODE_TRANSITIONS.actions, "schedule")
LOCALE_PARAMETER = OpenApiParameter(
    "locale", OpenApiTypes.STR, OpenApiParameter.PATH, description="A locale, e.g. 'en'."
)


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


def translation_inputs(translations: Mapping[str, Any]) -> list[services.TranslationInput]:
    return [
        services.TranslationInput(locale=locale, **fields)
        for locale, fields in translations.items()
    ]


def node_views(
    resource: str,
    *,
    create_input: type[serializers.Serializer],
    update_input: type[serializers.Serializer],
    output: type[serializers.Serializer],
):
    """The schema of a viewset of nodes (/nodes/, /posts/, /pages/)."""
    transitions = {
        t.action: extend_schema(
            summary=f"{t.label} ({' | '.join(sorted(t.sources))} -> {t.target})",
            request=None,
            responses=output,
        )
        for t in NODE_TRANSITIONS.by_action.values()
    }
    return extend_schema_view(
        list=extend_schema(summary=f"List {resource}", responses=output(many=True)),
        retrieve=extend_schema(summary=f"Get one of the {resource}", responses=output),
        create=extend_schema(summary="Create (as a draft)", request=create_input, responses=output),
        partial_update=extend_schema(
            summary="Change fields and translations", request=update_input, responses=output
        ),
        destroy=extend_schema(summary="Delete (a node without children)", responses={204: None}),
        schedule=extend_schema(
            summary="Schedule (or unschedule) the publication of a draft",
            request=ScheduleIn,
            responses=output,
        ),
        **transitions,
    )


class ContentViewSet(ApiViewSetMixin, PublishedOnlyForPublishableKeys, viewsets.GenericViewSet):
    """Nodes: reads, and writes through the services of the endpoint's kind (one call each).

    This base writes through ``apps.content.services``; wrapper endpoints
    override the ``*_node`` hooks to write through their module's services.
    """

    # A publishable key sees published content only.
    public_rows = {"status": NodeStatus.PUBLISHED}

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

    # -- writes: one service call each (overridden by wrapper endpoints) --

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

    def patch_node(
        self,
        node: Node,
        data: dict[str, Any],
        *,
        translations: Mapping[str, Mapping[str, Any]] | None = None,
        delete_locales: tuple[str, ...] = (),
        actor,
    ) -> None:
        """Fields, translations (per locale, the fields to replace) and deletions: one call."""
        services.node_patch(
            node_id=node.pk,
            fields=update_keywords(data),
            translations=translations,
            delete_locales=delete_locales,
            actor=actor,
        )

    def transition_node(self, action_name: str, node: Node, *, actor) -> None:
        services.node_transition(node_id=node.pk, action=action_name, actor=actor)

    def schedule_node(self, node: Node, publish_at: datetime | None, *, actor) -> None:
        services.node_schedule(node_id=node.pk, publish_at=publish_at, actor=actor)

    def delete_node(self, node: Node, *, actor) -> None:
        services.node_delete(node_id=node.pk, actor=actor)

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
        # One request, one service call: a refused translation undoes the field changes too.
        self.patch_node(node, data, translations=translations, actor=request.user)
        return self._answer(node.pk)

    def destroy(self, request: Request, pk: str) -> Response:
        node = self._node()
        self.check_writable(node)
        self.delete_node(node, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _transition(self, request: Request, action_name: str) -> Response:
        node = self._node()
        self.transition_node(action_name, node, actor=request.user)
        return self._answer(node.pk)

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
            self.patch_node(node, {}, delete_locales=(locale,), actor=request.user)
            return Response(status=status.HTTP_204_NO_CONTENT)
        serializer = TranslationIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        # A PUT replaces the whole translation: fields not given take their defaults.
        values = vars(services.TranslationInput(locale=locale, **serializer.validated_data))
        self.patch_node(node, {}, translations={locale: values}, actor=request.user)
        row = selectors.node_translation(node.pk, locale)
        return Response(
            TranslationOut(row).data,
            status=status.HTTP_200_OK if exists else status.HTTP_201_CREATED,
        )


def _transition_view(action_name: str):
    def view(self: ContentViewSet, request: Request, pk: str) -> Response:
        return self._transition(request, action_name)

    view.__name__ = action_name
    view.__doc__ = f"{NODE_TRANSITIONS.get(action_name).label}."
    return action(detail=True, methods=["post"], url_path=action_name, url_name=action_name)(view)


for _action in NODE_TRANSITIONS.actions:
    setattr(ContentViewSet, _action, _transition_view(_action))


@node_views("nodes", create_input=NodeCreateIn, update_input=NodeUpdateIn, output=NodeOut)
class NodeViewSet(ContentViewSet):
    """Content nodes of every kind; posts and pages are created, changed and deleted at
    /api/v1/posts/ and /api/v1/pages/, where the blog's and the pages' rules apply.

    Kinds that a wrapper module owns (``delegated_kinds``: kind -> the endpoint
    that writes them) are read and change status here, but are created, changed
    and deleted only through their own endpoint.
    """

    filterset_class = NodeFilter
    delegated_kinds: Mapping[str, str] = {POST_KIND: "/api/v1/posts/", PAGE_KIND: "/api/v1/pages/"}

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
