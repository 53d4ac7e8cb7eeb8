"""Typed errors of the commerce domain; each delivery channel maps them to HTTP in one place."""

from apps.core.errors import Conflict, NotFound, PlatformError, ValidationFailed


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


# -- orders ----------------------------------------------------------------------------


class OrderNotFound(NotFound):
    code = "order_not_found"
    title = "No such order"


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
