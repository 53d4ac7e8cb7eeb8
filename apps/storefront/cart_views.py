"""The shopper's cart: its page (``/cart/``) and the forms that change it (add from a
product's page, update a quantity, remove a line).

A visitor's cart is found by the token kept in the session (``cart_token``); a signed-in
shopper's by their user id (``apps.commerce.carts.cart_merge_for_login`` hands the visitor's
cart over at sign-in). Each form posts once, with its CSRF token, and is answered with a
redirect to the cart page and a message; input the cart refuses (an unknown variant, a
quantity that is not a number between 1 and 99, more than is left, a product no longer on
sale) gets the shop's themed error page with a 400, 404 or 409 and what to do next, never a
500. Changes go through commerce's cart services, reads through its selectors.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_POST, require_safe

from apps.commerce import carts
from apps.commerce import selectors as commerce
from apps.commerce.errors import CartNotFound
from apps.commerce.selectors import CartLineView, LineAvailability
from apps.core.errors import PlatformError, ValidationFailed
from apps.pages.delivery import ReaderLocale, reader_locale

from .shop_money import chosen_currency, format_money, reader_currency

SESSION_KEY = "cart_token"
MAX_QUANTITY_DIGITS = 6


# -- whose cart -----------------------------------------------------------------------------


def _customer_id(request: HttpRequest) -> int | None:
    user = getattr(request, "user", None)
    return user.pk if user is not None and user.is_authenticated else None


def session_token(request: HttpRequest) -> UUID | None:
    """The visitor's cart token from the session (None when absent or not a UUID)."""
    value = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
    try:
        return UUID(str(value)) if value else None
    except ValueError:
        return None


def _cart(request: HttpRequest):
    """The shopper's cart, or None; a visitor's cart token is kept in the session."""
    found = {"token": session_token(request), "customer_id": _customer_id(request)}
    cart = carts.cart_for(**found, currency="", locale="", create=False)
    visitors = cart is not None and cart.customer_id is None
    if visitors and request.session.get(SESSION_KEY) != str(cart.token):
        request.session[SESSION_KEY] = str(cart.token)
    return cart


def merge_visitor_cart(request: HttpRequest, user, token: UUID | None) -> None:
    """After a login: the visitor's cart (``token``, read before the login changed the
    session) becomes the customer's, or is merged into theirs, quantities added and capped by
    stock; the session forgets the token, the customer's cart is found by their id."""
    if token is None:
        return
    carts.cart_merge_for_login(
        token=token, customer_id=user.pk, currency=reader_currency(request),
        locale=reader_locale(request).current,
    )  # fmt: skip
    request.session.pop(SESSION_KEY, None)


def mini_cart_count(request: HttpRequest) -> int:
    """Units in the shopper's cart for the header: one query, none for a visitor without a
    cart token (the session is not even loaded without its cookie). The cart page passes
    its own count (``cart`` in the template's context) instead."""
    customer_id = _customer_id(request)
    token = None if customer_id is not None else session_token(request)
    if customer_id is None and token is None:
        return 0
    return commerce.cart_count_for(token=token, customer_id=customer_id)


# -- input ----------------------------------------------------------------------------------


class _BadInput(ValidationFailed):
    status = 400


def _quantity(value: str | None, *, default: int | None = None) -> int:
    """A form's quantity: digits only (the services check the range)."""
    text = (value or "").strip()
    if not text and default is not None:
        return default
    if not text.isdigit() or len(text) > MAX_QUANTITY_DIGITS:
        raise _BadInput(
            gettext("Enter a quantity between 0 and %(count)d.")
            % {"count": carts.MAX_LINE_QUANTITY}
        )
    return int(text)


def _cart_url(request: HttpRequest) -> str:
    return reverse("cart:page") + reader_locale(request).query


def _refused(
    request: HttpRequest, error: PlatformError, *, back: str | None = None
) -> HttpResponse:
    """The shop's themed error page for what the cart refused (400, 404 or 409)."""
    status = 400 if isinstance(error, ValidationFailed) else error.status
    locale = reader_locale(request)
    detail = error.detail
    if getattr(error, "errors", None):
        detail = "; ".join(str(message) for message in error.errors.values())
    context = {
        "locale": locale,
        "status": status,
        "detail": str(detail),
        "back_url": back,
        "cart_url": _cart_url(request),
        "shop_url": reverse("shop:index") + locale.query,
        "noindex": True,
    }
    response = render(request, "shop/cart_refused.html", context, status=status)
    response["X-Robots-Tag"] = "noindex"
    return response


def _back_to_product(request: HttpRequest) -> str | None:
    """The product page the form was posted from (a local path only)."""
    referer = request.POST.get("next") or ""
    return referer if referer.startswith("/shop/") and "//" not in referer else None


# -- the page -------------------------------------------------------------------------------


FLAG_MESSAGES = {
    LineAvailability.UNAVAILABLE: lambda line: gettext("This product is no longer on sale."),
    LineAvailability.NO_PRICE: lambda line: gettext("This item cannot be bought in this currency."),
    LineAvailability.OUT_OF_STOCK: lambda line: gettext("Out of stock."),
    LineAvailability.EXCEEDS_STOCK: lambda line: ngettext(
        "Only %(count)d left: lower the quantity.", "Only %(count)d left: lower the quantity.",
        line.available,
    ) % {"count": line.available},
    LineAvailability.LOW: lambda line: ngettext(
        "Only %(count)d left", "Only %(count)d left", line.available
    ) % {"count": line.available},
}  # fmt: skip


def _line(line: CartLineView, currency: str, locale: ReaderLocale) -> dict[str, Any]:
    def money(amount):
        return format_money(amount, currency, locale.current) if amount is not None else None

    note = FLAG_MESSAGES.get(line.availability)
    return {
        "line": line,
        "url": reverse("shop:product", args=[line.product_handle])
        + (locale.query or "?")
        + ("&" if locale.query else "")
        + f"variant={line.variant_id}",
        "unit_price": money(line.unit_price),
        "compare_at": money(line.compare_at),
        "total": money(line.total),
        "flagged": not line.purchasable,
        "note": note(line) if note else "",
    }


@require_safe
def cart_page(request: HttpRequest) -> HttpResponse:
    locale = reader_locale(request)
    cart = _cart(request)
    currency = cart.currency if cart is not None else reader_currency(request)
    view = commerce.cart_view(
        cart.pk if cart is not None else None, currency=currency, locale=locale.current
    )
    context = {
        "locale": locale,
        "lang_query": locale.query,
        "cart": view,
        "lines": [_line(line, currency, locale) for line in view.lines],
        "subtotal": format_money(view.subtotal, currency, locale.current),
        "max_quantity": carts.MAX_LINE_QUANTITY,
        "shop_url": reverse("shop:index") + locale.query,
        "checkout_url": "/checkout/" + locale.query,
        "noindex": True,
    }
    response = render(request, "shop/cart.html", context)
    response["X-Robots-Tag"] = "noindex"
    response["Cache-Control"] = "private, no-store"
    return response


# -- the forms ------------------------------------------------------------------------------


@require_POST
def cart_add(request: HttpRequest) -> HttpResponse:
    back = _back_to_product(request)
    variant_id = request.POST.get("variant", "")
    try:
        quantity = _quantity(request.POST.get("quantity"), default=1)
        cart = _cart(request)
        if cart is None:
            # The first item: the cart and its line in one go (a refused item leaves no cart).
            customer_id = _customer_id(request)
            line = carts.cart_start(
                customer_id=customer_id, currency=reader_currency(request),
                locale=reader_locale(request).current, variant_id=variant_id, quantity=quantity,
            )  # fmt: skip
            if customer_id is None:
                request.session[SESSION_KEY] = str(line.cart.token)
        else:
            currency = chosen_currency(request)
            if currency is not None and cart.currency != currency:
                cart = carts.cart_set_currency(cart_id=cart.pk, currency=currency)
            line = carts.cart_add(cart_id=cart.pk, variant_id=variant_id, quantity=quantity)
    except PlatformError as error:
        return _refused(request, error, back=back)
    messages.success(
        request,
        ngettext(
            "Added %(count)d item to your cart (%(total)d in all).",
            "Added %(count)d items to your cart (%(total)d in all).",
            quantity,
        )
        % {"count": quantity, "total": line.quantity},
    )
    return HttpResponseRedirect(_cart_url(request))


@require_POST
def cart_update(request: HttpRequest) -> HttpResponse:
    try:
        quantity = _quantity(request.POST.get("quantity"))
        cart = _cart(request)
        if cart is None:
            raise CartNotFound(gettext("Your cart is empty."))
        line = carts.cart_set_quantity(
            cart_id=cart.pk, line_id=request.POST.get("line", ""), quantity=quantity
        )
    except PlatformError as error:
        return _refused(request, error)
    messages.success(
        request,
        gettext("Quantity updated.") if line is not None else gettext("Removed from your cart."),
    )
    return HttpResponseRedirect(_cart_url(request))


@require_POST
def cart_remove(request: HttpRequest) -> HttpResponse:
    try:
        cart = _cart(request)
        if cart is None:
            raise CartNotFound(gettext("Your cart is empty."))
        removed = carts.cart_remove(cart_id=cart.pk, variant_id=request.POST.get("variant", ""))
    except PlatformError as error:
        return _refused(request, error)
    if removed:
        messages.success(request, gettext("Removed from your cart."))
    else:
        messages.info(request, gettext("That item was no longer in your cart."))
    return HttpResponseRedirect(_cart_url(request))
