"""/api/v1/commerce/orders/ and /customers/: the store's orders and its customers, for staff
with commerce's permissions.

Orders are placed by the checkout, never here. An order is read as its row (lists, one
order) with its history (its stream), or as it was at a moment (``as-of``, folded from the
stream). It changes through ``POST {id}/transitions/{action}/``, one endpoint per action of
``ORDER_TRANSITIONS`` with the body that action takes, and ``POST {id}/refunds/``; each is
one call of ``apps.commerce.order_payments`` (a refund paid back by the card's provider, a
transfer's payment confirmed; no transaction here), with ``expected_version`` when the
caller gives it (409 when the order moved on), or ``If-Match: "v<version>"`` (412 then:
``conditional.expected_version_precondition``).
"""

from __future__ import annotations

from typing import Any

from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.commerce import order_payments, selectors
from apps.commerce.errors import OrderVersionConflict
from apps.commerce.orders import ORDER_TRANSITIONS

from . import order_serializers as io
from .conditional import expected_version_precondition
from .filters import IdFilter, InstantFilter
from .viewsets import ApiViewSetMixin


def _validated(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class OrderFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=io.ORDER_STATUSES)
    payment_status = filters.ChoiceFilter(choices=io.PAYMENT_STATUSES)
    placed_after = InstantFilter(
        field_name="placed_at", lookup_expr="gte", help_text="Placed at or after (ISO 8601)."
    )
    placed_before = InstantFilter(
        field_name="placed_at", lookup_expr="lt", help_text="Placed before (ISO 8601)."
    )
    email = filters.CharFilter(lookup_expr="iexact", help_text="The buyer's email, any case.")
    customer = IdFilter(field_name="customer_id", help_text="Orders of this customer.")


def _transition_summary(name: str) -> str:
    transition = ORDER_TRANSITIONS.get(name)
    return f"{transition.label} ({' | '.join(sorted(transition.sources))} -> {transition.target})"


def _order_views():
    transitions = {
        f"transition_{name}": extend_schema(
            summary=_transition_summary(name),
            request=io.TRANSITION_INPUTS[name],
            responses=io.OrderDetailOut,
        )
        for name in ORDER_TRANSITIONS.actions
    }
    return extend_schema_view(
        list=extend_schema(summary="List orders (newest first)", responses=io.OrderOut(many=True)),
        retrieve=extend_schema(
            summary="Get an order with its lines and history", responses=io.OrderDetailOut
        ),
        as_of=extend_schema(
            summary="The order as it was at a moment (folded from its stream)",
            parameters=[
                OpenApiParameter(
                    "at",
                    OpenApiTypes.DATETIME,
                    OpenApiParameter.QUERY,
                    required=True,
                    description="ISO 8601. Before the order was placed: 404.",
                )
            ],
            responses=io.OrderAsOfOut,
        ),
        refunds=extend_schema(
            summary="Refund part or all of what was paid (paid, shipped or delivered orders)",
            request=io.RefundIn,
            responses=io.OrderDetailOut,
        ),
        **transitions,
    )


class OrderViewSet(ApiViewSetMixin, viewsets.GenericViewSet):
    filterset_class = OrderFilter
    ordering_fields = ("placed_at", "number", "total")
    ordering = ("-placed_at",)
    # apps.api.permissions: a transition or a refund changes the order.
    action_permissions = {
        **{f"transition_{name}": "change" for name in ORDER_TRANSITIONS.actions},
        "refunds": "change",
    }
    conflict_actions = tuple(action_permissions)
    # apps.api.schema: these POSTs take If-Match (as their expected_version).
    if_match_actions = conflict_actions

    def get_queryset(self):
        return selectors.orders()

    def _detail(self, order_id) -> Response:
        order = selectors.order_get(order_id)
        history = selectors.order_history(order.pk)
        return Response(io.OrderDetailOut(order, context={"history": history}).data)

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(io.OrderOut(page, many=True).data)

    def retrieve(self, request: Request, pk: str) -> Response:
        return self._detail(pk)

    @action(detail=True, methods=["get"], url_path="as-of", url_name="as-of")
    def as_of(self, request: Request, pk: str) -> Response:
        order = selectors.order_get(pk)  # an unknown order is a 404 before a bad time is a 400
        at = _validated(io.AsOfQuery, request.query_params)["at"]
        state = selectors.order_as_of(order.pk, at)
        return Response(io.OrderAsOfOut(state, context={"as_of": at}).data)

    @action(detail=True, methods=["post"])
    def refunds(self, request: Request, pk: str) -> Response:
        order = selectors.order_get(pk)
        data = _validated(io.RefundIn, request.data)
        with expected_version_precondition(
            request, data.get("expected_version"), OrderVersionConflict
        ) as expected_version:
            order_payments.order_refund_with_payment(
                order_id=order.pk, amount=data["amount"], reason=data.get("reason", ""),
                expected_version=expected_version, actor=request.user,
            )  # fmt: skip
        return self._detail(order.pk)


def _transition_view(name: str):
    def view(self: OrderViewSet, request: Request, pk: str) -> Response:
        order = selectors.order_get(pk)
        data = _validated(io.TRANSITION_INPUTS[name], request.data)
        with expected_version_precondition(
            request, data.pop("expected_version", None), OrderVersionConflict
        ) as expected_version:
            order_payments.order_transition_with_payment(
                order_id=order.pk, action=name, expected_version=expected_version,
                actor=request.user, **data,
            )  # fmt: skip
        return self._detail(order.pk)

    view.__name__ = f"transition_{name}"
    view.__doc__ = f"{ORDER_TRANSITIONS.get(name).label}."
    return action(
        detail=True, methods=["post"], url_path=f"transitions/{name}",
        url_name=f"transition-{name.replace('_', '-')}",
    )(view)  # fmt: skip


for _name in ORDER_TRANSITIONS.actions:
    setattr(OrderViewSet, f"transition_{_name}", _transition_view(_name))
OrderViewSet = _order_views()(OrderViewSet)


# -- customers ---------------------------------------------------------------------------------


class CustomerFilter(filters.FilterSet):
    email = filters.CharFilter(lookup_expr="iexact", help_text="The login email, any case.")


@extend_schema_view(
    list=extend_schema(
        summary="List customers (storefront accounts) with their order counts",
        responses=io.CustomerOut(many=True),
    ),
    retrieve=extend_schema(summary="Get a customer", responses=io.CustomerOut),
)
class CustomerViewSet(ApiViewSetMixin, viewsets.GenericViewSet):
    filterset_class = CustomerFilter
    ordering_fields = ("date_joined", "email", "orders_count")
    ordering = ("-date_joined",)

    def get_queryset(self):
        return selectors.customers()

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(io.CustomerOut(page, many=True).data)

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(io.CustomerOut(selectors.customer_get(pk)).data)
