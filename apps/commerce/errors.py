"""Typed errors of the commerce domain; each delivery channel maps them to HTTP in one place."""

from django.utils.translation import gettext_lazy

from apps.core.errors import (
    Conflict,
    NotFound,
    PaymentRequired,
    PlatformError,
    ServiceUnavailable,
    ValidationFailed,
)


class CommerceInvalid(ValidationFailed):
    """Bad input; ``errors`` maps field names to messages (the API answers 400 with them)."""

    code = "commerce_invalid"

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{name}: {message}" for name, message in errors.items()))


class ProductNotFound(NotFound):
    code = "product_not_found"
    title = "No such product"


class VariantNotFound(NotFound):
    code = "variant_not_found"
    title = "No such variant"


class OptionNotFound(NotFound):
    code = "option_not_found"
    title = "No such product option"


class CollectionNotFound(NotFound):
    code = "collection_not_found"
    title = "No such collection"


class CategoryNotFound(NotFound):
    code = "category_not_found"
    title = "No such category"


class LocationNotFound(NotFound):
    code = "location_not_found"
    title = "No such location"


class PriceNotFound(NotFound):
    code = "price_not_found"
    title = "No such price"


class ReservationNotFound(NotFound):
    code = "reservation_not_found"
    title = "No such reservation"


class ReservationExpired(Conflict):
    """A reservation's time ran out before it became a sale; its units were released."""

    code = "reservation_expired"
    title = "The reservation has expired"


class CatalogConflict(Conflict):
    """A write the catalog's current state refuses (deleting what is still in use, leaving an
    active product without a price in the default currency, ...)."""

    code = "catalog_conflict"
    title = "Refused by the catalog's current state"


class OutOfStock(Conflict):
    """Not enough available stock for a reservation or a deduction."""

    code = "out_of_stock"
    title = "Out of stock"


class ProductImageNotFound(NotFound):
    code = "product_image_not_found"
    title = "No such product image"


def located(error: PlatformError, part: str) -> PlatformError:
    """``error``, raised while writing ``part`` of a composite write (``variants.2``,
    ``variants.0.prices.EUR``), saying so: ``error.part`` names it, and a ``CommerceInvalid``'s
    field names start with it (``variants.2.sku``). An error already located keeps its part."""
    if getattr(error, "part", None) is not None:
        return error
    if isinstance(error, CommerceInvalid):
        error = CommerceInvalid(
            {f"{part}.{name}": message for name, message in error.errors.items()}
        )
    error.part = part
    return error


# -- payments --------------------------------------------------------------------------------


class PaymentDeclined(PaymentRequired):
    """The provider refused the payment (a declined card); ``attempt_id`` names the record."""

    code = "payment_declined"
    title = gettext_lazy("The payment was declined")


class PaymentUnavailable(ServiceUnavailable):
    """The payment service could not be reached (breaker open, timeout): nothing was charged,
    or a retry of the same attempt replays what was."""

    code = "payment_unavailable"
    title = gettext_lazy("The payment service is unavailable")


class PaymentConflict(Conflict):
    """The checkout's payments refuse this one: already paid, or an attempt still in flight."""

    code = "payment_conflict"
    title = gettext_lazy("Refused by the checkout's payments")


class PaymentNotFound(NotFound):
    code = "payment_not_found"
    title = gettext_lazy("No such payment")


class PaymentInsideTransaction(RuntimeError):
    """A programming error: a payment service was called inside ``transaction.atomic()``.

    Its first transaction must commit before the provider is called (so a crash leaves a
    record to retry with the same idempotency key), and no transaction may stay open across
    a call to the outside."""


# -- carts -----------------------------------------------------------------------------------


class CartNotFound(NotFound):
    code = "cart_not_found"
    title = "No such cart"


class CartLineNotFound(NotFound):
    code = "cart_line_not_found"
    title = "No such cart line"


class ProductUnavailable(Conflict):
    """The variant's product is not on sale (a draft or archived)."""

    code = "product_unavailable"
    title = "Not on sale"


class NotPriced(Conflict):
    """The variant has no price in the cart's currency."""

    code = "not_priced"
    title = "No price in this currency"


# -- checkout -----------------------------------------------------------------------------------


class CheckoutNotFound(NotFound):
    code = "checkout_not_found"
    title = "No such checkout"


class ShippingMethodNotFound(NotFound):
    code = "shipping_method_not_found"
    title = "No such shipping method"


class ShippingZoneNotFound(NotFound):
    code = "shipping_zone_not_found"
    title = "No such shipping zone"


class VoucherNotFound(NotFound):
    code = "voucher_not_found"
    title = "No such voucher"


class TaxRateNotFound(NotFound):
    code = "tax_rate_not_found"
    title = "No such tax rate"


class CheckoutIncomplete(Conflict):
    """A step that needs an earlier one (shipping needs an address, payment a method)."""

    code = "checkout_incomplete"
    title = "The checkout is not complete"


class VoucherNotApplicable(ValidationFailed):
    """A voucher that is inactive, outside its window, below its minimum subtotal, not
    offered in the currency, or used up for this customer; ``detail`` says which."""

    code = "voucher_not_applicable"
    title = "The voucher cannot be used"


class VoucherExhausted(Conflict):
    """The voucher's last use (overall or for this customer) was taken meanwhile."""

    code = "voucher_exhausted"
    title = "The voucher has been used up"


# -- orders ----------------------------------------------------------------------------


class OrderNotFound(NotFound):
    code = "order_not_found"
    title = "No such order"


class OrderEmailNotFound(NotFound):
    code = "order_email_not_found"
    title = "No such order email"


class OrderEmailBusy(Conflict):
    """The email is on its way to the mail server now: sending it again could send it twice."""

    code = "order_email_busy"
    title = "The email is being sent"


class OrderVersionConflict(Conflict):
    """The order changed since the version the caller saw (or a racing writer appended the
    same version first): reload it and decide again."""

    code = "order_version_conflict"
    title = "The order was changed meanwhile"


class OrderAlreadyPlaced(Conflict):
    """The checkout was placed as an order already (``order_id`` names it)."""

    code = "order_already_placed"
    title = "This checkout is already an order"


# -- customers (admin) -------------------------------------------------------------------


class CustomerNotFound(NotFound):
    code = "customer_not_found"
    title = "No such customer"


# -- order payments (refunds through the provider, transfers received) ---------------------


class RefundNotRecorded(Conflict):
    """The provider gave back money the order does not show yet (the process stopped between
    the provider's refund and the order's record): only that refund may be recorded now,
    never a second one paid out. ``amount`` and ``payment_reference`` name it."""

    code = "refund_not_recorded"
    title = gettext_lazy("A refund made by the provider is not on the order yet")
