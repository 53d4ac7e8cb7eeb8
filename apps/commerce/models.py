"""Commerce: the catalog (products, options, variants, prices, collections, categories), the
store's currencies and inventory (locations, stock levels, adjustments, reservations).

Tables and constraints only; every write goes through ``services``. What a single row can
guarantee is a constraint here; what needs other rows (a currency being enabled, on-hand
stock going negative only for variants that may oversell) is checked by the services under
a row lock.
"""

import uuid

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import UserManager
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from .money import AMOUNT_DIGITS, AMOUNT_PLACES, Money

CURRENCY_FORMAT = r"^[A-Z]{3}$"


class ProductStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Active")
    ARCHIVED = "archived", _("Archived")


class DescriptionFormat(models.TextChoices):
    MARKDOWN = "markdown", _("Markdown")
    HTML = "html", _("HTML")


class InventoryPolicy(models.TextChoices):
    DENY = "deny", _("Stop selling when out of stock")
    CONTINUE = "continue", _("Continue selling when out of stock")


class AdjustmentReason(models.TextChoices):
    RECEIVED = "received", _("Received")
    CORRECTION = "correction", _("Correction")
    DAMAGED = "damaged", _("Damaged")
    SOLD = "sold", _("Sold")
    RETURNED = "returned", _("Returned")


class StoreSettings(models.Model):
    """The tenant's one row of store settings (its primary key is always 1)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    default_currency = models.CharField(max_length=3, default="USD")
    enabled_currencies = ArrayField(models.CharField(max_length=3), default=list)
    prices_include_tax = models.BooleanField(
        _("prices include tax"),
        default=True,
        help_text=_("Listed prices are gross (tax included); else tax is added at checkout."),
    )
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("store settings")
        verbose_name_plural = _("store settings")
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="commerce_store_settings_singleton"),
            models.CheckConstraint(
                condition=Q(default_currency__regex=CURRENCY_FORMAT),
                name="commerce_store_default_currency_format",
            ),
        ]

    def __str__(self) -> str:
        return str(_("Store settings"))


class Category(models.Model):
    """A node of the catalog's category tree."""

    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    name = models.CharField(max_length=120)
    handle = models.SlugField(max_length=120, unique=True)
    position = models.PositiveIntegerField(default=0)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        constraints = [
            models.CheckConstraint(
                condition=~Q(parent=F("id")), name="commerce_category_not_own_parent"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    """A product. Its own text fields are in the tenant's default locale; the other locales
    are ``ProductTranslation`` rows. ``version`` counts every change to the product, its
    translations, options, variants and prices (they form one aggregate)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    handle = models.SlugField(max_length=255, unique=True)
    title = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    description_format = models.CharField(
        max_length=16, choices=DescriptionFormat.choices, default=DescriptionFormat.MARKDOWN
    )
    description_html = models.TextField(blank=True, help_text=_("The description, sanitized."))
    vendor = models.CharField(max_length=255, blank=True)
    product_type = models.CharField(max_length=255, blank=True)
    status = models.CharField(
        max_length=16, choices=ProductStatus.choices, default=ProductStatus.DRAFT
    )
    seo_title = models.CharField(max_length=255, blank=True)
    seo_description = models.CharField(max_length=320, blank=True)
    categories = models.ManyToManyField(Category, blank=True, related_name="products")
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("product")
        verbose_name_plural = _("products")
        indexes = [models.Index(fields=["status", "-created_at"], name="commerce_product_status")]

    def __str__(self) -> str:
        return self.title


class ProductTranslation(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="translations")
    locale = models.CharField(max_length=16)
    title = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    description_format = models.CharField(
        max_length=16, choices=DescriptionFormat.choices, default=DescriptionFormat.MARKDOWN
    )
    description_html = models.TextField(blank=True)
    seo_title = models.CharField(max_length=255, blank=True)
    seo_description = models.CharField(max_length=320, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["locale"]
        verbose_name = _("product translation")
        verbose_name_plural = _("product translations")
        constraints = [
            models.UniqueConstraint(
                fields=["product", "locale"], name="commerce_product_translation_uniq"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} [{self.locale}]"


class Collection(models.Model):
    """A hand-picked, ordered list of products."""

    title = models.CharField(max_length=255)
    handle = models.SlugField(max_length=255, unique=True)
    description = models.TextField(blank=True)
    products = models.ManyToManyField(
        Product, through="CollectionProduct", blank=True, related_name="collections"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]
        verbose_name = _("collection")
        verbose_name_plural = _("collections")

    def __str__(self) -> str:
        return self.title


class CollectionProduct(models.Model):
    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="members")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="memberships")
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["position"]
        verbose_name = _("collection product")
        verbose_name_plural = _("collection products")
        constraints = [
            models.UniqueConstraint(
                fields=["collection", "product"], name="commerce_collection_product_uniq"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.collection} #{self.position}"


class ProductOption(models.Model):
    """One of a product's (at most three) options: size, colour, ..."""

    MAX_PER_PRODUCT = 3

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="options")
    name = models.CharField(max_length=100)
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["position"]
        verbose_name = _("product option")
        verbose_name_plural = _("product options")
        constraints = [
            models.UniqueConstraint(fields=["product", "name"], name="commerce_option_name_uniq"),
            # Positions 0..2, one option each: the database itself caps options at three.
            models.UniqueConstraint(
                fields=["product", "position"],
                name="commerce_option_position_uniq",
                deferrable=models.Deferrable.DEFERRED,
            ),
            models.CheckConstraint(
                condition=Q(position__lt=3), name="commerce_option_at_most_three"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class OptionValue(models.Model):
    option = models.ForeignKey(ProductOption, on_delete=models.CASCADE, related_name="values")
    value = models.CharField(max_length=100)
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["position"]
        verbose_name = _("option value")
        verbose_name_plural = _("option values")
        constraints = [
            models.UniqueConstraint(fields=["option", "value"], name="commerce_option_value_uniq"),
        ]

    def __str__(self) -> str:
        return self.value


class Variant(models.Model):
    """A purchasable version of a product: one value of each of the product's options."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="variants")
    sku = models.CharField(max_length=64, unique=True)
    barcode = models.CharField(max_length=64, blank=True)
    weight_grams = models.DecimalField(max_digits=12, decimal_places=3, null=True, blank=True)
    position = models.PositiveIntegerField(default=0)
    inventory_policy = models.CharField(
        max_length=16, choices=InventoryPolicy.choices, default=InventoryPolicy.DENY
    )
    tracked = models.BooleanField(default=True)
    low_stock_threshold = models.PositiveIntegerField(
        default=0, help_text=_("Available stock below this is low; 0 turns the alert off.")
    )
    # The ids of the chosen option values, sorted and joined with dots ("" for a product
    # without options): unique per product, so a combination exists once.
    option_key = models.CharField(max_length=64, blank=True, editable=False)
    option_values = models.ManyToManyField(
        OptionValue, through="VariantOptionValue", blank=True, related_name="variants"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "created_at"]
        verbose_name = _("variant")
        verbose_name_plural = _("variants")
        constraints = [
            models.UniqueConstraint(
                fields=["product", "option_key"], name="commerce_variant_combination_uniq"
            ),
            models.CheckConstraint(
                condition=Q(weight_grams__isnull=True) | Q(weight_grams__gte=0),
                name="commerce_variant_weight_non_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.sku


class VariantOptionValue(models.Model):
    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="choices")
    # The option is stored next to the value so that one value per option is a constraint.
    option = models.ForeignKey(ProductOption, on_delete=models.CASCADE, related_name="+")
    # RESTRICT, not PROTECT: a used value cannot be deleted alone, but deleting the product
    # (its variants and options at once) may take it.
    value = models.ForeignKey(OptionValue, on_delete=models.RESTRICT, related_name="choices")

    class Meta:
        verbose_name = _("variant option value")
        verbose_name_plural = _("variant option values")
        constraints = [
            models.UniqueConstraint(
                fields=["variant", "option"], name="commerce_variant_one_value_per_option"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.variant}: {self.value}"


class Price(models.Model):
    """A variant's price in one currency, rounded to the currency's minor unit."""

    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="prices")
    currency = models.CharField(max_length=3)
    amount = models.DecimalField(max_digits=AMOUNT_DIGITS, decimal_places=AMOUNT_PLACES)
    compare_at_amount = models.DecimalField(
        max_digits=AMOUNT_DIGITS, decimal_places=AMOUNT_PLACES, null=True, blank=True
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["currency"]
        verbose_name = _("price")
        verbose_name_plural = _("prices")
        constraints = [
            models.UniqueConstraint(
                fields=["variant", "currency"], name="commerce_price_variant_currency_uniq"
            ),
            models.CheckConstraint(
                condition=Q(currency__regex=CURRENCY_FORMAT), name="commerce_price_currency_format"
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=0), name="commerce_price_amount_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(compare_at_amount__isnull=True) | Q(compare_at_amount__gt=F("amount")),
                name="commerce_price_compare_at_higher",
            ),
        ]

    def __str__(self) -> str:
        return str(self.money)

    @property
    def money(self) -> Money:
        """The amount with its currency's decimal places (the column keeps four)."""
        return Money(self.amount, self.currency)

    @property
    def compare_at_money(self) -> Money | None:
        if self.compare_at_amount is None:
            return None
        return Money(self.compare_at_amount, self.currency)


class Location(models.Model):
    """A place stock is kept (a warehouse, a shop's back room)."""

    code = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=120)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("location")
        verbose_name_plural = _("locations")

    def __str__(self) -> str:
        return self.name


class StockLevel(models.Model):
    """How many units of a variant a location holds (``on_hand``) and how many of those are
    promised to checkouts (``reserved``). ``on_hand`` goes below zero only for a variant that
    may oversell (checked by the services under the row lock)."""

    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="stock_levels")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="stock_levels")
    on_hand = models.IntegerField(default=0)
    reserved = models.IntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("stock level")
        verbose_name_plural = _("stock levels")
        constraints = [
            models.UniqueConstraint(
                fields=["variant", "location"], name="commerce_stock_variant_location_uniq"
            ),
            models.CheckConstraint(
                condition=Q(reserved__gte=0), name="commerce_stock_reserved_non_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.variant} @ {self.location}: {self.on_hand}"

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


class StockAdjustment(models.Model):
    """One change of a stock level's ``on_hand``: the ledger behind every number."""

    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="adjustments")
    # A location with history is deactivated, never deleted.
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="adjustments")
    delta = models.IntegerField()
    reason = models.CharField(max_length=16, choices=AdjustmentReason.choices)
    on_hand_after = models.IntegerField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("stock adjustment")
        verbose_name_plural = _("stock adjustments")
        constraints = [
            models.CheckConstraint(condition=~Q(delta=0), name="commerce_adjustment_non_zero"),
        ]

    def __str__(self) -> str:
        return f"{self.variant} @ {self.location}: {self.delta:+d} ({self.reason})"


class Reservation(models.Model):
    """Units of a variant at a location held for a checkout until ``expires_at``."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    variant = models.ForeignKey(Variant, on_delete=models.PROTECT, related_name="reservations")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="reservations")
    quantity = models.PositiveIntegerField()
    reference = models.CharField(max_length=100, help_text=_("What holds it (a checkout)."))
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["expires_at"]
        verbose_name = _("reservation")
        verbose_name_plural = _("reservations")
        indexes = [
            models.Index(fields=["expires_at"], name="commerce_reservation_expiry"),
            models.Index(fields=["reference"], name="commerce_reservation_ref"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="commerce_reservation_quantity_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.variant} ({self.reference})"


class ProductImage(models.Model):
    """A picture of a product, in the product's order (position 0 is its main image).

    The file lives in the tenant's own storage, like content's media; ``alt_text`` maps a
    locale to its text (``{"en": "A red tent", "de": "Ein rotes Zelt"}``).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="images")
    file = models.ImageField(
        upload_to="products/%Y/%m/", width_field="width", height_field="height"
    )
    content_type = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    position = models.PositiveIntegerField()
    alt_text = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position"]
        verbose_name = _("product image")
        verbose_name_plural = _("product images")
        constraints = [
            # Deferred: a reorder swaps positions within one transaction.
            models.UniqueConstraint(
                fields=["product", "position"],
                name="commerce_product_image_position_uniq",
                deferrable=models.Deferrable.DEFERRED,
            ),
        ]

    def __str__(self) -> str:
        return self.alt("") or (self.file.name or "").rsplit("/", 1)[-1]

    def alt(self, locale: str) -> str:
        """The alt text in ``locale``, else in any locale that has one."""
        return self.alt_text.get(locale) or next(
            (text for text in self.alt_text.values() if text), ""
        )


# -- payments --------------------------------------------------------------------------------


class PaymentKind(models.TextChoices):
    CHARGE = "charge", _("Charge")
    REFUND = "refund", _("Refund")


class PaymentOutcome(models.TextChoices):
    """What became of a charge or a refund. ``processing`` is an attempt's state between its
    first transaction (written before the provider is called) and its second (the answer);
    providers answer with one of the other four."""

    PROCESSING = "processing", _("Processing")
    APPROVED = "approved", _("Approved")
    DECLINED = "declined", _("Declined")
    PENDING = "pending", _("Pending")
    FAILED = "failed", _("Failed")


class PaymentAttempt(models.Model):
    """One try to take (or give back) money for a checkout, whatever came of it.

    The row is written before the provider is called (``processing``), in a transaction of
    its own, and completed after the provider's answer in a second one; a retry of the same
    attempt (after a timeout) reuses its ``idempotency_key`` and counts another try. A card
    is never stored: only its last four digits and its brand.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    reference = models.CharField(_("checkout reference"), max_length=100, db_index=True)
    # Set when the checkout becomes an order; a plain column (the order is event-sourced).
    order_id = models.UUIDField(_("order"), null=True, blank=True, db_index=True)
    kind = models.CharField(_("kind"), max_length=8, choices=PaymentKind.choices)
    number = models.PositiveIntegerField(_("attempt number"))
    provider = models.CharField(_("provider"), max_length=32)
    amount = models.DecimalField(
        _("amount"), max_digits=AMOUNT_DIGITS, decimal_places=AMOUNT_PLACES
    )
    currency = models.CharField(_("currency"), max_length=3)
    outcome = models.CharField(
        _("outcome"),
        max_length=16,
        choices=PaymentOutcome.choices,
        default=PaymentOutcome.PROCESSING,
    )
    provider_reference = models.CharField(_("provider reference"), max_length=100, blank=True)
    error_code = models.CharField(_("error code"), max_length=64, blank=True)
    message = models.TextField(_("message"), blank=True)
    card_last4 = models.CharField(_("card (last 4 digits)"), max_length=4, blank=True)
    card_brand = models.CharField(_("card brand"), max_length=16, blank=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=160, unique=True)
    tries = models.PositiveIntegerField(_("tries"), default=1)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("payment attempt")
        verbose_name_plural = _("payment attempts")
        indexes = [
            # The charges of checkouts without an order (few), read by the reconciliation job.
            models.Index(
                fields=["updated_at"],
                condition=Q(kind="charge", order_id__isnull=True),
                name="commerce_payment_unlinked",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["reference", "kind", "number"], name="commerce_payment_attempt_number"
            ),
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="commerce_payment_amount_positive"
            ),
            models.CheckConstraint(
                condition=Q(currency__regex=CURRENCY_FORMAT),
                name="commerce_payment_currency_format",
            ),
            models.CheckConstraint(
                condition=Q(card_last4="") | Q(card_last4__regex=r"^[0-9]{4}$"),
                name="commerce_payment_card_last4",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.reference} #{self.number}: {self.amount} {self.currency}"


# -- carts -----------------------------------------------------------------------------------


class Cart(models.Model):
    """A shopper's cart: a visitor's (found by the session's token) or a customer's."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="carts",
    )
    currency = models.CharField(max_length=3)
    locale = models.CharField(max_length=16, default="en")
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("cart")
        verbose_name_plural = _("carts")
        constraints = [
            # One open cart per customer.
            models.UniqueConstraint(
                fields=["customer"],
                name="commerce_cart_one_per_customer",
                condition=models.Q(customer__isnull=False),
            ),
        ]
        indexes = [
            # The stale visitors' carts, oldest first: pruning reads only what it deletes.
            models.Index(
                fields=["updated_at"],
                name="commerce_cart_visitor_touched",
                condition=models.Q(customer__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return str(self.token)


class CartLine(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="lines")
    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="cart_lines")
    quantity = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("cart line")
        verbose_name_plural = _("cart lines")
        constraints = [
            models.UniqueConstraint(fields=["cart", "variant"], name="commerce_cartline_unique"),
            models.CheckConstraint(
                condition=models.Q(quantity__gte=1), name="commerce_cartline_qty"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.variant_id}"


# -- checkout ---------------------------------------------------------------------------------

COUNTRY_FORMAT = r"^[A-Z]{2}$"
VOUCHER_CODE_FORMAT = r"^[A-Z0-9][A-Z0-9_-]{0,63}$"


class VoucherKind(models.TextChoices):
    PERCENTAGE = "percentage", _("Percentage of the subtotal")
    FIXED = "fixed", _("Fixed amount")


class TaxRate(models.Model):
    """The tax rate of one shipping country; a country without a row pays none."""

    country = models.CharField(_("country"), max_length=2, unique=True)
    rate = models.DecimalField(
        _("rate"), max_digits=6, decimal_places=4, help_text=_("0.19 for 19 %.")
    )
    name = models.CharField(_("name"), max_length=100, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["country"]
        verbose_name = _("tax rate")
        verbose_name_plural = _("tax rates")
        constraints = [
            models.CheckConstraint(
                condition=Q(country__regex=COUNTRY_FORMAT), name="commerce_taxrate_country_format"
            ),
            models.CheckConstraint(
                condition=Q(rate__gte=0) & Q(rate__lt=1), name="commerce_taxrate_rate_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.country} {self.rate * 100:.2f} %"


class ShippingZone(models.Model):
    """Countries that share shipping methods."""

    name = models.CharField(_("name"), max_length=120)
    countries = ArrayField(models.CharField(max_length=2), verbose_name=_("countries"))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("shipping zone")
        verbose_name_plural = _("shipping zones")
        indexes = [
            GinIndex(fields=["countries"], name="commerce_shipzone_countries"),
        ]

    def __str__(self) -> str:
        return self.name


class ShippingMethod(models.Model):
    zone = models.ForeignKey(ShippingZone, on_delete=models.CASCADE, related_name="methods")
    name = models.CharField(_("name"), max_length=120)
    # {locale: name} for the locales other than the default's.
    name_translations = models.JSONField(_("translated names"), default=dict, blank=True)
    active = models.BooleanField(_("active"), default=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("shipping method")
        verbose_name_plural = _("shipping methods")

    def __str__(self) -> str:
        return self.name

    def name_in(self, locale: str) -> str:
        return self.name_translations.get(locale) or self.name


class ShippingRate(models.Model):
    """A method's price in one currency, free when the discounted subtotal reaches
    ``free_over``."""

    method = models.ForeignKey(ShippingMethod, on_delete=models.CASCADE, related_name="rates")
    currency = models.CharField(_("currency"), max_length=3)
    price = models.DecimalField(_("price"), max_digits=AMOUNT_DIGITS, decimal_places=AMOUNT_PLACES)
    free_over = models.DecimalField(
        _("free over"), max_digits=AMOUNT_DIGITS, decimal_places=AMOUNT_PLACES,
        null=True, blank=True,
    )  # fmt: skip

    class Meta:
        ordering = ["currency"]
        verbose_name = _("shipping rate")
        verbose_name_plural = _("shipping rates")
        constraints = [
            models.UniqueConstraint(
                fields=["method", "currency"], name="commerce_shiprate_method_currency_uniq"
            ),
            models.CheckConstraint(
                condition=Q(currency__regex=CURRENCY_FORMAT), name="commerce_shiprate_currency"
            ),
            models.CheckConstraint(
                condition=Q(price__gte=0) & (Q(free_over__isnull=True) | Q(free_over__gte=0)),
                name="commerce_shiprate_non_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.method}: {self.price} {self.currency}"


class Voucher(models.Model):
    """An order voucher: a percentage off the subtotal, or a fixed amount per currency."""

    code = models.CharField(_("code"), max_length=64, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=VoucherKind.choices)
    percentage = models.DecimalField(
        _("percentage"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    starts_at = models.DateTimeField(_("starts at"), null=True, blank=True)
    ends_at = models.DateTimeField(_("ends at"), null=True, blank=True)
    usage_limit = models.PositiveIntegerField(_("usage limit"), null=True, blank=True)
    used_count = models.PositiveIntegerField(_("used"), default=0)
    per_customer_limit = models.PositiveIntegerField(_("uses per customer"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("voucher")
        verbose_name_plural = _("vouchers")
        constraints = [
            models.CheckConstraint(
                condition=Q(code__regex=VOUCHER_CODE_FORMAT), name="commerce_voucher_code_format"
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind=VoucherKind.PERCENTAGE, percentage__gt=0, percentage__lte=100)
                    | Q(kind=VoucherKind.FIXED, percentage__isnull=True)
                ),
                name="commerce_voucher_kind_percentage",
            ),
            models.CheckConstraint(
                condition=Q(starts_at__isnull=True)
                | Q(ends_at__isnull=True)
                | Q(ends_at__gt=F("starts_at")),
                name="commerce_voucher_window",
            ),
        ]

    def __str__(self) -> str:
        return self.code


class VoucherAmount(models.Model):
    """A voucher's terms in one currency: the amount off (fixed vouchers) and the smallest
    subtotal it applies to (either kind)."""

    voucher = models.ForeignKey(Voucher, on_delete=models.CASCADE, related_name="amounts")
    currency = models.CharField(_("currency"), max_length=3)
    amount = models.DecimalField(
        _("amount off"), max_digits=AMOUNT_DIGITS, decimal_places=AMOUNT_PLACES,
        null=True, blank=True,
    )  # fmt: skip
    min_subtotal = models.DecimalField(
        _("minimum subtotal"), max_digits=AMOUNT_DIGITS, decimal_places=AMOUNT_PLACES,
        null=True, blank=True,
    )  # fmt: skip

    class Meta:
        ordering = ["currency"]
        verbose_name = _("voucher amount")
        verbose_name_plural = _("voucher amounts")
        constraints = [
            models.UniqueConstraint(
                fields=["voucher", "currency"], name="commerce_voucheramount_uniq"
            ),
            models.CheckConstraint(
                condition=Q(currency__regex=CURRENCY_FORMAT), name="commerce_voucheramount_currency"
            ),
            models.CheckConstraint(
                condition=(Q(amount__isnull=True) | Q(amount__gt=0))
                & (Q(min_subtotal__isnull=True) | Q(min_subtotal__gte=0)),
                name="commerce_voucheramount_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.voucher}: {self.currency}"


class VoucherUse(models.Model):
    """One use of a voucher by a placed order (its checkout's reference)."""

    voucher = models.ForeignKey(Voucher, on_delete=models.PROTECT, related_name="uses")
    checkout_reference = models.CharField(max_length=100, unique=True)
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    email = models.EmailField(_("email"))
    used_at = models.DateTimeField(_("used at"), auto_now_add=True)

    class Meta:
        ordering = ["-used_at", "-id"]
        verbose_name = _("voucher use")
        verbose_name_plural = _("voucher uses")
        indexes = [
            models.Index(fields=["voucher", "customer"], name="commerce_voucheruse_customer"),
            models.Index(fields=["voucher", "email"], name="commerce_voucheruse_email"),
        ]

    def __str__(self) -> str:
        return f"{self.voucher} ({self.checkout_reference})"


class Checkout(models.Model):
    """A cart on its way to becoming an order: who, where, how it ships, which voucher.

    Amounts are never stored here: they are computed from the cart's lines and the current
    prices each time (``checkout_totals``), and fixed only by the order.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    cart = models.OneToOneField(Cart, on_delete=models.CASCADE, related_name="checkout")
    email = models.EmailField(blank=True)
    shipping_address = models.JSONField(default=dict, blank=True)
    # None: the same as the shipping address.
    billing_address = models.JSONField(null=True, blank=True)
    shipping_method = models.ForeignKey(
        ShippingMethod, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    voucher = models.ForeignKey(
        Voucher, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reservation_reference = models.CharField(max_length=100, unique=True)
    reserved_until = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("checkout")
        verbose_name_plural = _("checkouts")

    def __str__(self) -> str:
        return self.reservation_reference


# -- orders ----------------------------------------------------------------------------------


class OrderStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    CONFIRMED = "confirmed", _("Confirmed")
    PAID = "paid", _("Paid")
    FULFILLED = "fulfilled", _("Shipped")
    DELIVERED = "delivered", _("Delivered")
    CANCELLED = "cancelled", _("Cancelled")
    REFUNDED = "refunded", _("Refunded")


class PaymentStatus(models.TextChoices):
    UNPAID = "unpaid", _("Unpaid")
    PAID = "paid", _("Paid")
    PARTIALLY_REFUNDED = "partially_refunded", _("Partially refunded")
    REFUNDED = "refunded", _("Refunded")


# The per-tenant sequence of order numbers (each tenant schema has its own; see the
# migration). A number taken by a rolled-back placement is not reused: numbers may skip.
ORDER_NUMBER_SEQUENCE = "commerce_order_number_seq"
ORDER_NUMBER_START = 1001


def _amount(**options) -> models.DecimalField:
    return models.DecimalField(max_digits=AMOUNT_DIGITS, decimal_places=AMOUNT_PLACES, **options)


class Order(models.Model):
    """An order as its event stream (``OrderEvent``) says it is now: a projection, written
    from the folded stream in the transaction that appends to it, never edited on its own.
    ``version`` is the stream's last version."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    number = models.PositiveBigIntegerField(unique=True)
    status = models.CharField(max_length=16, choices=OrderStatus.choices)
    payment_status = models.CharField(max_length=20, choices=PaymentStatus.choices)
    currency = models.CharField(max_length=3)
    locale = models.CharField(max_length=16)
    email = models.EmailField(max_length=254)
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="orders",
    )  # fmt: skip
    shipping_address = models.JSONField(default=dict)
    billing_address = models.JSONField(default=dict)
    shipping_method = models.CharField(max_length=255, blank=True)
    shipping_price = _amount(default=0)
    shipping_tax = _amount(default=0)
    voucher_code = models.CharField(max_length=64, blank=True)
    prices_include_tax = models.BooleanField()
    subtotal = _amount()
    discount = _amount(default=0)
    tax = _amount(default=0)
    total = _amount()
    paid_amount = _amount(default=0)
    refunded_amount = _amount(default=0)
    payment_provider = models.CharField(max_length=32)
    payment_reference = models.CharField(max_length=100, blank=True)
    carrier = models.CharField(max_length=100, blank=True)
    tracking_number = models.CharField(max_length=100, blank=True)
    cancel_reason = models.CharField(max_length=500, blank=True)
    checkout_reference = models.CharField(max_length=100, unique=True)
    version = models.PositiveIntegerField()
    placed_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-placed_at"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        indexes = [models.Index(fields=["status", "-placed_at"], name="commerce_order_status")]
        constraints = [
            models.CheckConstraint(
                condition=Q(refunded_amount__lte=F("paid_amount")),
                name="commerce_order_refund_within_paid",
            ),
            models.CheckConstraint(
                condition=Q(currency__regex=CURRENCY_FORMAT), name="commerce_order_currency_format"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.number}"


class OrderLine(models.Model):
    """A line of an order, copied at purchase: the catalog may change, the line does not."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField()
    variant = models.ForeignKey(
        Variant, null=True, blank=True, on_delete=models.SET_NULL, related_name="order_lines"
    )
    product_id = models.UUIDField(null=True, blank=True)
    sku = models.CharField(max_length=64)
    product_title = models.CharField(max_length=255)
    variant_title = models.CharField(max_length=255, blank=True)
    quantity = models.PositiveIntegerField()
    unit_price = _amount()
    discount = _amount(default=0)
    tax_rate = models.DecimalField(max_digits=7, decimal_places=6)
    tax = _amount(default=0)
    total = _amount()
    # [[location_id, quantity], ...]: where the units came from (returned there on cancel).
    allocations = models.JSONField(default=list)

    class Meta:
        ordering = ["position"]
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        constraints = [
            models.UniqueConstraint(fields=["order", "position"], name="commerce_orderline_pos"),
            models.CheckConstraint(
                condition=Q(quantity__gte=1), name="commerce_orderline_quantity"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku}"


class OrderEvent(models.Model):
    """The order's stream: what happened to it, in order, kept forever.

    Append-only: a trigger (see the migration) refuses UPDATE and DELETE. ``order_id`` is a
    plain column, not a foreign key, so nothing done to the ``Order`` row can cascade here.
    ``type`` and ``payload`` are those of the typed event published to the outbox.
    """

    id = models.BigAutoField(primary_key=True)
    order_id = models.UUIDField()
    version = models.PositiveIntegerField()
    type = models.CharField(max_length=64)
    schema_version = models.PositiveSmallIntegerField(default=1)
    payload = models.JSONField()
    actor_kind = models.CharField(max_length=16, blank=True)
    actor_id = models.CharField(max_length=64, blank=True)
    actor_label = models.CharField(max_length=255, blank=True)
    occurred_at = models.DateTimeField()

    class Meta:
        ordering = ["order_id", "version"]
        verbose_name = _("order event")
        verbose_name_plural = _("order events")
        constraints = [
            # Also the index of every read of a stream; and a racing writer's second
            # "version n+1" fails here.
            models.UniqueConstraint(fields=["order_id", "version"], name="commerce_orderevent_seq"),
            models.CheckConstraint(condition=Q(version__gte=1), name="commerce_orderevent_v1"),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} v{self.version} {self.type}"


class OrderEmailKind(models.TextChoices):
    CONFIRMATION = "confirmation", _("Order confirmation")
    SHIPPING = "shipping", _("Shipping notice")


class OrderEmailState(models.TextChoices):
    SENT = "sent", _("sent")
    WAITING = "waiting", _("waiting to be sent")
    NOT_SENT = "not_sent", _("not sent")


class OrderEmail(models.Model):
    """An email about an order, one per kind: the row is written in the handler's
    transaction and the message goes out after it commits (``sent_at`` then says when).

    Until it is sent, ``next_attempt_at`` is when beat tries it (again): a send that failed
    waits its turn in the retry schedule; one that never answered (its worker died while the
    mail server had it) is tried again once the hand-over time is past. ``None`` with no
    ``sent_at``: every attempt failed, and only a merchant's "send again" sends it."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="emails")
    kind = models.CharField(max_length=16, choices=OrderEmailKind.choices)
    event_id = models.UUIDField()
    recipient = models.EmailField(max_length=254)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("order email")
        verbose_name_plural = _("order emails")
        constraints = [
            models.UniqueConstraint(fields=["order", "kind"], name="commerce_orderemail_once"),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(sent_at__isnull=True, next_attempt_at__isnull=False),
                name="commerce_orderemail_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order} {self.get_kind_display()}"

    @property
    def state(self) -> OrderEmailState:
        if self.sent_at is not None:
            return OrderEmailState.SENT
        if self.next_attempt_at is not None:
            return OrderEmailState.WAITING
        return OrderEmailState.NOT_SENT


# -- customers (admin) -----------------------------------------------------------------------


class CustomerManager(UserManager):
    """Storefront accounts only: the tenant's staff are not customers."""

    def get_queryset(self):
        return super().get_queryset().filter(is_staff=False)


class Customer(get_user_model()):
    """A storefront account, as the merchants' admin and the API list it (a proxy: no table)."""

    objects = CustomerManager()

    class Meta:
        proxy = True
        ordering = ["-date_joined"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
