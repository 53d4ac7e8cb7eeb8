"""/api/v1/commerce/...: the catalog and the stock of a store, written through commerce's services.

Every read goes through ``apps.commerce.selectors`` and every write is one call of a
function of ``apps.commerce.services`` (which validates, locks and publishes); nothing
here opens a transaction. The product status actions are derived from
``PRODUCT_TRANSITIONS``. Ids that a request body names (a variant's product, the variant
and location of a stock write) are 400s with the field's name when unknown; ids in the
URL are 404s.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import Http404
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.commerce import selectors, services
from apps.commerce.errors import (
    LocationNotFound,
    ProductNotFound,
    VariantNotFound,
)
from apps.commerce.services import PRODUCT_TRANSITIONS
from apps.core.images import IMAGE_MAX_BYTES

from . import commerce_serializers as io
from .exceptions import PayloadTooLarge
from .filters import IdFilter
from .permissions import PublishedOnlyForPublishableKeys
from .schema import ProblemSerializer
from .viewsets import ApiViewSetMixin

CURRENCY_PARAMETER = OpenApiParameter(
    "currency",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    pattern=io.CURRENCY_PATTERN,
    description="An ISO 4217 currency code enabled for the store, e.g. 'EUR'.",
)


def _unknown_as_field_error(call: Callable[[], Any], **fields: type[Exception]) -> Any:
    """Run ``call``; a referenced object that does not exist is a 400 on the field naming it."""
    try:
        return call()
    except tuple(fields.values()) as error:
        name = next(name for name, kind in fields.items() if isinstance(error, kind))
        raise serializers.ValidationError({name: [str(error.detail)]}) from None


def _validated(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


# -- products ----------------------------------------------------------------------------------


class ProductFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=io.PRODUCT_STATUSES)
    vendor = filters.CharFilter(help_text="Exact vendor.")
    product_type = filters.CharFilter(help_text="Exact product type.")
    category = filters.CharFilter(field_name="categories__handle", help_text="Category handle.")
    collection = filters.CharFilter(
        field_name="collections__handle", help_text="Collection handle."
    )
    sku = filters.CharFilter(field_name="variants__sku", help_text="Has a variant with this SKU.")


def _product_views():
    transitions = {
        t.action: extend_schema(
            summary=f"{t.label} ({' | '.join(sorted(t.sources))} -> {t.target})",
            request=None,
            responses=io.ProductOut,
        )
        for t in PRODUCT_TRANSITIONS.by_action.values()
    }
    return extend_schema_view(
        list=extend_schema(summary="List products", responses=io.ProductOut(many=True)),
        retrieve=extend_schema(summary="Get a product", responses=io.ProductOut),
        create=extend_schema(
            summary="Create a product (a draft)",
            request=io.ProductCreateIn,
            responses=io.ProductOut,
        ),
        partial_update=extend_schema(
            summary="Change a product's fields, categories and translations",
            request=io.ProductUpdateIn,
            responses=io.ProductOut,
        ),
        destroy=extend_schema(summary="Delete a product that is not active", responses={204: None}),
        **transitions,
    )


def _product_fields(data: dict[str, Any]) -> dict[str, Any]:
    fields = {name: data[name] for name in services.PRODUCT_FIELDS if name in data}
    if "categories" in data:
        fields["category_ids"] = data["categories"]
    return fields


class ProductViewSet(ApiViewSetMixin, PublishedOnlyForPublishableKeys, viewsets.GenericViewSet):
    # A publishable key sees the products on sale (what the "activate" transition makes).
    public_rows = {"status": PRODUCT_TRANSITIONS.by_action["activate"].target}
    filterset_class = ProductFilter
    ordering_fields = ("created_at", "updated_at", "title", "handle", "status")
    ordering = ("-created_at",)
    action_permissions = {name: "change" for name in PRODUCT_TRANSITIONS.actions}
    conflict_actions = (*PRODUCT_TRANSITIONS.actions, "destroy")

    def get_queryset(self):
        return selectors.products()

    def _out(self, product, **kwargs) -> Any:
        return io.ProductOut(product, context=self.get_serializer_context(), **kwargs).data

    def _answer(self, product_id, status_code: int = status.HTTP_200_OK) -> Response:
        return Response(self._out(selectors.product_get(product_id)), status=status_code)

    def list(self, request: Request) -> Response:
        queryset = self.filter_queryset(self.get_queryset()).distinct()
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self._out(page, many=True))

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(self._out(self.get_object()))

    def create(self, request: Request) -> Response:
        data = _validated(io.ProductCreateIn, request)
        fields = _product_fields(data)
        product = services.product_create(
            data=services.ProductInput(
                **{name: value for name, value in fields.items() if name != "category_ids"},
                category_ids=fields.get("category_ids", []),
            ),
            translations=data.get("translations"),
            actor=request.user,
        )
        return self._answer(product.pk, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        product = self.get_object()
        data = _validated(io.ProductUpdateIn, request)
        services.product_update(
            product_id=product.pk,
            fields=_product_fields(data),
            translations=data.get("translations"),
            delete_locales=data.get("delete_locales", ()),
            actor=request.user,
        )
        return self._answer(product.pk)

    def destroy(self, request: Request, pk: str) -> Response:
        services.product_delete(product_id=self.get_object().pk, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _transition_view(action_name: str):
    def view(self: ProductViewSet, request: Request, pk: str) -> Response:
        product = self.get_object()
        services.product_transition(product_id=product.pk, action=action_name, actor=request.user)
        return self._answer(product.pk)

    view.__name__ = action_name
    view.__doc__ = f"{PRODUCT_TRANSITIONS.get(action_name).label}."
    return action(detail=True, methods=["post"], url_path=action_name, url_name=action_name)(view)


for _action in PRODUCT_TRANSITIONS.actions:
    setattr(ProductViewSet, _action, _transition_view(_action))
ProductViewSet = _product_views()(ProductViewSet)


# -- options -----------------------------------------------------------------------------------


class OptionFilter(filters.FilterSet):
    product = filters.UUIDFilter(field_name="product_id", help_text="Options of this product.")


@extend_schema_view(
    list=extend_schema(summary="List product options", responses=io.OptionOut(many=True)),
    retrieve=extend_schema(summary="Get a product option", responses=io.OptionOut),
    create=extend_schema(
        summary="Add an option to a product (at most three)",
        request=io.OptionCreateIn,
        responses=io.OptionOut,
    ),
    partial_update=extend_schema(
        summary="Rename an option or replace its values",
        request=io.OptionUpdateIn,
        responses=io.OptionOut,
    ),
    destroy=extend_schema(summary="Delete an option", responses={204: None}),
)
class OptionViewSet(ApiViewSetMixin, viewsets.GenericViewSet):
    lock_through = "product"  # If-Match: the product aggregate's lock, as its services take
    filterset_class = OptionFilter
    ordering_fields = ("position", "name")
    ordering = ("product_id", "position")
    conflict_actions = ("partial_update", "destroy")

    def get_queryset(self):
        return selectors.product_options_all()

    def _answer(self, option_id: int, status_code: int = status.HTTP_200_OK) -> Response:
        option = self.get_queryset().filter(pk=option_id).first()
        return Response(io.OptionOut(option).data, status=status_code)

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(io.OptionOut(page, many=True).data)

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(io.OptionOut(self.get_object()).data)

    def create(self, request: Request) -> Response:
        data = _validated(io.OptionCreateIn, request)
        option = _unknown_as_field_error(
            lambda: services.option_create(
                product_id=data["product"],
                name=data["name"],
                values=data["values"],
                actor=request.user,
            ),
            product=ProductNotFound,
        )
        return self._answer(option.pk, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        option = self.get_object()
        data = _validated(io.OptionUpdateIn, request)
        services.option_update(
            option_id=option.pk,
            name=data.get("name"),
            values=data.get("values"),
            actor=request.user,
        )
        return self._answer(option.pk)

    def destroy(self, request: Request, pk: str) -> Response:
        services.option_delete(option_id=self.get_object().pk, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# -- variants and prices -----------------------------------------------------------------------


class VariantFilter(filters.FilterSet):
    product = filters.UUIDFilter(field_name="product_id", help_text="Variants of this product.")
    sku = filters.CharFilter(help_text="Exact SKU.")


def _variant_fields(data: dict[str, Any]) -> dict[str, Any]:
    return {name: data[name] for name in services.VARIANT_FIELDS if name in data}


@extend_schema_view(
    list=extend_schema(summary="List variants", responses=io.VariantOut(many=True)),
    retrieve=extend_schema(summary="Get a variant", responses=io.VariantOut),
    create=extend_schema(
        summary="Add a variant to a product", request=io.VariantCreateIn, responses=io.VariantOut
    ),
    partial_update=extend_schema(
        summary="Change a variant", request=io.VariantUpdateIn, responses=io.VariantOut
    ),
    destroy=extend_schema(summary="Delete a variant", responses={204: None}),
)
class VariantViewSet(ApiViewSetMixin, viewsets.GenericViewSet):
    lock_through = "product"  # If-Match: the product aggregate's lock, as its services take
    filterset_class = VariantFilter
    ordering_fields = ("sku", "position", "created_at", "updated_at")
    ordering = ("sku",)
    action_permissions = {"price": "change"}
    conflict_actions = ("destroy", "price")

    def get_queryset(self):
        return selectors.variants()

    def _answer(self, variant_id, status_code: int = status.HTTP_200_OK) -> Response:
        return Response(io.VariantOut(selectors.variant_get(variant_id)).data, status=status_code)

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(io.VariantOut(page, many=True).data)

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(io.VariantOut(self.get_object()).data)

    def create(self, request: Request) -> Response:
        data = _validated(io.VariantCreateIn, request)
        product_id = data.pop("product")
        variant = _unknown_as_field_error(
            lambda: services.variant_create(
                product_id=product_id,
                data=services.VariantInput(**_variant_fields(data)),
                actor=request.user,
            ),
            product=ProductNotFound,
        )
        return self._answer(variant.pk, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        variant = self.get_object()
        data = _validated(io.VariantUpdateIn, request)
        services.variant_update(variant_id=variant.pk, actor=request.user, **_variant_fields(data))
        return self._answer(variant.pk)

    def destroy(self, request: Request, pk: str) -> Response:
        services.variant_delete(variant_id=self.get_object().pk, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        methods=["PUT"],
        summary="Set the variant's price in a currency",
        parameters=[CURRENCY_PARAMETER],
        request=io.PriceIn,
        responses=io.PriceOut,
    )
    @extend_schema(
        methods=["DELETE"],
        summary="Remove the variant's price in a currency",
        parameters=[CURRENCY_PARAMETER],
        responses={204: None},
    )
    @action(
        detail=True,
        methods=["put", "delete"],
        url_path=r"prices/(?P<currency>[^/]+)",
        url_name="price",
    )
    def price(self, request: Request, pk: str, currency: str) -> Response:
        variant = self.get_object()
        if request.method == "DELETE":
            services.price_delete(variant_id=variant.pk, currency=currency, actor=request.user)
            return Response(status=status.HTTP_204_NO_CONTENT)
        data = _validated(io.PriceIn, request)
        price = services.price_set(
            variant_id=variant.pk,
            currency=currency,
            amount=data["amount"],
            compare_at_amount=data.get("compare_at_amount"),
            actor=request.user,
        )
        return Response(io.PriceOut(price).data)


# -- product images ----------------------------------------------------------------------------

# What a multipart upload may add to the image itself: boundaries, headers, the other fields.
UPLOAD_OVERHEAD = 64 * 1024


class ProductImageFilter(filters.FilterSet):
    product = filters.UUIDFilter(field_name="product_id", help_text="Images of this product.")


@extend_schema_view(
    list=extend_schema(summary="List product images", responses=io.ProductImageOut(many=True)),
    retrieve=extend_schema(summary="Get a product image", responses=io.ProductImageOut),
    create=extend_schema(
        summary="Add an image to a product, after its others (multipart/form-data)",
        description=(
            "`alt_text` is a JSON object (as one form field) or `alt_text.<locale>` fields. "
            f"A body over {IMAGE_MAX_BYTES // (1024 * 1024)} MB is refused with 413."
        ),
        request={"multipart/form-data": io.ProductImageUploadIn},
        responses={
            201: io.ProductImageOut,
            413: OpenApiResponse(ProblemSerializer, description="The upload is too large."),
        },
    ),
    partial_update=extend_schema(
        summary="Change a product image's alt text",
        request=io.ProductImageUpdateIn,
        responses=io.ProductImageOut,
    ),
    destroy=extend_schema(
        summary="Delete a product image (the later ones move up)", responses={204: None}
    ),
    reorder=extend_schema(
        summary="Put a product's images in a new order (all of them, each once)",
        request=io.ProductImagesReorderIn,
        responses=io.ProductImageOut(many=True),
    ),
)
class ProductImageViewSet(ApiViewSetMixin, viewsets.GenericViewSet):
    lock_through = "product"  # If-Match: the product aggregate's lock, as its services take
    filterset_class = ProductImageFilter
    ordering_fields = ("position", "created_at")
    ordering = ("product_id", "position")
    # apps.api.permissions: a new order changes images.
    action_permissions = {"reorder": "change"}

    def get_queryset(self):
        return selectors.product_images_all()

    def _out(self, image, **kwargs) -> Any:
        return io.ProductImageOut(image, context=self.get_serializer_context(), **kwargs).data

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self._out(page, many=True))

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(self._out(self.get_object()))

    def create(self, request: Request) -> Response:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > IMAGE_MAX_BYTES + UPLOAD_OVERHEAD:
            raise PayloadTooLarge(
                _("An image upload is at most %(size)d MB.")
                % {"size": IMAGE_MAX_BYTES // (1024 * 1024)}
            )
        data = _validated(io.ProductImageUploadIn, request)
        image = _unknown_as_field_error(
            lambda: services.product_image_add(
                product_id=data["product"],
                file=data["file"],
                alt_text=data.get("alt_text") or {},
                actor=request.user,
            ),
            product=ProductNotFound,
        )
        return Response(self._out(image), status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        image = self.get_object()
        data = _validated(io.ProductImageUpdateIn, request)
        image = services.product_image_update(
            image_id=image.pk, alt_text=data["alt_text"], actor=request.user
        )
        return Response(self._out(image))

    def destroy(self, request: Request, pk: str) -> Response:
        services.product_image_delete(image_id=self.get_object().pk, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @action(detail=False, methods=["post"])
    def reorder(self, request: Request) -> Response:
        data = _validated(io.ProductImagesReorderIn, request)
        images = _unknown_as_field_error(
            lambda: services.product_images_reorder(
                product_id=data["product"], image_ids=data["image_ids"], actor=request.user
            ),
            product=ProductNotFound,
        )
        return Response(self._out(images, many=True))


# -- collections -------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="List collections", responses=io.CollectionOut(many=True)),
    retrieve=extend_schema(summary="Get a collection", responses=io.CollectionOut),
    create=extend_schema(
        summary="Create a collection", request=io.CollectionCreateIn, responses=io.CollectionOut
    ),
    partial_update=extend_schema(
        summary="Change a collection (and the products it lists)",
        request=io.CollectionUpdateIn,
        responses=io.CollectionOut,
    ),
    destroy=extend_schema(summary="Delete a collection", responses={204: None}),
)
class CollectionViewSet(ApiViewSetMixin, viewsets.GenericViewSet):
    ordering_fields = ("title", "handle", "created_at")
    ordering = ("title",)

    def get_queryset(self):
        return selectors.collections_with_members()

    def _answer(self, collection_id: int, status_code: int = status.HTTP_200_OK) -> Response:
        collection = self.get_queryset().filter(pk=collection_id).first()
        return Response(io.CollectionOut(collection).data, status=status_code)

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(io.CollectionOut(page, many=True).data)

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(io.CollectionOut(self.get_object()).data)

    def create(self, request: Request) -> Response:
        data = _validated(io.CollectionCreateIn, request)
        collection = services.collection_create(
            title=data["title"],
            handle=data.get("handle", ""),
            description=data.get("description", ""),
            product_ids=data.get("products", ()),
            actor=request.user,
        )
        return self._answer(collection.pk, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        collection = self.get_object()
        data = _validated(io.CollectionUpdateIn, request)
        services.collection_change(
            collection_id=collection.pk,
            title=data.get("title"),
            handle=data.get("handle"),
            description=data.get("description"),
            product_ids=data.get("products"),
            actor=request.user,
        )
        return self._answer(collection.pk)

    def destroy(self, request: Request, pk: str) -> Response:
        services.collection_delete(collection_id=self.get_object().pk, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# -- categories --------------------------------------------------------------------------------


class CommerceCategoryFilter(filters.FilterSet):
    parent = IdFilter(field_name="parent_id", help_text="Children of this category.")


@extend_schema_view(
    list=extend_schema(
        summary="List product categories", responses=io.CommerceCategoryOut(many=True)
    ),
    retrieve=extend_schema(summary="Get a product category", responses=io.CommerceCategoryOut),
    create=extend_schema(
        summary="Create a product category",
        request=io.CommerceCategoryCreateIn,
        responses=io.CommerceCategoryOut,
    ),
    partial_update=extend_schema(
        summary="Change or move a product category",
        request=io.CommerceCategoryUpdateIn,
        responses=io.CommerceCategoryOut,
    ),
    destroy=extend_schema(
        summary="Delete a product category (without subcategories)", responses={204: None}
    ),
)
class CommerceCategoryViewSet(ApiViewSetMixin, viewsets.GenericViewSet):
    filterset_class = CommerceCategoryFilter
    ordering_fields = ("position", "name", "handle")
    ordering = ("position", "name")
    conflict_actions = ("destroy",)

    def get_queryset(self):
        return selectors.categories()

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(io.CommerceCategoryOut(page, many=True).data)

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(io.CommerceCategoryOut(self.get_object()).data)

    def create(self, request: Request) -> Response:
        data = _validated(io.CommerceCategoryCreateIn, request)
        category = services.category_create(
            name=data["name"],
            handle=data.get("handle", ""),
            parent_id=data.get("parent"),
            position=data.get("position", 0),
            description=data.get("description", ""),
            actor=request.user,
        )
        return Response(io.CommerceCategoryOut(category).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        category = self.get_object()
        data = _validated(io.CommerceCategoryUpdateIn, request)
        category = services.category_update(
            category_id=category.pk,
            name=data.get("name"),
            handle=data.get("handle"),
            parent_id=data.get("parent"),
            to_top_level="parent" in data and data["parent"] is None,
            position=data.get("position"),
            description=data.get("description"),
            actor=request.user,
        )
        return Response(io.CommerceCategoryOut(category).data)

    def destroy(self, request: Request, pk: str) -> Response:
        services.category_delete(category_id=self.get_object().pk, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# -- locations ---------------------------------------------------------------------------------


class LocationFilter(filters.FilterSet):
    active = filters.BooleanFilter()


@extend_schema_view(
    list=extend_schema(summary="List stock locations", responses=io.LocationOut(many=True)),
    retrieve=extend_schema(summary="Get a stock location", responses=io.LocationOut),
    create=extend_schema(
        summary="Create a stock location", request=io.LocationCreateIn, responses=io.LocationOut
    ),
    partial_update=extend_schema(
        summary="Rename, recode, activate or deactivate a location",
        request=io.LocationUpdateIn,
        responses=io.LocationOut,
    ),
    destroy=extend_schema(summary="Delete a location that never held stock", responses={204: None}),
)
class LocationViewSet(ApiViewSetMixin, viewsets.GenericViewSet):
    filterset_class = LocationFilter
    ordering_fields = ("name", "code", "created_at")
    ordering = ("name",)
    conflict_actions = ("destroy",)

    def get_queryset(self):
        return selectors.locations()

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(io.LocationOut(page, many=True).data)

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(io.LocationOut(self.get_object()).data)

    def create(self, request: Request) -> Response:
        data = _validated(io.LocationCreateIn, request)
        location = services.location_create(
            code=data["code"], name=data["name"], active=data["active"], actor=request.user
        )
        return Response(io.LocationOut(location).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        location = self.get_object()
        data = _validated(io.LocationUpdateIn, request)
        location = services.location_update(
            location_id=location.pk,
            code=data.get("code"),
            name=data.get("name"),
            active=data.get("active"),
            actor=request.user,
        )
        return Response(io.LocationOut(location).data)

    def destroy(self, request: Request, pk: str) -> Response:
        services.location_delete(location_id=self.get_object().pk, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# -- inventory ---------------------------------------------------------------------------------


class StockLevelFilter(filters.FilterSet):
    variant = filters.UUIDFilter(field_name="variant_id", help_text="Stock of this variant.")
    product = filters.UUIDFilter(
        field_name="variant__product_id", help_text="Stock of this product's variants."
    )
    location = IdFilter(field_name="location_id", help_text="Stock at this location.")


@extend_schema_view(
    list=extend_schema(
        summary="List stock levels (per variant and location)",
        responses=io.StockLevelOut(many=True),
    ),
    adjust=extend_schema(
        summary="Adjust the stock of a variant at a location (one adjustment with its reason)",
        request=io.StockAdjustIn,
        responses=io.StockLevelOut,
    ),
    set_on_hand=extend_schema(
        summary="Set the on-hand stock of a variant at a location (a correction)",
        request=io.StockSetIn,
        responses=io.StockLevelOut,
    ),
)
class InventoryViewSet(ApiViewSetMixin, viewsets.GenericViewSet):
    filterset_class = StockLevelFilter
    ordering_fields = ("on_hand", "reserved", "updated_at")
    ordering = ("variant__sku", "location__name")
    # apps.api.permissions: a stock write changes stock levels (creating one if needed).
    action_permissions = {"adjust": "change", "set_on_hand": "change"}
    conflict_actions = ("adjust", "set_on_hand")

    def get_queryset(self):
        return selectors.stock_levels()

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(io.StockLevelOut(page, many=True).data)

    def _answer(self, variant_id, location_id: int) -> Response:
        level = self.get_queryset().filter(variant_id=variant_id, location_id=location_id).first()
        if level is None:  # pragma: no cover - the service has just written it
            raise Http404
        return Response(io.StockLevelOut(level).data)

    @action(detail=False, methods=["post"])
    def adjust(self, request: Request) -> Response:
        data = _validated(io.StockAdjustIn, request)
        _unknown_as_field_error(
            lambda: services.stock_adjust(
                variant_id=data["variant"],
                location_id=data["location"],
                delta=data["delta"],
                reason=data["reason"],
                note=data.get("note", ""),
                actor=request.user,
            ),
            variant=VariantNotFound,
            location=LocationNotFound,
        )
        return self._answer(data["variant"], data["location"])

    @action(detail=False, methods=["post"], url_path="set", url_name="set")
    def set_on_hand(self, request: Request) -> Response:
        data = _validated(io.StockSetIn, request)
        _unknown_as_field_error(
            lambda: services.stock_set(
                variant_id=data["variant"],
                location_id=data["location"],
                on_hand=data["on_hand"],
                note=data.get("note", ""),
                actor=request.user,
            ),
            variant=VariantNotFound,
            location=LocationNotFound,
        )
        return self._answer(data["variant"], data["location"])
