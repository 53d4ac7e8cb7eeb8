"""The checkout's writes: start it from a cart, set the email, addresses and shipping method,
apply or remove a voucher, hold the stock for the payment step, and count a voucher's use.

Each function is one transaction on the checkout's row (locked), bumps its version and
publishes one event when something changed. The checkout stores no amounts: its totals are
computed again from the cart and the current prices each time (``checkout_totals``).

Voucher rules are checked twice: when the voucher is applied (for a clear message on the
review page) and again, atomically, when the order is placed (``voucher_use_take``, called
by the place-order service inside its own transaction), where one conditional UPDATE of
the voucher's row decides who gets its last use.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.db.models import F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.events.publisher import publish

from . import events
from .addresses import clean_address
from .checkout_selectors import (
    cart_lines,
    checkout_totals,
    shipping_options,
    voucher_by_code,
    voucher_in_window,
    voucher_terms,
)
from .errors import (
    CartNotFound,
    CheckoutIncomplete,
    CheckoutNotFound,
    CommerceInvalid,
    OutOfStock,
    VoucherExhausted,
    VoucherNotApplicable,
    VoucherNotFound,
)
from .models import (
    Cart,
    Checkout,
    InventoryPolicy,
    Location,
    Reservation,
    StockLevel,
    Variant,
    Voucher,
    VoucherUse,
)
from .money import round_amount
from .pricing import PricedLine, lines_subtotal
from .services import ReservationLine, reservation_release, stock_reserve

__all__ = [
    "checkout_apply_voucher",
    "checkout_remove_voucher",
    "checkout_reserve",
    "checkout_set_address",
    "checkout_set_email",
    "checkout_set_shipping",
    "checkout_start",
    "checkout_totals",
    "voucher_use_take",
]

DEFAULT_RESERVATION_MINUTES = 15


def reservation_ttl() -> timedelta:
    """How long the payment step holds the stock (``CHECKOUT_RESERVATION_MINUTES``)."""
    return timedelta(
        minutes=getattr(settings, "CHECKOUT_RESERVATION_MINUTES", DEFAULT_RESERVATION_MINUTES)
    )


def _locked(checkout_id: Any) -> Checkout:
    try:
        return (
            Checkout.objects.select_for_update(of=("self",))
            .select_related("cart")
            .get(pk=checkout_id)
        )
    except (Checkout.DoesNotExist, ValidationError, ValueError, TypeError):
        raise CheckoutNotFound(_("No such checkout.")) from None


def _changed(checkout: Checkout, changed: list[str], *, actor) -> None:
    checkout.version += 1
    checkout.save(update_fields=[*changed, "version", "updated_at"])
    publish_fields = [name.removesuffix("_id") for name in changed]
    publish(
        events.CheckoutUpdated(
            checkout_id=checkout.pk, version=checkout.version, changed=publish_fields
        ),
        actor=actor,
    )


def checkout_start(*, cart_id: UUID, email: str = "", actor=None) -> Checkout:
    """The cart's checkout, started now if it has none (the cart's row is locked, so two
    requests never start two). ``email`` prefills a new checkout (a customer's)."""
    with transaction.atomic():
        try:
            cart = Cart.objects.select_for_update().get(pk=cart_id)
        except (Cart.DoesNotExist, ValidationError, ValueError, TypeError):
            raise CartNotFound(_("No such cart.")) from None
        existing = Checkout.objects.filter(cart=cart).first()
        if existing is not None:
            return existing
        if not cart.lines.exists():
            raise CheckoutIncomplete(_("The cart is empty."))
        checkout = Checkout(cart=cart, email=_clean_email(email) if email else "")
        checkout.reservation_reference = f"checkout:{checkout.pk}"
        checkout.save()
        publish(
            events.CheckoutStarted(checkout_id=checkout.pk, version=1, cart_id=cart.pk),
            actor=actor,
        )
    return checkout


def _clean_email(email: Any) -> str:
    value = str(email or "").strip()
    try:
        if len(value) > 254:
            raise ValidationError("too long")
        validate_email(value)
    except ValidationError:
        raise CommerceInvalid({"email": _("enter a valid email address")}) from None
    return value


def checkout_set_email(*, checkout_id: UUID, email: str, actor=None) -> Checkout:
    """Set where the order's confirmation goes."""
    value = _clean_email(email)
    with transaction.atomic():
        checkout = _locked(checkout_id)
        if checkout.email != value:
            checkout.email = value
            _changed(checkout, ["email"], actor=actor)
    return checkout


def checkout_set_address(
    *,
    checkout_id: UUID,
    address: Mapping[str, Any],
    billing_address: Mapping[str, Any] | None = None,
    actor=None,
) -> Checkout:
    """Set the shipping address (and a billing address, else the same one), each valid for
    its country (``addresses.clean_address``). A chosen shipping method that the new
    country no longer offers is dropped."""
    shipping = clean_address(address)
    billing = None
    if billing_address is not None:
        try:
            billing = clean_address(billing_address)
        except CommerceInvalid as error:
            raise CommerceInvalid(
                {f"billing.{name}": message for name, message in error.errors.items()}
            ) from None
    with transaction.atomic():
        checkout = _locked(checkout_id)
        changed = []
        if checkout.shipping_address != shipping:
            checkout.shipping_address = shipping
            changed.append("shipping_address")
        if checkout.billing_address != billing:
            checkout.billing_address = billing
            changed.append("billing_address")
        if checkout.shipping_method_id is not None and not any(
            option.method.pk == checkout.shipping_method_id
            for option in shipping_options(shipping["country"], checkout.cart.currency)
        ):
            checkout.shipping_method = None
            changed.append("shipping_method")
        if changed:
            _changed(checkout, changed, actor=actor)
    return checkout


def checkout_set_shipping(*, checkout_id: UUID, method_id: Any, actor=None) -> Checkout:
    """Choose a shipping method offered for the address's country in the cart's currency."""
    with transaction.atomic():
        checkout = _locked(checkout_id)
        country = (checkout.shipping_address or {}).get("country")
        if not country:
            raise CheckoutIncomplete(_("Enter the shipping address first."))
        offered = {
            str(option.method.pk): option.method
            for option in shipping_options(country, checkout.cart.currency)
        }
        method = offered.get(str(method_id).strip())
        if method is None:
            raise CommerceInvalid(
                {"shipping_method": _("choose one of the methods offered for your address")}
            )
        if checkout.shipping_method_id != method.pk:
            checkout.shipping_method = method
            _changed(checkout, ["shipping_method"], actor=actor)
    return checkout


def _uses_by(voucher_id: int, *, customer_id: int | None, email: str) -> int:
    """How often this customer (by account, or by email for a guest) used the voucher."""
    who = Q(email__iexact=email) if email else Q(pk__in=[])
    if customer_id is not None:
        who |= Q(customer_id=customer_id)
    return VoucherUse.objects.filter(who, voucher_id=voucher_id).count()


def _voucher_refusal(
    voucher: Voucher, *, checkout: Checkout, customer_id: int | None, now: datetime
) -> str | None:
    """Why ``voucher`` cannot apply to the checkout now (None: it can)."""
    if not voucher.active:
        return _("This voucher is not active.")
    if voucher.starts_at is not None and now < voucher.starts_at:
        return _("This voucher is not valid yet.")
    if not voucher_in_window(voucher, now):
        return _("This voucher has expired.")
    currency = checkout.cart.currency
    terms, minimum = voucher_terms(voucher, currency)
    if terms is None:
        return _("This voucher cannot be used in %(currency)s.") % {"currency": currency}
    if minimum is not None:
        lines = [
            PricedLine(line.id, line.unit_price, line.quantity)
            for line in cart_lines(checkout.cart)
            if line.unit_price is not None
        ]
        if lines_subtotal(lines, currency) < minimum:
            return _("This voucher needs a subtotal of at least %(amount)s %(currency)s.") % {
                "amount": round_amount(minimum, currency),
                "currency": currency,
            }
    if voucher.usage_limit is not None and voucher.used_count >= voucher.usage_limit:
        return _("This voucher has been used up.")
    if voucher.per_customer_limit is not None and (customer_id or checkout.email):
        used = _uses_by(voucher.pk, customer_id=customer_id, email=checkout.email)
        if used >= voucher.per_customer_limit:
            return _("You have already used this voucher.")
    return None


def checkout_apply_voucher(
    *, checkout_id: UUID, code: str, customer_id: int | None = None, actor=None
) -> Checkout:
    """Apply the voucher ``code`` (case does not matter) to the checkout, when it is active,
    in its window, offered in the cart's currency, the subtotal reaches its minimum and
    neither its usage limit nor the customer's is reached; else ``VoucherNotApplicable``
    saying which. The limits are counted again when the order is placed."""
    voucher = voucher_by_code(code)
    if voucher is None:
        raise VoucherNotApplicable(_("There is no voucher with this code."))
    with transaction.atomic():
        checkout = _locked(checkout_id)
        refusal = _voucher_refusal(
            voucher, checkout=checkout, customer_id=customer_id, now=timezone.now()
        )
        if refusal:
            raise VoucherNotApplicable(refusal)
        if checkout.voucher_id != voucher.pk:
            checkout.voucher = voucher
            _changed(checkout, ["voucher"], actor=actor)
    return checkout


def checkout_remove_voucher(*, checkout_id: UUID, actor=None) -> Checkout:
    with transaction.atomic():
        checkout = _locked(checkout_id)
        if checkout.voucher_id is not None:
            checkout.voucher = None
            _changed(checkout, ["voucher"], actor=actor)
    return checkout


# -- holding the stock for the payment step ---------------------------------------------------


def _allocation(lines, levels: dict[UUID, list[tuple[int, int]]], tracked: dict[UUID, bool]):
    """Where each line's units come from: the active locations with most available first,
    a line split across locations when one has too few. A variant that may oversell takes
    all its units at the location with most available. ``OutOfStock`` when the active
    locations together have too few."""
    planned: list[ReservationLine] = []
    for line in lines:
        places = levels.get(line.variant_id, [])
        if not places:
            raise OutOfStock(
                _("%(sku)s is not stocked anywhere.") % {"sku": line.sku}, sku=line.sku
            )
        if not tracked[line.variant_id]:
            planned.append(ReservationLine(line.variant_id, places[0][0], line.quantity))
            continue
        wanted = line.quantity
        for location_id, available in places:
            take = min(wanted, available)
            if take > 0:
                planned.append(ReservationLine(line.variant_id, location_id, take))
                wanted -= take
            if not wanted:
                break
        if wanted:
            available = sum(max(count, 0) for _loc, count in places)
            raise OutOfStock(
                _("Only %(count)d of %(sku)s are available.")
                % {"count": available, "sku": line.sku},
                sku=line.sku,
                available=available,
            )
    return planned


def _stock_by_variant(variant_ids: list[UUID]):
    """What each variant has available per active location. Units held by reservations past
    their time count as available: ``stock_reserve`` releases those under its locks."""
    lapsed = (
        Reservation.objects.filter(
            variant_id=OuterRef("variant_id"),
            location_id=OuterRef("location_id"),
            expires_at__lte=timezone.now(),
        )
        .values("variant_id")
        .annotate(units=Sum("quantity"))
        .values("units")
    )
    rows = (
        StockLevel.objects.filter(variant_id__in=variant_ids, location__active=True)
        .annotate(held=F("reserved") - Coalesce(Subquery(lapsed), 0))
        .values_list(
            "variant_id",
            "location_id",
            "on_hand",
            "held",
            "variant__tracked",
            "variant__inventory_policy",
        )
        .order_by("variant_id", "location_id")
    )
    levels: dict[UUID, list[tuple[int, int]]] = {}
    tracked: dict[UUID, bool] = {variant_id: True for variant_id in variant_ids}
    for variant_id, location_id, on_hand, reserved, is_tracked, policy in rows:
        levels.setdefault(variant_id, []).append((location_id, on_hand - reserved))
        tracked[variant_id] = is_tracked and policy == InventoryPolicy.DENY
    for places in levels.values():
        places.sort(key=lambda place: (-place[1], place[0]))
    unstocked = [variant_id for variant_id in variant_ids if variant_id not in levels]
    if unstocked:
        # A variant that sells without stock (untracked, or continue when out) needs no stock
        # row: its units are held at the first active location (stock_reserve makes the row).
        first = Location.objects.filter(active=True).order_by("pk").values_list("pk", flat=True)
        location_id = first.first()
        for variant_id, is_tracked, policy in Variant.objects.filter(pk__in=unstocked).values_list(
            "pk", "tracked", "inventory_policy"
        ):
            tracked[variant_id] = is_tracked and policy == InventoryPolicy.DENY
            if not tracked[variant_id] and location_id is not None:
                levels[variant_id] = [(location_id, 0)]
    return levels, tracked


def checkout_reserve(*, checkout_id: UUID, actor=None) -> tuple[Checkout, list[Reservation]]:
    """Hold the cart's units for the payment step, for ``reservation_ttl()``: the checkout's
    earlier reservation is released first (its units count as available again), then the
    lines are placed at the active locations with most available first, split when one
    has too few, through ``stock_reserve`` (which re-checks every number under the stock
    locks). The checkout needs an email, an address and a shipping method."""
    with transaction.atomic():
        checkout = _locked(checkout_id)
        if not checkout.email or not checkout.shipping_address:
            raise CheckoutIncomplete(_("Enter your email and address first."))
        if checkout.shipping_method_id is None:
            raise CheckoutIncomplete(_("Choose a shipping method first."))
        lines = cart_lines(checkout.cart)
        if not lines:
            raise CheckoutIncomplete(_("The cart is empty."))
        held = Reservation.objects.filter(reference=checkout.reservation_reference)
        for reservation_id in held.order_by("pk").values_list("pk", flat=True):
            reservation_release(reservation_id=reservation_id, actor=actor)
        levels, tracked = _stock_by_variant([line.variant_id for line in lines])
        planned = _allocation(lines, levels, tracked)
        ttl = reservation_ttl()
        made = stock_reserve(
            lines=planned, reference=checkout.reservation_reference, ttl=ttl, actor=actor
        )
        checkout.reserved_until = made[0].expires_at
        checkout.version += 1
        checkout.save(update_fields=["reserved_until", "version", "updated_at"])
        publish(
            events.CheckoutReserved(
                checkout_id=checkout.pk, version=checkout.version,
                reference=checkout.reservation_reference, lines=len(made),
            ),
            actor=actor,
        )  # fmt: skip
    return checkout, made


# -- counting a voucher's use when the order is placed --------------------------------------


def voucher_use_take(
    *,
    voucher_id: int,
    checkout_reference: str,
    customer_id: int | None,
    email: str,
    actor=None,
) -> VoucherUse:
    """Count one use of the voucher for the order of ``checkout_reference``: call it inside
    the place-order transaction. One conditional UPDATE takes the use (and the voucher's row
    lock) only while the voucher is active, in its window and below its usage limit; the
    per-customer count is then checked under that lock. ``VoucherExhausted`` (409) when the
    last use went to someone else, ``VoucherNotApplicable`` when the voucher lapsed."""
    table = connection.ops.quote_name(Voucher._meta.db_table)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                f"""UPDATE {table}
                       SET used_count = used_count + 1, version = version + 1
                     WHERE id = %s AND active
                       AND (starts_at IS NULL OR starts_at <= now())
                       AND (ends_at IS NULL OR ends_at > now())
                       AND (usage_limit IS NULL OR used_count < usage_limit)
                 RETURNING code, used_count, per_customer_limit, version""",  # noqa: S608
                [voucher_id],
            )
            row = cursor.fetchone()
        if row is None:
            raise _why_not_taken(voucher_id)
        code, used_count, per_customer, version = row
        if (
            per_customer is not None
            and (customer_id is not None or email)
            and _uses_by(voucher_id, customer_id=customer_id, email=email) >= per_customer
        ):
            raise VoucherExhausted(_("You have already used this voucher."))
        try:
            with transaction.atomic():
                use = VoucherUse.objects.create(
                    voucher_id=voucher_id, checkout_reference=checkout_reference,
                    customer_id=customer_id, email=email,
                )  # fmt: skip
        except IntegrityError:
            raise VoucherExhausted(_("This order has already used the voucher.")) from None
        publish(
            events.VoucherUsed(
                voucher_id=voucher_id, code=code, version=version,
                checkout_reference=checkout_reference, used_count=used_count,
            ),
            actor=actor,
        )  # fmt: skip
    return use


def _why_not_taken(voucher_id: int) -> Exception:
    voucher = Voucher.objects.filter(pk=voucher_id).first()
    if voucher is None:
        return VoucherNotFound(_("No such voucher."))
    if not voucher.active or not voucher_in_window(voucher):
        return VoucherNotApplicable(_("This voucher can no longer be used."))
    return VoucherExhausted(_("This voucher has been used up."))
