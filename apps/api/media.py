"""/api/v1/media/: images and their alt text per locale, written through content's services."""

from __future__ import annotations

import json
from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from apps.content import selectors, services

from .serializers import StrictInput
from .viewsets import ApiViewSetMixin


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
class MediaViewSet(ApiViewSetMixin, viewsets.GenericViewSet):
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
