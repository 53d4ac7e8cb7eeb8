"""/api/v1/commerce/carts/...: carts and their checkout for headless storefronts.

A cart is addressed by its token: whoever holds the token owns the cart (a storefront keeps
it for its shopper), so these endpoints take no login and no CSRF token (no authentication
at all: DRF's session authentication would demand CSRF from a signed-in browser). An
unknown or malformed token is a 404, and so is another site's token (carts live in the
site's schema). Only visitors' carts are found by token: a customer's cart belongs to the
storefront's session, never to a token. Once the cart is found, the answer (refusals
included: "Only 2 left.") is in the cart's locale where the platform has a translation.

Every read goes through commerce's selectors (``cart_view``, ``checkout_pricing``) and
every write is one call of a cart or checkout service per change, with no transaction
here. A ``PATCH`` of the checkout with several fields checks all of them (shapes,
addresses, the shipping method offered for the address) before it changes any, then
applies each through its own service. Placing the order is one call of
``checkout_place_order``: 402 declined, 503 with ``Retry-After`` when the card service is
away, 409 when the hold expired, the stock or the voucher's last use went elsewhere.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from django.utils import translation
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from apps.commerce import carts, checkout_selectors, selectors
from apps.commerce import checkout as checkout_services
from apps.commerce.addresses import clean_address
from apps.commerce.errors import (
    CartLineNotFound,
    CartNotFound,
    CheckoutIncomplete,
    CheckoutNotFound,
    CommerceInvalid,
    VariantNotFound,
    VoucherNotApplicable,
    located,
)
from apps.commerce.money import round_amount
from apps.commerce.placement import checkout_place_order
from apps.tenancy.selectors import current_locales

from . import cart_serializers as io
from .exceptions import PayloadTooLarge
from .order_serializers import OrderStateOut
from .parsers import BoundedJSONParser
from .viewsets import ApiViewSetMixin

ZERO = Decimal(0)
# A cart's requests are small (an address is the largest part): anything bigger is refused
# before it is parsed.
MAX_BODY_BYTES = 32 * 1024

TOKEN = OpenApiParameter(
    "token", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The cart's token."
)
VARIANT = OpenApiParameter(
    "variant", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The line's variant."
)


def _validated(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _cart(token: str):
    """The visitor's cart of ``token``; ``CartNotFound`` (404) for any other token. The rest
    of the request speaks the cart's language (its messages are the shopper's to read)."""
    try:
        token = UUID(token)
    except ValueError:
        raise CartNotFound(_("No such cart.")) from None
    cart = carts.cart_for(token=token, customer_id=None, currency="", locale="", create=False)
    if cart is None:
        raise CartNotFound(_("No such cart."))
    translation.activate(cart.locale)
    return cart


def _cart_out(cart) -> dict[str, Any]:
    view = selectors.cart_view(cart.pk, currency=cart.currency, locale=cart.locale)
    return io.CartOut(
        {
            "token": cart.token,
            "currency": cart.currency,
            "locale": cart.locale,
            "lines": view.lines,
            "count": view.count,
            "subtotal": view.subtotal,
            "can_checkout": view.can_checkout,
        }
    ).data


# -- the checkout's view ---------------------------------------------------------------------


def _shipping_choices(checkout, totals) -> list[dict[str, Any]]:
    """The methods offered for the checkout's address, priced for its cart (free over their
    threshold of the discounted subtotal, as the totals judge it)."""
    country = (checkout.shipping_address or {}).get("country")
    currency, locale = totals.currency, checkout.cart.locale
    spent = totals.subtotal - totals.discount
    choices = []
    for option in checkout_selectors.shipping_options(country, currency):
        free_over = option.rate.free_over
        free = free_over is not None and spent >= free_over
        choices.append(
            {
                "id": option.method.pk,
                "name": option.method.name_in(locale),
                "price": round_amount(ZERO if free else option.rate.price, currency),
                "free": free,
                "free_over": round_amount(free_over, currency) if free_over is not None else None,
            }
        )
    return choices


def _totals(pricing) -> dict[str, Any]:
    """The checkout's totals and each line's, every amount in the currency's places."""
    totals = pricing.totals

    def money(amount: Decimal) -> Decimal:
        return round_amount(amount, totals.currency)

    by_id = {line.id: line for line in pricing.lines}
    lines = []
    for priced in totals.lines:
        line = by_id[priced.key]
        lines.append(
            {
                "variant": line.variant_id,
                "sku": line.sku,
                "product_title": line.product_title,
                "variant_title": line.variant_title,
                "quantity": priced.quantity,
                "unit_price": money(priced.unit_price),
                "subtotal": money(priced.subtotal),
                "discount": money(priced.discount),
                "tax": money(priced.tax),
                "total": money(priced.gross),
            }
        )
    shipping = totals.shipping
    return {
        "currency": totals.currency, "prices_include_tax": totals.prices_include_tax,
        "tax_rate": totals.tax_rate, "lines": lines, "subtotal": money(totals.subtotal),
        "discount": money(totals.discount),
        "shipping": money(shipping.gross if shipping else ZERO),
        "shipping_tax": money(shipping.tax if shipping else ZERO), "tax": money(totals.tax),
        "total": money(totals.total),
    }  # fmt: skip


def _checkout_out(checkout) -> dict[str, Any]:
    pricing = checkout_selectors.checkout_pricing(checkout)
    choices = _shipping_choices(checkout, pricing.totals)
    chosen = next((item for item in choices if item["id"] == checkout.shipping_method_id), None)
    voucher = checkout.voucher
    return io.CheckoutOut(
        {
            "token": checkout.cart.token,
            "email": checkout.email,
            "shipping_address": checkout.shipping_address or None,
            "billing_address": checkout.billing_address or None,
            "shipping_method": chosen,
            "shipping_methods": choices,
            "voucher": {"code": voucher.code, "applied": pricing.voucher_applied}
            if voucher is not None
            else None,
            "reserved_until": checkout.reserved_until,
            "totals": _totals(pricing),
        }
    ).data


def _checkout_answer(checkout_id) -> Response:
    return Response(_checkout_out(checkout_selectors.checkout_get(checkout_id)))


# -- the checkout's changes ------------------------------------------------------------------


def _addresses(data: dict[str, Any], current) -> tuple[dict, dict | None] | None:
    """The (shipping, billing) addresses a PATCH asks for, each checked for its country, or
    None when it names neither. What it leaves out stays as ``current`` (the checkout, None
    before it starts) has it; a billing address of null is the shipping address."""
    if "shipping_address" not in data and "billing_address" not in data:
        return None
    errors: dict[str, str] = {}
    shipping = (current.shipping_address or None) if current is not None else None
    billing = current.billing_address if current is not None else None
    for field, given in (
        ("shipping_address", data.get("shipping_address")),
        ("billing_address", data.get("billing_address")),
    ):
        if given is None:
            continue
        try:
            cleaned = clean_address(given)
        except CommerceInvalid as error:
            errors.update(located(error, field).errors)
            continue
        if field == "shipping_address":
            shipping = cleaned
        else:
            billing = cleaned
    if "billing_address" in data and data["billing_address"] is None:
        billing = None
    if errors:
        raise CommerceInvalid(errors)
    if shipping is None:
        raise CheckoutIncomplete(_("Enter the shipping address first."))
    return shipping, billing


def _check_offered(method_id: int, *, country: str | None, currency: str) -> None:
    """The shipping method is offered for ``country`` (the checkout's service checks it again
    when it is set; checked here first so that a refused PATCH changes nothing)."""
    if not country:
        raise CheckoutIncomplete(_("Enter the shipping address first."))
    offered = {
        option.method.pk for option in checkout_selectors.shipping_options(country, currency)
    }
    if method_id not in offered:
        raise CommerceInvalid(
            {"shipping_method": _("choose one of the methods offered for your address")}
        )


def _started(cart):
    """The id of the cart's checkout, started now if it has none (an empty cart: 409)."""
    found = checkout_selectors.checkout_of_cart(cart.pk)
    if found is not None:
        return found.pk
    return checkout_services.checkout_start(cart_id=cart.pk).pk


def _existing(cart):
    """The cart's checkout; a cart without one has not done the checkout's steps (409)."""
    found = checkout_selectors.checkout_of_cart(cart.pk)
    if found is None:
        raise CheckoutIncomplete(_("The checkout is not complete yet."))
    return found


# -- the views -------------------------------------------------------------------------------


@extend_schema_view(
    create=extend_schema(
        summary="Start a cart (keep its token: it is the only way back to the cart)",
        request=io.CartCreateIn,
        responses={201: io.CartOut},
    ),
    retrieve=extend_schema(
        summary="Get a cart: lines with titles, prices and availability, the subtotal",
        parameters=[TOKEN],
        responses=io.CartOut,
    ),
    lines=extend_schema(
        summary="Add a variant to the cart (to its line when it has one)",
        parameters=[TOKEN],
        request=io.CartLineAddIn,
        responses=io.CartOut,
    ),
    checkout=extend_schema(parameters=[TOKEN]),
)
class CartViewSet(ApiViewSetMixin, viewsets.ViewSet):
    # A storefront's carts, addressed by token; see the module's docstring. (A comment, not a
    # docstring: the schema would show it on every operation.)

    authentication_classes: list = []
    permission_classes = [AllowAny]
    parser_classes = [BoundedJSONParser]
    lookup_field = "token"
    lookup_value_regex = "[^/]+"
    # apps.api.schema: no 403 (no login, no permission), a 413 past the cap, and these answers.
    public_access = True
    max_body_bytes = MAX_BODY_BYTES
    conflict_actions = ("lines", "line", "checkout", "voucher", "reserve", "place")
    problem_responses = {
        "place": {
            "402": "The card was declined; the cart and its held stock are kept.",
            "503": "The card service is unavailable (nothing was charged), or the platform is "
            "catching up: retry after Retry-After seconds.",
        },
    }

    def dispatch(self, request, *args: Any, **kwargs: Any):
        # The cart's language is active from the moment the cart is found (``_cart``) until
        # the answer is made, and never beyond this request.
        with translation.override(translation.get_language()):
            return super().dispatch(request, *args, **kwargs)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > MAX_BODY_BYTES:
            raise PayloadTooLarge(
                _("A cart's request is at most %(size)d kB.") % {"size": MAX_BODY_BYTES // 1024}
            )

    def create(self, request: Request) -> Response:
        data = _validated(io.CartCreateIn, request)
        locales = current_locales()
        locale = data.get("locale") or locales[0]
        if locale not in locales:
            raise CommerceInvalid(
                {"locale": _("the site is not in %(locale)s") % {"locale": locale}}
            )
        currency = data.get("currency") or selectors.store_settings().default_currency
        cart = carts.cart_for(
            token=None, customer_id=None, currency=currency, locale=locale, create=True
        )
        translation.activate(cart.locale)
        return Response(_cart_out(cart), status=status.HTTP_201_CREATED)

    def retrieve(self, request: Request, token: str) -> Response:
        return Response(_cart_out(_cart(token)))

    @action(detail=True, methods=["post"])
    def lines(self, request: Request, token: str) -> Response:
        cart = _cart(token)
        data = _validated(io.CartLineAddIn, request)
        try:
            carts.cart_add(cart_id=cart.pk, variant_id=data["variant"], quantity=data["quantity"])
        except VariantNotFound as error:
            raise serializers.ValidationError({"variant": [str(error.detail)]}) from None
        return Response(_cart_out(cart))

    @extend_schema(
        methods=["PATCH"],
        summary="Change a line's quantity (0 removes it)",
        parameters=[TOKEN, VARIANT],
        request=io.CartLineUpdateIn,
        responses=io.CartOut,
    )
    @extend_schema(
        methods=["DELETE"],
        summary="Remove a line",
        parameters=[TOKEN, VARIANT],
        responses={204: None},
    )
    @action(
        detail=True, methods=["patch", "delete"], url_path=r"lines/(?P<variant>[^/]+)",
        url_name="line",
    )  # fmt: skip
    def line(self, request: Request, token: str, variant: str) -> Response:
        cart = _cart(token)
        if request.method == "DELETE":
            if not carts.cart_remove(cart_id=cart.pk, variant_id=variant):
                raise CartLineNotFound(_("This item is not in the cart."))
            return Response(status=status.HTTP_204_NO_CONTENT)
        data = _validated(io.CartLineUpdateIn, request)
        carts.cart_set_quantity(cart_id=cart.pk, variant_id=variant, quantity=data["quantity"])
        return Response(_cart_out(cart))

    @extend_schema(
        methods=["GET"],
        summary="The cart's checkout: email, addresses, shipping, voucher, totals with tax",
        description="404 (checkout_not_found) until a PATCH starts it.",
        responses=io.CheckoutOut,
    )
    @extend_schema(
        methods=["PATCH"],
        summary="Start or change the checkout: email, addresses, shipping method",
        description="Every field given is checked before any is changed; the fields left "
        "out stay as they are. A new country drops a shipping method it does not offer.",
        request=io.CheckoutUpdateIn,
        responses=io.CheckoutOut,
    )
    @action(detail=True, methods=["get", "patch"])
    def checkout(self, request: Request, token: str) -> Response:
        cart = _cart(token)
        if request.method == "GET":
            found = checkout_selectors.checkout_of_cart(cart.pk)
            if found is None:
                raise CheckoutNotFound(_("This cart's checkout has not started yet."))
            return Response(_checkout_out(found))
        data = _validated(io.CheckoutUpdateIn, request)
        found = checkout_selectors.checkout_of_cart(cart.pk)
        addresses = _addresses(data, found)
        method_id = data.get("shipping_method")
        if method_id is not None:
            address = addresses[0] if addresses else (found.shipping_address if found else None)
            _check_offered(
                method_id, country=(address or {}).get("country"), currency=cart.currency
            )
        checkout_id = found.pk if found is not None else _started(cart)
        if "email" in data:
            checkout_services.checkout_set_email(checkout_id=checkout_id, email=data["email"])
        if addresses is not None:
            checkout_services.checkout_set_address(
                checkout_id=checkout_id, address=addresses[0], billing_address=addresses[1]
            )
        if method_id is not None:
            checkout_services.checkout_set_shipping(checkout_id=checkout_id, method_id=method_id)
        return _checkout_answer(checkout_id)

    @extend_schema(
        methods=["POST"],
        summary="Apply a voucher to the checkout",
        parameters=[TOKEN],
        request=io.VoucherIn,
        responses=io.CheckoutOut,
    )
    @extend_schema(
        methods=["DELETE"],
        summary="Remove the checkout's voucher",
        parameters=[TOKEN],
        responses={200: io.CheckoutOut},
    )
    @action(detail=True, methods=["post", "delete"], url_path="checkout/voucher")
    def voucher(self, request: Request, token: str) -> Response:
        cart = _cart(token)
        if request.method == "DELETE":
            checkout_id = _existing(cart).pk
            checkout_services.checkout_remove_voucher(checkout_id=checkout_id)
            return _checkout_answer(checkout_id)
        data = _validated(io.VoucherIn, request)
        checkout_id = _started(cart)
        try:
            checkout_services.checkout_apply_voucher(
                checkout_id=checkout_id, code=data["code"], customer_id=None
            )
        except VoucherNotApplicable as refused:
            # Located on the field, with the refusal's own code (voucher_not_applicable).
            refused.errors = {"code": refused.detail}
            raise
        return _checkout_answer(checkout_id)

    @extend_schema(
        summary="Hold the cart's stock for the payment (until reserved_until)",
        parameters=[TOKEN],
        request=None,
        responses=io.CheckoutOut,
    )
    @action(detail=True, methods=["post"], url_path="checkout/reserve")
    def reserve(self, request: Request, token: str) -> Response:
        checkout_id = _existing(_cart(token)).pk
        checkout_services.checkout_reserve(checkout_id=checkout_id)
        return _checkout_answer(checkout_id)

    @extend_schema(
        summary="Pay and place the order (the cart is gone afterwards)",
        parameters=[TOKEN],
        request=io.PlaceOrderIn,
        responses={201: OrderStateOut},
    )
    @action(detail=True, methods=["post"], url_path="checkout/place")
    def place(self, request: Request, token: str) -> Response:
        cart = _cart(token)
        data = _validated(io.PlaceOrderIn, request)
        card = data.get("card")
        order = checkout_place_order(
            checkout_id=_existing(cart).pk, provider_code=data["provider"],
            card=dict(card) if card is not None else None,
        )  # fmt: skip
        return Response(OrderStateOut(order).data, status=status.HTTP_201_CREATED)
