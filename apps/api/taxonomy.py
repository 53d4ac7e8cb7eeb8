"""/api/v1/categories/ and /api/v1/tags/: content's taxonomy, written through content's services."""

from __future__ import annotations

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from apps.content import selectors, services
from apps.content.models import Category

from .filters import IdFilter
from .serializers import (
    MAX_ID,
    NAMES_HELP,
    CategoryNameIn,
    CategoryNameOut,
    StrictInput,
    TagNameIn,
    TagOut,
    names_in,
)
from .viewsets import ApiViewSetMixin


class CategoryOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(help_text="In the site's default locale.")
    slug = serializers.CharField()
    parent = serializers.IntegerField(source="parent_id", allow_null=True)
    position = serializers.IntegerField()
    description = serializers.CharField(help_text="In the site's default locale.")
    translations = serializers.DictField(child=CategoryNameOut(), help_text=NAMES_HELP)


class CategoryCreateIn(StrictInput):
    """A new category."""

    name = serializers.CharField(max_length=120)
    slug = serializers.CharField(max_length=120, required=False, allow_blank=True)
    parent = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_ID
    )
    description = serializers.CharField(required=False, allow_blank=True)
    translations = names_in(CategoryNameIn())


class CategoryUpdateIn(StrictInput):
    """Fields of a category to change."""

    name = serializers.CharField(max_length=120, required=False)
    slug = serializers.CharField(max_length=120, required=False, allow_blank=True)
    parent = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=MAX_ID,
        help_text="Move under this category; null moves it to the top level.",
    )
    description = serializers.CharField(required=False, allow_blank=True)
    translations = names_in(CategoryNameIn(), replaces=True)


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
class CategoryViewSet(ApiViewSetMixin, viewsets.GenericViewSet):
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
            translations=data.get("translations"),
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
            to_top_level="parent" in data and data["parent"] is None,
            description=data.get("description"),
            translations=data.get("translations"),
            actor=request.user,
        )
        return Response(CategoryOut(category).data)

    def destroy(self, request: Request, pk: str) -> Response:
        services.category_delete(category_id=self.get_object().pk, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# -- tags --------------------------------------------------------------------------


class TagCreateIn(StrictInput):
    """A tag; the existing tag (unchanged) when one has the same slug."""

    name = serializers.CharField(max_length=80)
    slug = serializers.CharField(max_length=80, required=False, allow_blank=True)
    translations = names_in(TagNameIn())


class TagUpdateIn(StrictInput):
    """Fields of a tag to change."""

    name = serializers.CharField(max_length=80, required=False)
    slug = serializers.CharField(
        max_length=80, required=False, allow_blank=True, help_text="Empty: made from the name."
    )
    translations = names_in(TagNameIn(), replaces=True)


@extend_schema_view(
    list=extend_schema(summary="List tags", responses=TagOut(many=True)),
    retrieve=extend_schema(summary="Get a tag", responses=TagOut),
    create=extend_schema(
        summary="Create a tag (or get the one with the same slug)",
        request=TagCreateIn,
        responses=TagOut,
    ),
    partial_update=extend_schema(summary="Change a tag", request=TagUpdateIn, responses=TagOut),
    destroy=extend_schema(summary="Delete a tag", responses={204: None}),
)
class TagViewSet(ApiViewSetMixin, viewsets.GenericViewSet):
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
            translations=serializer.validated_data.get("translations"),
            actor=request.user,
        )
        return Response(TagOut(tag).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        tag = self.get_object()
        serializer = TagUpdateIn(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        tag = services.tag_update(
            tag_id=tag.pk,
            name=data.get("name"),
            # Not given: kept, as a category's is (the service would make it from a new name).
            slug=data.get("slug", tag.slug),
            translations=data.get("translations"),
            actor=request.user,
        )
        return Response(TagOut(tag).data)

    def destroy(self, request: Request, pk: str) -> Response:
        services.tag_delete(tag_id=self.get_object().pk, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
