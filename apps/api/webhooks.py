"""/api/v1/webhooks/: the tenant's webhook endpoints and their deliveries.

Thin: every write is a call to ``apps.webhooks.services``; refusals are its typed errors
(an unsafe URL is a 422, mapped in ``apps.api.exceptions``). The signing secret appears in
the answers of create and rotate-secret only.
"""

from __future__ import annotations

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.webhooks import selectors, services

from .filters import IdFilter
from .serializers import StrictInput
from .viewsets import ApiViewSetMixin

EVENT_TYPES_HELP = "Exact types (commerce.order.placed), prefixes (commerce.*) or * for all."


class EndpointOut(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.CharField()
    description = serializers.CharField()
    event_types = serializers.ListField(child=serializers.CharField(), help_text=EVENT_TYPES_HELP)
    is_active = serializers.BooleanField()
    disabled_reason = serializers.CharField(help_text="Why the platform disabled it, if it did.")
    created_at = serializers.DateTimeField()


class EndpointWithSecretOut(EndpointOut):
    secret = serializers.CharField(
        help_text="whsec_...: the signing key; shown only in this answer."
    )


class EndpointCreateIn(StrictInput):
    """A new endpoint."""

    url = serializers.CharField(max_length=2000)
    event_types = serializers.ListField(
        child=serializers.CharField(max_length=100), max_length=50, help_text=EVENT_TYPES_HELP
    )
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False, default=True)


class EndpointUpdateIn(StrictInput):
    """Fields of an endpoint to change; ``is_active: true`` enables a disabled endpoint."""

    url = serializers.CharField(max_length=2000, required=False)
    event_types = serializers.ListField(
        child=serializers.CharField(max_length=100), max_length=50, required=False,
        help_text=EVENT_TYPES_HELP,
    )  # fmt: skip
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False)


def _with_secret(endpoint, secret: str) -> dict:
    return {**EndpointOut(endpoint).data, "secret": secret}


@extend_schema_view(
    list=extend_schema(summary="List webhook endpoints", responses=EndpointOut(many=True)),
    retrieve=extend_schema(summary="Get a webhook endpoint", responses=EndpointOut),
    create=extend_schema(
        summary="Register a webhook endpoint (the answer shows its secret once)",
        request=EndpointCreateIn, responses={201: EndpointWithSecretOut},
    ),
    partial_update=extend_schema(
        summary="Change a webhook endpoint", request=EndpointUpdateIn, responses=EndpointOut
    ),
    destroy=extend_schema(summary="Delete a webhook endpoint", responses={204: None}),
    rotate_secret=extend_schema(
        summary="Replace the endpoint's signing secret (the answer shows it once)",
        description="The previous secret signs as well (a second signature) for a day, so the "
        "receiver can switch without missing a delivery.",
        request=None, responses=EndpointWithSecretOut,
    ),
)  # fmt: skip
class EndpointViewSet(ApiViewSetMixin, viewsets.GenericViewSet):
    action_permissions = {"rotate_secret": "change"}
    ordering_fields = ("created_at",)
    ordering = ("-created_at",)

    def get_queryset(self):
        return selectors.endpoints()

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(EndpointOut(page, many=True).data)

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(EndpointOut(self.get_object()).data)

    def create(self, request: Request) -> Response:
        serializer = EndpointCreateIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        endpoint, secret = services.endpoint_create(
            url=data["url"], event_types=data["event_types"],
            description=data.get("description", ""), is_active=data["is_active"],
        )  # fmt: skip
        return Response(_with_secret(endpoint, secret), status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        endpoint = self.get_object()
        serializer = EndpointUpdateIn(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        endpoint = services.endpoint_update(
            endpoint_id=endpoint.pk, url=data.get("url"), event_types=data.get("event_types"),
            description=data.get("description"), is_active=data.get("is_active"),
        )  # fmt: skip
        return Response(EndpointOut(endpoint).data)

    def destroy(self, request: Request, pk: str) -> Response:
        services.endpoint_delete(endpoint_id=self.get_object().pk)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request: Request, pk: str) -> Response:
        endpoint, secret = services.endpoint_rotate_secret(endpoint_id=self.get_object().pk)
        return Response(_with_secret(endpoint, secret))


class AttemptOut(serializers.Serializer):
    number = serializers.IntegerField()
    started_at = serializers.DateTimeField()
    status_code = serializers.IntegerField(allow_null=True)
    latency_ms = serializers.IntegerField()
    response_excerpt = serializers.CharField(help_text="The first kilobyte of the answer.")
    error = serializers.CharField()


class DeliveryOut(serializers.Serializer):
    id = serializers.IntegerField()
    endpoint = serializers.IntegerField(source="endpoint_id")
    message_id = serializers.CharField(
        help_text="The webhook-id header, the same on every attempt."
    )
    event_id = serializers.UUIDField()
    event_type = serializers.CharField()
    status = serializers.CharField()
    attempts = serializers.IntegerField()
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    last_status_code = serializers.IntegerField(allow_null=True)
    last_error = serializers.CharField()
    created_at = serializers.DateTimeField()
    delivered_at = serializers.DateTimeField(allow_null=True)


class DeliveryDetailOut(DeliveryOut):
    payload = serializers.JSONField()
    attempt_log = AttemptOut(many=True, source="attempt_list")


class DeliveryFilter(filters.FilterSet):
    endpoint = IdFilter(field_name="endpoint_id", help_text="Deliveries to this endpoint.")
    status = filters.ChoiceFilter(
        choices=[("pending", "pending"), ("delivered", "delivered"), ("failed", "failed")]
    )


@extend_schema_view(
    list=extend_schema(summary="List webhook deliveries", responses=DeliveryOut(many=True)),
    retrieve=extend_schema(
        summary="Get a webhook delivery with its attempts", responses=DeliveryDetailOut
    ),
    redeliver=extend_schema(
        summary="Send a delivery again (a new attempt, the same webhook-id)",
        request=None, responses={202: DeliveryOut},
    ),
)  # fmt: skip
class DeliveryViewSet(ApiViewSetMixin, viewsets.GenericViewSet):
    filterset_class = DeliveryFilter
    action_permissions = {"redeliver": "change"}
    ordering_fields = ("created_at",)
    ordering = ("-created_at",)

    def get_queryset(self):
        return selectors.deliveries()

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(DeliveryOut(page, many=True).data)

    def retrieve(self, request: Request, pk: str) -> Response:
        delivery = self.get_object()
        delivery.attempt_list = list(selectors.attempts(delivery.pk))
        return Response(DeliveryDetailOut(delivery).data)

    @action(detail=True, methods=["post"])
    def redeliver(self, request: Request, pk: str) -> Response:
        delivery = services.delivery_redeliver(delivery_id=self.get_object().pk)
        return Response(DeliveryOut(delivery).data, status=status.HTTP_202_ACCEPTED)
