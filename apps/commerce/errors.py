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
