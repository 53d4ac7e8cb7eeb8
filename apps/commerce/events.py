"""Events of the commerce module. Every change to the catalog, the store or the stock
publishes one of these.

A product, its translations, options, variants and prices form one aggregate
(``product``): their events carry the product's id and version, so a subscriber gets them
in order and can skip a stale one. Stock events belong to the variant whose stock changed
(``inventory`` aggregate) and name its product. Amounts are ``Decimal`` (strings in JSON).
"""

from decimal import Decimal
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from apps.events.schema import (
    AggregateVersion,
    CurrencyCode,
    DomainEvent,
    NonNegativeAmount,
    NonNegativeInt,
    NonNilUUID,
    ShortText,
    Slug,
    StatusChange,
    Text,
)

Locale = Text(16)
Sku = Text(64)
AdjustmentReasonText = Text(16)
Reference = Text(100)


# -- store -----------------------------------------------------------------------------


class StoreSettingsUpdated(DomainEvent):
    event_type = "commerce.store.updated"
    aggregate_type = "store"
    aggregate_id_field = "store_id"
    aggregate_version_field = "version"

    store_id: int = Field(ge=1)
    default_currency: CurrencyCode
    enabled_currencies: list[CurrencyCode] = Field(min_length=1)
    # Added with the checkout; older events lack it (the store's default then: included).
    prices_include_tax: bool = True
    version: AggregateVersion

    @model_validator(mode="after")
    def _default_is_enabled(self) -> "StoreSettingsUpdated":
        if self.default_currency not in self.enabled_currencies:
            raise ValueError("default_currency: must be one of the enabled currencies")
        return self


# -- products (the product aggregate) --------------------------------------------------


class _ProductEvent(DomainEvent):
    abstract: ClassVar[bool] = True
    aggregate_type = "product"
    aggregate_id_field = "product_id"
    aggregate_version_field = "version"

    product_id: NonNilUUID
    version: AggregateVersion


class ProductCreated(_ProductEvent):
    event_type = "commerce.product.created"
    handle: Slug


class ProductUpdated(_ProductEvent):
    """Fields, translations, options or categories of a product changed (``changed`` names them)."""

    event_type = "commerce.product.updated"
    changed: list[ShortText] = Field(min_length=1, max_length=50)


class ProductDeleted(_ProductEvent):
    event_type = "commerce.product.deleted"
    handle: Slug


class _ProductStatusChange(StatusChange):
    abstract: ClassVar[bool] = True
    aggregate_type = "product"
    aggregate_id_field = "product_id"
    aggregate_version_field = "version"

    product_id: NonNilUUID
    version: AggregateVersion


class ProductActivated(_ProductStatusChange):
    event_type = "commerce.product.activated"


class ProductArchived(_ProductStatusChange):
    event_type = "commerce.product.archived"


class ProductDrafted(_ProductStatusChange):
    """Back to draft, from active or from archived (``from_status`` says which)."""

    event_type = "commerce.product.drafted"


class _VariantEvent(_ProductEvent):
    abstract: ClassVar[bool] = True
    variant_id: NonNilUUID
    sku: Sku


class VariantCreated(_VariantEvent):
    event_type = "commerce.variant.created"


class VariantUpdated(_VariantEvent):
    event_type = "commerce.variant.updated"
    changed: list[ShortText] = Field(min_length=1, max_length=50)


class VariantDeleted(_VariantEvent):
    event_type = "commerce.variant.deleted"


class PriceSet(_ProductEvent):
    """A variant's price in a currency was added or changed."""

    event_type = "commerce.price.set"
    variant_id: NonNilUUID
    currency: CurrencyCode
    amount: NonNegativeAmount
    compare_at_amount: NonNegativeAmount | None = None

    @model_validator(mode="after")
    def _compare_at_higher(self) -> "PriceSet":
        if self.compare_at_amount is not None and self.compare_at_amount <= self.amount:
            raise ValueError("compare_at_amount: must be higher than the amount")
        return self


class PriceDeleted(_ProductEvent):
    event_type = "commerce.price.deleted"
    variant_id: NonNilUUID
    currency: CurrencyCode


# -- collections, categories, locations ------------------------------------------------


class _CollectionEvent(DomainEvent):
    abstract: ClassVar[bool] = True
    aggregate_type = "collection"
    aggregate_id_field = "collection_id"

    collection_id: int = Field(ge=1)
    handle: Slug


class CollectionCreated(_CollectionEvent):
    event_type = "commerce.collection.created"


class CollectionUpdated(_CollectionEvent):
    """``product_ids`` are the products that joined or left (a reorder names none)."""

    event_type = "commerce.collection.updated"
    changed: list[ShortText] = Field(min_length=1, max_length=50)
    product_ids: list[NonNilUUID] = Field(default_factory=list)


class CollectionDeleted(_CollectionEvent):
    event_type = "commerce.collection.deleted"
    product_ids: list[NonNilUUID] = Field(default_factory=list)


class _CategoryEvent(DomainEvent):
    abstract: ClassVar[bool] = True
    aggregate_type = "commerce_category"
    aggregate_id_field = "category_id"

    category_id: int = Field(ge=1)
    handle: Slug


class CategoryCreated(_CategoryEvent):
    event_type = "commerce.category.created"


class CategoryUpdated(_CategoryEvent):
    event_type = "commerce.category.updated"
    changed: list[ShortText] = Field(min_length=1, max_length=50)


class CategoryDeleted(_CategoryEvent):
    event_type = "commerce.category.deleted"


class _LocationEvent(DomainEvent):
    abstract: ClassVar[bool] = True
    aggregate_type = "location"
    aggregate_id_field = "location_id"

    location_id: int = Field(ge=1)
    code: Slug


class LocationCreated(_LocationEvent):
    event_type = "commerce.location.created"
    active: bool


class LocationUpdated(_LocationEvent):
    event_type = "commerce.location.updated"
    changed: list[ShortText] = Field(min_length=1, max_length=50)
    active: bool


class LocationDeleted(_LocationEvent):
    event_type = "commerce.location.deleted"


# -- inventory (one aggregate per variant's stock) -------------------------------------


class _InventoryEvent(DomainEvent):
    abstract: ClassVar[bool] = True
    aggregate_type = "inventory"
    aggregate_id_field = "variant_id"

    variant_id: NonNilUUID
    product_id: NonNilUUID
    location_id: int = Field(ge=1)


class InventoryAdjusted(_InventoryEvent):
    """``on_hand`` is negative only for a variant that may oversell."""

    event_type = "commerce.inventory.adjusted"
    delta: int
    reason: AdjustmentReasonText
    on_hand: int
    reserved: NonNegativeInt

    @model_validator(mode="after")
    def _changes_something(self) -> "InventoryAdjusted":
        if self.delta == 0:
            raise ValueError("delta: an adjustment must change the stock")
        return self


class InventoryReserved(_InventoryEvent):
    event_type = "commerce.inventory.reserved"
    reservation_id: NonNilUUID
    quantity: int = Field(ge=1)
    reference: Reference
    reserved: NonNegativeInt


class InventoryReleased(_InventoryEvent):
    """A reservation ended without a sale: released by its holder or expired."""

    event_type = "commerce.inventory.released"
    reservation_id: NonNilUUID
    quantity: int = Field(ge=1)
    reference: Reference
    reserved: NonNegativeInt
    expired: bool


class InventorySold(_InventoryEvent):
    """A reservation became a sale: its units left ``on_hand`` and ``reserved`` together (one
    ``sold`` adjustment), so the available stock did not change."""

    event_type = "commerce.inventory.sold"
    reservation_id: NonNilUUID
    quantity: int = Field(ge=1)
    reference: Reference
    on_hand: int
    reserved: NonNegativeInt


class InventoryLow(DomainEvent):
    """The variant's available stock (all locations) fell below its threshold."""

    event_type = "commerce.inventory.low"
    aggregate_type = "inventory"
    aggregate_id_field = "variant_id"

    variant_id: NonNilUUID
    product_id: NonNilUUID
    sku: Sku
    available: int
    threshold: int = Field(ge=1)

    @model_validator(mode="after")
    def _is_below(self) -> "InventoryLow":
        if self.available >= self.threshold:
            raise ValueError("available: must be below the threshold")
        return self


# -- product images (the product aggregate) -------------------------------------------


class _ProductImageEvent(_ProductEvent):
    abstract: ClassVar[bool] = True
    image_id: NonNilUUID


class ProductImageAdded(_ProductImageEvent):
    event_type = "commerce.product.image_added"
    position: NonNegativeInt
    content_type: ShortText
    size: int = Field(ge=1)


class ProductImageUpdated(_ProductImageEvent):
    """The image's alt text changed (``locales`` names the locales whose text changed)."""

    event_type = "commerce.product.image_updated"
    locales: list[Locale] = Field(min_length=1, max_length=50)


class ProductImageReordered(_ProductEvent):
    """The product's images, all of them, in their new order."""

    event_type = "commerce.product.image_reordered"
    image_ids: list[NonNilUUID] = Field(min_length=2, max_length=1000)

    @model_validator(mode="after")
    def _each_once(self) -> "ProductImageReordered":
        if len(set(self.image_ids)) != len(self.image_ids):
            raise ValueError("image_ids: each image once")
        return self


class ProductImageDeleted(_ProductImageEvent):
    event_type = "commerce.product.image_deleted"


# Every event that changes what a product shows, for subscribers that re-read products.
PRODUCT_EVENT_TYPES = (
    ProductCreated.event_type,
    ProductUpdated.event_type,
    ProductDeleted.event_type,
    ProductActivated.event_type,
    ProductArchived.event_type,
    ProductDrafted.event_type,
    VariantCreated.event_type,
    VariantUpdated.event_type,
    VariantDeleted.event_type,
    PriceSet.event_type,
    PriceDeleted.event_type,
    ProductImageAdded.event_type,
    ProductImageUpdated.event_type,
    ProductImageReordered.event_type,
    ProductImageDeleted.event_type,
)
INVENTORY_EVENT_TYPES = (
    InventoryAdjusted.event_type,
    InventoryReserved.event_type,
    InventoryReleased.event_type,
    InventorySold.event_type,
    InventoryLow.event_type,
)


# -- payments (one aggregate per payment attempt) ---------------------------------------------


class _PaymentEvent(DomainEvent):
    abstract: ClassVar[bool] = True
    aggregate_type = "payment"
    aggregate_id_field = "attempt_id"
    aggregate_version_field = "version"

    attempt_id: NonNilUUID
    version: AggregateVersion
    reference: Reference
    provider: ShortText
    amount: NonNegativeAmount
    currency: CurrencyCode

    @model_validator(mode="after")
    def _positive(self) -> "_PaymentEvent":
        if self.amount <= 0:
            raise ValueError("amount: a payment moves a positive amount")
        return self


class PaymentAttempted(_PaymentEvent):
    """A charge or a refund was tried and the provider answered (or did not: ``failed``).

    A retry of the same attempt (same idempotency key, after a timeout) publishes it again
    with the next ``tries``. Amounts are strings in JSON.
    """

    event_type = "commerce.payment.attempted"

    kind: Literal["charge", "refund"]
    number: int = Field(ge=1)
    tries: AggregateVersion
    outcome: Literal["approved", "declined", "pending", "failed"]
    provider_reference: str = Field(default="", max_length=100)
    error_code: str = Field(default="", max_length=64)
    card_last4: str = Field(default="", pattern=r"^([0-9]{4})?$")
    card_brand: str = Field(default="", max_length=16)


class PaymentConfirmed(_PaymentEvent):
    """A pending payment (a bank transfer) was marked as received by a merchant."""

    event_type = "commerce.payment.confirmed"
    provider_reference: Text(100)


PAYMENT_EVENT_TYPES = (PaymentAttempted.event_type, PaymentConfirmed.event_type)


# -- checkout ---------------------------------------------------------------------------------

CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]


class TaxRateSet(DomainEvent):
    event_type = "commerce.tax_rate.set"
    aggregate_type = "tax_rate"
    aggregate_id_field = "country"

    country: CountryCode
    rate: NonNegativeAmount


class TaxRateDeleted(DomainEvent):
    event_type = "commerce.tax_rate.deleted"
    aggregate_type = "tax_rate"
    aggregate_id_field = "country"

    country: CountryCode


class ShippingZoneSaved(DomainEvent):
    event_type = "commerce.shipping_zone.saved"
    aggregate_type = "shipping_zone"
    aggregate_id_field = "zone_id"

    zone_id: int = Field(ge=1)
    countries: list[CountryCode] = Field(min_length=1, max_length=300)
    created: bool


class ShippingZoneDeleted(DomainEvent):
    event_type = "commerce.shipping_zone.deleted"
    aggregate_type = "shipping_zone"
    aggregate_id_field = "zone_id"

    zone_id: int = Field(ge=1)


class ShippingMethodSaved(DomainEvent):
    """A method and its rates (one write); ``currencies`` are those it has a rate in."""

    event_type = "commerce.shipping_method.saved"
    aggregate_type = "shipping_method"
    aggregate_id_field = "method_id"

    method_id: int = Field(ge=1)
    zone_id: int = Field(ge=1)
    active: bool
    currencies: list[CurrencyCode] = Field(max_length=50)
    created: bool


class ShippingMethodDeleted(DomainEvent):
    event_type = "commerce.shipping_method.deleted"
    aggregate_type = "shipping_method"
    aggregate_id_field = "method_id"

    method_id: int = Field(ge=1)


class _VoucherEvent(DomainEvent):
    abstract: ClassVar[bool] = True
    aggregate_type = "voucher"
    aggregate_id_field = "voucher_id"
    aggregate_version_field = "version"

    voucher_id: int = Field(ge=1)
    code: Text(64)
    version: AggregateVersion


class VoucherSaved(_VoucherEvent):
    event_type = "commerce.voucher.saved"
    created: bool


class VoucherDeleted(_VoucherEvent):
    event_type = "commerce.voucher.deleted"


class VoucherUsed(_VoucherEvent):
    """An order took one use of the voucher (``used_count`` after it)."""

    event_type = "commerce.voucher.used"
    checkout_reference: Reference
    used_count: int = Field(ge=1)


class _CheckoutEvent(DomainEvent):
    abstract: ClassVar[bool] = True
    aggregate_type = "checkout"
    aggregate_id_field = "checkout_id"
    aggregate_version_field = "version"

    checkout_id: NonNilUUID
    version: AggregateVersion


class CheckoutStarted(_CheckoutEvent):
    event_type = "commerce.checkout.started"
    cart_id: NonNilUUID


class CheckoutUpdated(_CheckoutEvent):
    """The checkout's email, addresses, shipping method or voucher changed (``changed``)."""

    event_type = "commerce.checkout.updated"
    changed: list[ShortText] = Field(min_length=1, max_length=10)


class CheckoutReserved(_CheckoutEvent):
    """The checkout's stock is held until ``reserved_until`` (for the payment step)."""

    event_type = "commerce.checkout.reserved"
    reference: Reference
    lines: int = Field(ge=1)


# -- orders (one aggregate, one stream per order) --------------------------------------
#
# These are both what is published to the outbox and what the order's own stream
# (``OrderEvent``) records: the stream row keeps the type and this payload, and folding
# the payloads gives the order (``order_state.apply``). ``version`` is the stream's version.

OrderStatusText = Text(16)
OrderText = Text(100)
# An order's free text: empty allowed (a voucher code, a cancel reason).
OptionalText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]


class OrderLinePayload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    variant_id: NonNilUUID | None
    product_id: NonNilUUID | None
    sku: Sku
    product_title: ShortText
    variant_title: OptionalText
    quantity: int = Field(ge=1)
    unit_price: NonNegativeAmount
    discount: NonNegativeAmount
    tax_rate: Annotated[Decimal, Field(ge=0, le=1, max_digits=7, decimal_places=6)]
    tax: NonNegativeAmount
    total: NonNegativeAmount
    allocations: list[tuple[int, int]] = Field(max_length=100)


class _OrderEvent(DomainEvent):
    abstract: ClassVar[bool] = True
    aggregate_type = "order"
    aggregate_id_field = "order_id"
    aggregate_version_field = "version"

    order_id: NonNilUUID
    version: AggregateVersion
    number: int = Field(ge=1)


class OrderPlaced(_OrderEvent):
    """The order as placed: everything it holds, lines included (the stream's first event)."""

    event_type = "commerce.order.placed"
    currency: CurrencyCode
    locale: Locale
    email: Text(254)
    customer_id: int | None = Field(default=None, ge=1)
    shipping_address: dict[str, str]
    billing_address: dict[str, str]
    shipping_method: OptionalText
    shipping_price: NonNegativeAmount
    shipping_tax: NonNegativeAmount
    voucher_code: OptionalText
    prices_include_tax: bool
    subtotal: NonNegativeAmount
    discount: NonNegativeAmount
    tax: NonNegativeAmount
    total: NonNegativeAmount
    payment_provider: Text(32)
    checkout_reference: OrderText
    lines: list[OrderLinePayload] = Field(min_length=1, max_length=1000)

    @model_validator(mode="after")
    def _first(self) -> "OrderPlaced":
        if self.version != 1:
            raise ValueError("version: an order is placed at version 1")
        return self


class _OrderStatusChange(_OrderEvent):
    abstract: ClassVar[bool] = True
    from_status: OrderStatusText
    to_status: OrderStatusText


class OrderConfirmed(_OrderStatusChange):
    event_type = "commerce.order.confirmed"


class OrderPaid(_OrderStatusChange):
    """The payment of the order's total arrived (``reference`` is the provider's)."""

    event_type = "commerce.order.paid"
    reference: OrderText
    amount: NonNegativeAmount


class OrderShipped(_OrderStatusChange):
    event_type = "commerce.order.shipped"
    carrier: OrderText
    tracking_number: OrderText


class OrderDelivered(_OrderStatusChange):
    event_type = "commerce.order.delivered"


class OrderCancelled(_OrderStatusChange):
    """Cancelled before payment; the units of its allocations went back to stock."""

    event_type = "commerce.order.cancelled"
    reason: OptionalText


class OrderRefunded(_OrderStatusChange):
    """Money went back: all that was left (``to_status`` refunded) or part of it (the
    status stays, ``payment_status`` says partially refunded)."""

    event_type = "commerce.order.refunded"
    amount: Annotated[Decimal, Field(gt=0, max_digits=20, decimal_places=6)]
    refunded_amount: NonNegativeAmount
    payment_status: Text(20)
    reason: OptionalText
    # The provider's reference of the money given back ("" when no provider gave it back: a
    # bank transfer is paid back by the merchant's bank). Added later with a default, so the
    # streams stored before it still load.
    payment_reference: str = Field(default="", max_length=100)


ORDER_EVENT_TYPES = (
    OrderPlaced.event_type,
    OrderConfirmed.event_type,
    OrderPaid.event_type,
    OrderShipped.event_type,
    OrderDelivered.event_type,
    OrderCancelled.event_type,
    OrderRefunded.event_type,
)
