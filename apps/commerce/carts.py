"""Writes to carts: a visitor's cart (found by the token kept in the visitor's session) and a
customer's (one open cart per customer, found by the customer's id).

Callers import this module (``from apps.commerce import carts``); ``services`` does not
re-export it. Each function is one transaction; the cart's row is locked first (two carts in
primary-key order for a merge), so two requests of one shopper never lose a change, and
every change bumps the cart's ``version``.

A cart holds no stock: quantities are checked against what is available now (on hand minus
reserved, over active locations) and the checkout's reservation checks again under the
stock locks. Adding more than is available is refused (``OutOfStock``, "Only N left"),
unless the variant may oversell; merging never refuses, it caps.

No events: carts change on every click and no other module or integrator follows them, so
publishing them would only fill the outbox. What matters (an order, its stock) is published
by the checkout.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, Min, OuterRef, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from apps.tenancy.services import due_work_kind, work_due

from .errors import (
    CartLineNotFound,
    CartNotFound,
    CommerceInvalid,
    NotPriced,
    OutOfStock,
    ProductUnavailable,
    VariantNotFound,
)
from .models import Cart, CartLine, Checkout, Price, ProductStatus, StockLevel, Variant
from .money import MoneyError, normalize_currency
from .selectors import store_settings, variant_sells_without_stock

MAX_LINE_QUANTITY = 99
MAX_LINES = 100
STALE_AFTER = timedelta(days=30)
# The hourly job that deletes them, and its mark in the due-work index. Only a new visitor's
# cart is marked (once per cart, not per change): touching a cart only moves its own
# deadline later, so the tenant's earliest one never comes sooner.
PRUNE_STALE_CARTS = due_work_kind("commerce.prune_stale_carts")


# -- helpers ----------------------------------------------------------------------------------


def _uuid(value: Any, error: Exception) -> UUID:
    try:
        return value if isinstance(value, UUID) else UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        raise error from None


def _quantity(value: Any, *, minimum: int) -> int:
    """A line quantity between ``minimum`` and ``MAX_LINE_QUANTITY`` (``CommerceInvalid``)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise CommerceInvalid({"quantity": _("must be a whole number")})
    if not minimum <= value <= MAX_LINE_QUANTITY:
        raise CommerceInvalid(
            {
                "quantity": _("must be between %(low)d and %(high)d")
                % {"low": minimum, "high": MAX_LINE_QUANTITY}
            }
        )
    return value


def _locked_cart(cart_id: Any) -> Cart:
    cart_id = _uuid(cart_id, CartNotFound(_("No such cart.")))
    cart = Cart.objects.select_for_update().filter(pk=cart_id).first()
    if cart is None:
        raise CartNotFound(_("No such cart."))
    return cart


def _bump(cart: Cart) -> None:
    cart.version += 1
    cart.save(update_fields=["version", "updated_at"])


def available_units(variant_ids: list[UUID]) -> dict[UUID, int]:
    """Units one can buy now per variant: on hand minus reserved at active locations (never
    below zero; 0 for a variant without stock)."""
    rows = (
        StockLevel.objects.filter(variant_id__in=variant_ids, location__active=True)
        .values("variant_id")
        .annotate(on_hand=Sum("on_hand"), reserved=Sum("reserved"))
        .order_by()
    )
    found = {variant_id: 0 for variant_id in variant_ids}
    for row in rows:
        found[row["variant_id"]] = max(row["on_hand"] - row["reserved"], 0)
    return found


def _limit(variant: Variant, available: int) -> int:
    """The most one line of ``variant`` may hold."""
    if variant_sells_without_stock(variant):
        return MAX_LINE_QUANTITY
    return min(available, MAX_LINE_QUANTITY)


def _only_left(variant: Variant, available: int) -> OutOfStock:
    if available <= 0:
        return OutOfStock(_("This item is out of stock."), sku=variant.sku, available=0)
    return OutOfStock(
        ngettext("Only %(count)d left.", "Only %(count)d left.", available) % {"count": available},
        sku=variant.sku,
        available=available,
    )


def _sellable_variant(variant_id: Any, currency: str) -> Variant:
    """The variant, on sale and priced in ``currency``; typed errors otherwise."""
    not_found = VariantNotFound(_("No such product variant."))
    variant = (
        Variant.objects.select_related("product")
        .annotate(priced=Exists(Price.objects.filter(variant=OuterRef("pk"), currency=currency)))
        .filter(pk=_uuid(variant_id, not_found))
        .first()
    )
    if variant is None:
        raise not_found
    if variant.product.status != ProductStatus.ACTIVE:
        raise ProductUnavailable(_("This product is not on sale."))
    if not variant.priced:
        raise NotPriced(_("This item cannot be bought in %(currency)s.") % {"currency": currency})
    return variant


def _set_line(
    cart: Cart,
    variant: Variant,
    line: CartLine | None,
    quantity: int,
    *,
    line_count: int,
    bump: bool = True,
) -> CartLine:
    """``line`` (or a new line of ``variant``, the cart having ``line_count`` lines) at
    ``quantity``, checked against the stock; the cart's version moves on (``bump``: not for a
    cart made in this transaction)."""
    available = available_units([variant.pk])[variant.pk]
    if quantity > _limit(variant, available):
        if quantity > MAX_LINE_QUANTITY:
            raise CommerceInvalid(
                {"quantity": _("at most %(count)d of one item") % {"count": MAX_LINE_QUANTITY}}
            )
        raise _only_left(variant, available)
    if line is None:
        if line_count >= MAX_LINES:
            raise CommerceInvalid(
                {"lines": _("a cart holds at most %(count)d items") % {"count": MAX_LINES}}
            )
        line = CartLine.objects.create(cart=cart, variant=variant, quantity=quantity)
    else:
        line.quantity = quantity
        line.save(update_fields=["quantity", "updated_at"])
    if bump:
        _bump(cart)
    return line


# -- finding a cart ---------------------------------------------------------------------------


def _clean_currency(currency: Any) -> str:
    try:
        code = normalize_currency(currency)
    except MoneyError as error:
        raise CommerceInvalid({"currency": str(error)}) from None
    if code not in store_settings().enabled_currencies:
        raise CommerceInvalid(
            {"currency": _("the store does not sell in %(currency)s") % {"currency": code}}
        )
    return code


def cart_for(
    *,
    token: UUID | None,
    customer_id: int | None,
    currency: str,
    locale: str,
    create: bool,
) -> Cart | None:
    """The customer's open cart, else the visitor's found by ``token`` (a visitor's token never
    finds a customer's cart); with ``create``, a new one in ``currency`` when there is none.

    ``currency`` and ``locale`` only matter for a new cart.
    """
    if customer_id is not None:
        cart = Cart.objects.filter(customer_id=customer_id).first()
    else:
        cart = None
        if token is not None:
            token = _uuid(token, CartNotFound())
            cart = Cart.objects.filter(token=token, customer__isnull=True).first()
    if cart is not None or not create:
        return cart
    currency = _clean_currency(currency)
    try:
        with transaction.atomic():
            return _new_cart(customer_id, currency, locale)
    except IntegrityError:
        # The customer's other request made the cart meanwhile.
        return Cart.objects.get(customer_id=customer_id)


def _new_cart(customer_id: int | None, currency: str, locale: str) -> Cart:
    """A new cart (in the caller's transaction); a visitor's is marked for the stale sweep."""
    cart = Cart.objects.create(
        customer_id=customer_id, currency=currency, locale=str(locale or "en")[:16]
    )
    if customer_id is None:
        work_due(kind=PRUNE_STALE_CARTS, at=cart.updated_at + STALE_AFTER)
    return cart


# -- lines ------------------------------------------------------------------------------------


def cart_add(*, cart_id: UUID, variant_id: UUID, quantity: int, actor=None) -> CartLine:
    """Add ``quantity`` units of a variant: it must be on sale and priced in the cart's
    currency, and the line's new quantity at most what is available (``OutOfStock``: "Only
    N left"; a variant that may oversell is not limited by stock) and ``MAX_LINE_QUANTITY``."""
    quantity = _quantity(quantity, minimum=1)
    with transaction.atomic():
        cart = _locked_cart(cart_id)
        variant = _sellable_variant(variant_id, cart.currency)
        lines = list(CartLine.objects.filter(cart=cart))
        line = next((held for held in lines if held.variant_id == variant.pk), None)
        return _set_line(
            cart, variant, line, quantity + (line.quantity if line else 0), line_count=len(lines)
        )


def cart_start(
    *,
    customer_id: int | None,
    currency: str,
    locale: str,
    variant_id: UUID,
    quantity: int,
    actor=None,
) -> CartLine:
    """A new cart holding its first line, checked as ``cart_add`` checks it, in one
    transaction: a refused line leaves no empty cart behind. A customer's other request that
    made their cart meanwhile: the line goes into that cart."""
    quantity = _quantity(quantity, minimum=1)
    currency = _clean_currency(currency)
    try:
        with transaction.atomic():
            variant = _sellable_variant(variant_id, currency)
            cart = _new_cart(customer_id, currency, locale)
            return _set_line(cart, variant, None, quantity, line_count=0, bump=False)
    except IntegrityError:
        if customer_id is None:
            raise
    cart = Cart.objects.get(customer_id=customer_id)
    return cart_add(cart_id=cart.pk, variant_id=variant_id, quantity=quantity, actor=actor)


def _line_of(cart: Cart, *, line_id: Any, variant_id: Any) -> CartLine:
    lines = CartLine.objects.filter(cart=cart).select_related("variant__product")
    missing = CartLineNotFound(_("This item is not in the cart."))
    if line_id is not None:
        if isinstance(line_id, bool) or not str(line_id).isdigit():
            raise missing
        line = lines.filter(pk=int(line_id)).first()
    else:
        line = lines.filter(variant_id=_uuid(variant_id, missing)).first()
    if line is None:
        raise missing
    return line


def cart_set_quantity(
    *,
    cart_id: UUID,
    quantity: int,
    line_id: int | None = None,
    variant_id: UUID | None = None,
    actor=None,
) -> CartLine | None:
    """Set a line's quantity (the line named by ``line_id`` or ``variant_id``); 0 removes it
    (then None). A new quantity is checked like ``cart_add``'s."""
    quantity = _quantity(quantity, minimum=0)
    with transaction.atomic():
        cart = _locked_cart(cart_id)
        line = _line_of(cart, line_id=line_id, variant_id=variant_id)
        if quantity == 0:
            line.delete()
            _bump(cart)
            return None
        if quantity == line.quantity:
            return line
        if quantity > line.quantity:
            # More of it: only while it is on sale and priced.
            _sellable_variant(line.variant_id, cart.currency)
        return _set_line(cart, line.variant, line, quantity, line_count=0)


def cart_remove(*, cart_id: UUID, variant_id: UUID, actor=None) -> bool:
    """Take a variant out of the cart; whether it was there (removing twice is no error)."""
    with transaction.atomic():
        cart = _locked_cart(cart_id)
        variant_id = _uuid(variant_id, CartLineNotFound(_("This item is not in the cart.")))
        removed, _detail = CartLine.objects.filter(cart=cart, variant_id=variant_id).delete()
        if removed:
            _bump(cart)
    return bool(removed)


def cart_set_currency(*, cart_id: UUID, currency: str, actor=None) -> Cart:
    """Shop in another of the store's currencies (the lines stay; their prices follow)."""
    currency = _clean_currency(currency)
    with transaction.atomic():
        cart = _locked_cart(cart_id)
        if cart.currency != currency:
            cart.currency = currency
            cart.version += 1
            cart.save(update_fields=["currency", "version", "updated_at"])
    return cart


# -- merging ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CartMerge:
    cart: Cart
    capped: tuple[str, ...]  # SKUs of the lines that got less than both carts held


def _merge_into(source: Cart, target: Cart) -> tuple[str, ...]:
    """Add ``source``'s lines to ``target``'s (both locked), capped; delete ``source``."""
    incoming = list(source.lines.select_related("variant"))
    held = {line.variant_id: line for line in target.lines.all()}
    available = available_units([line.variant_id for line in incoming])
    capped: list[str] = []
    room = MAX_LINES - len(held)
    for line in incoming:
        existing = held.get(line.variant_id)
        wanted = line.quantity + (existing.quantity if existing else 0)
        # Never less than the target held already: merging only adds.
        quantity = max(
            min(wanted, _limit(line.variant, available[line.variant_id])),
            existing.quantity if existing else 0,
        )
        if existing is None and room <= 0:
            quantity = 0
        if quantity < wanted:
            capped.append(line.variant.sku)
        if existing is not None:
            if quantity != existing.quantity:
                existing.quantity = quantity
                existing.save(update_fields=["quantity", "updated_at"])
        elif quantity > 0:
            CartLine.objects.create(cart=target, variant=line.variant, quantity=quantity)
            room -= 1
    source.delete()
    _bump(target)
    return tuple(capped)


def cart_merge(*, source_cart_id: UUID, target_cart_id: UUID, actor=None) -> CartMerge:
    """Move the source cart's lines into the target (quantities added, each capped by the
    stock available and ``MAX_LINE_QUANTITY``), then delete the source. Never refuses: what
    was capped is reported by SKU."""
    with transaction.atomic():
        ids = sorted(
            {
                _uuid(source_cart_id, CartNotFound(_("No such cart."))),
                _uuid(target_cart_id, CartNotFound(_("No such cart."))),
            }
        )
        locked = {
            cart.pk: cart
            for cart in Cart.objects.filter(pk__in=ids).order_by("pk").select_for_update()
        }
        if len(locked) != len(ids):
            raise CartNotFound(_("No such cart."))
        target = locked[_uuid(target_cart_id, CartNotFound())]
        if len(ids) == 1:
            return CartMerge(cart=target, capped=())
        capped = _merge_into(locked[_uuid(source_cart_id, CartNotFound())], target)
    return CartMerge(cart=target, capped=capped)


def cart_merge_for_login(
    *, token: UUID | None, customer_id: int, currency: str, locale: str
) -> Cart | None:
    """What the storefront's login calls: the visitor's cart (``token``) becomes the
    customer's, or is merged into the customer's open cart (capped, see ``cart_merge``).
    The customer's cart afterwards (None when neither had one)."""
    if token is not None:
        token = _uuid(token, CartNotFound(_("No such cart.")))
    with transaction.atomic():
        visitor = (
            Cart.objects.select_for_update().filter(token=token, customer__isnull=True).first()
            if token is not None
            else None
        )
        owned = Cart.objects.filter(customer_id=customer_id).values_list("pk", flat=True).first()
        if visitor is None or owned is not None:
            if visitor is not None:
                return cart_merge(source_cart_id=visitor.pk, target_cart_id=owned).cart
            return Cart.objects.filter(pk=owned).first() if owned is not None else None
        visitor.customer_id = customer_id
        visitor.version += 1
        try:
            with transaction.atomic():
                visitor.save(update_fields=["customer", "version", "updated_at"])
        except IntegrityError:
            # The customer's other request made a cart meanwhile: merge into that one.
            visitor.customer_id, visitor.version = None, visitor.version - 1
            owned = Cart.objects.get(customer_id=customer_id).pk
            return cart_merge(source_cart_id=visitor.pk, target_cart_id=owned).cart
        return visitor


# -- housekeeping -----------------------------------------------------------------------------


def carts_next_stale_at() -> datetime | None:
    """When the active schema's least recently touched visitor's cart turns stale."""
    oldest = Cart.objects.filter(customer__isnull=True).aggregate(oldest=Min("updated_at"))
    return oldest["oldest"] + STALE_AFTER if oldest["oldest"] else None


def carts_prune_stale(*, now: datetime | None = None, batch: int = 1000) -> int:
    """Delete visitors' carts untouched for ``STALE_AFTER`` (a periodic task runs this), at
    most ``batch``; returns how many. Customers' carts are kept. Reads only the stale rows
    (a partial index on ``updated_at``); a cart in use meanwhile is skipped."""
    cutoff = (now or timezone.now()) - STALE_AFTER
    stale = Q(customer__isnull=True, updated_at__lt=cutoff)
    with transaction.atomic():
        ids = list(
            Cart.objects.filter(stale)
            .order_by("updated_at")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:batch]
        )
        if not ids:
            return 0
        CartLine.objects.filter(cart_id__in=ids).delete()
        Cart.objects.filter(pk__in=ids).delete()
    return len(ids)


def cart_close(*, cart_id: UUID) -> None:
    """Remove a cart whose order was placed, with its lines and its checkout, in one statement
    (the place-order transaction calls this; the order keeps what was bought)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""WITH lines AS (DELETE FROM {_table(CartLine)} WHERE cart_id = %(cart)s),
                     checkout AS (DELETE FROM {_table(Checkout)} WHERE cart_id = %(cart)s)
                DELETE FROM {_table(Cart)} WHERE id = %(cart)s""",  # noqa: S608
            {"cart": cart_id},
        )


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)
