"""Every write to commerce. Each function is one transaction that ends with its events published.

Locks, always taken in this order so that two writers never wait on each other in a circle:
the product row (every change to a product, its options, variants and prices bumps its
version under it), then variant rows, then stock level rows, each group in primary-key
order (``order_by("pk").select_for_update(of=("self",))``). Every check that depends on
stored state runs after the lock that protects it. Rows a write only refers to (the
categories a product joins, the products a collection lists, the location of a stock
level) are taken ``FOR KEY SHARE``: they cannot be deleted under the write, and writers
that merely refer to them never wait for each other. Changes to the category tree are
serialized per tenant by an advisory lock, so two moves can never make a cycle together.

Carts' writes live in ``apps.commerce.carts`` (import them from there; they are not
re-exported here).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, Min, OuterRef, Q
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from apps.core.errors import InvalidTransition, PlatformError
from apps.core.images import ImageInvalid, validate_image
from apps.core.models import model_update, would_cycle
from apps.core.rendering import render_body
from apps.core.transitions import Transition, TransitionTable
from apps.events.publisher import publish, publish_many
from apps.tenancy.services import due_work_kind, work_due

from . import events
from .csv_format import ImportRejected, RowError
from .errors import (
    CatalogConflict,
    CategoryNotFound,
    CollectionNotFound,
    CommerceInvalid,
    LocationNotFound,
    OptionNotFound,
    OutOfStock,
    PriceNotFound,
    ProductImageNotFound,
    ProductNotFound,
    ReservationExpired,
    ReservationNotFound,
    VariantNotFound,
    located,
)
from .models import (
    AdjustmentReason,
    Category,
    Collection,
    CollectionProduct,
    DescriptionFormat,
    InventoryPolicy,
    Location,
    OptionValue,
    Price,
    Product,
    ProductImage,
    ProductOption,
    ProductStatus,
    ProductTranslation,
    Reservation,
    StockAdjustment,
    StockLevel,
    StoreSettings,
    Variant,
    VariantOptionValue,
)
from .money import MoneyError, normalize_currency, parse_amount
from .selectors import current_locales, store_settings

MAX_QUANTITY = 1_000_000_000
MAX_CURRENCIES = 20
MAX_OPTION_VALUES = 100
WEIGHT_STEP = Decimal("0.001")
MAX_WEIGHT = Decimal(10) ** 9

# -- the product status machine -----------------------------------------------------------


def _unknown_action(status: str, action: str) -> str:
    return _("There is no action '%(action)s'.") % {"action": action}


def _refusal(status: str, transition: Transition) -> str:
    return _("A product that is %(status)s cannot be moved to %(target)s.") % {
        "status": ProductStatus(status).label,
        "target": transition.target,
    }


# draft -> active -> archived; active -> draft; archived -> draft.
PRODUCT_TRANSITIONS: TransitionTable[type[events.DomainEvent]] = TransitionTable(
    [
        Transition("activate", frozenset({ProductStatus.DRAFT}), ProductStatus.ACTIVE,
                   events.ProductActivated, gettext_lazy("Activate"), gettext_lazy("activated")),
        Transition("archive", frozenset({ProductStatus.ACTIVE}), ProductStatus.ARCHIVED,
                   events.ProductArchived, gettext_lazy("Archive"), gettext_lazy("archived")),
        Transition("draft", frozenset({ProductStatus.ACTIVE, ProductStatus.ARCHIVED}),
                   ProductStatus.DRAFT, events.ProductDrafted, gettext_lazy("Back to draft"),
                   gettext_lazy("moved back to draft")),
    ],
    refusal=_refusal,
    unknown=_unknown_action,
)  # fmt: skip


# -- small validators ---------------------------------------------------------------------


def _user(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


def _text(
    errors: dict[str, str], name: str, value: Any, *, max_length: int, required: bool = False
) -> str:
    text = ("" if value is None else str(value)).strip()
    if required and not text:
        errors[name] = _("required")
    elif len(text) > max_length:
        errors[name] = _("at most %(count)d characters") % {"count": max_length}
    return text


def _handle(errors: dict[str, str], name: str, value: Any, *, fallback: str, max_length: int):
    """A URL handle: lower-case letters, digits and hyphens, made from ``fallback`` if empty."""
    handle = slugify(str(value or "") or fallback).replace("_", "-").strip("-")[:max_length]
    if not handle:
        errors[name] = _("cannot be empty (use letters or digits)")
    return handle.strip("-")


def _int(
    errors: dict[str, str], name: str, value: Any, *, minimum: int, maximum: int = MAX_QUANTITY
) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        errors[name] = _("must be a whole number")
        return 0
    if not minimum <= value <= maximum:
        errors[name] = _("must be between %(low)d and %(high)d") % {"low": minimum, "high": maximum}
    return value


def _raise(errors: dict[str, str]) -> None:
    if errors:
        raise CommerceInvalid(errors)


def _saved(instance, errors: dict[str, str], *, update_fields: list[str] | None = None) -> None:
    """Save in a savepoint: losing a uniqueness race is a validation error, not a 500."""
    try:
        with transaction.atomic():
            instance.save(update_fields=update_fields)
    except IntegrityError:
        raise CommerceInvalid(errors) from None


def _key_share(model, ids: Iterable[Any]) -> set[Any]:
    """Take the rows of ``model`` with these primary keys ``FOR KEY SHARE`` (in key order);
    returns the keys found (a row deleted meanwhile is missing)."""
    wanted = sorted(set(ids), key=str)
    if not wanted:
        return set()
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {table} WHERE id = ANY(%s) ORDER BY id FOR KEY SHARE",  # noqa: S608
            [wanted],
        )
        return {row[0] for row in cursor.fetchall()}


# Advisory lock class of commerce's category tree (the key is the tenant's schema).
CATEGORY_TREE_LOCK = 0x636D


def _lock_category_tree() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, hashtext(current_schema()))", [CATEGORY_TREE_LOCK]
        )


# -- store settings -----------------------------------------------------------------------


def store_settings_update(
    *,
    default_currency: str | None = None,
    enabled_currencies: Sequence[str] | None = None,
    prices_include_tax: bool | None = None,
    actor=None,
) -> StoreSettings:
    """Change the currencies the store sells in (the default currency must be enabled) and
    whether its listed prices include tax.

    A new default currency also needs a price in it for every active product (on at least
    one variant), as activation does; else ``CommerceInvalid`` names (a few of) them.
    Prices in a currency that is no longer enabled stay stored; no new one can be set.
    """
    errors: dict[str, str] = {}
    with transaction.atomic():
        current = store_settings()
        settings_row, _created = StoreSettings.objects.select_for_update().get_or_create(
            pk=1,
            defaults={
                "default_currency": current.default_currency,
                "enabled_currencies": current.enabled_currencies,
            },
        )
        default = settings_row.default_currency
        enabled = list(settings_row.enabled_currencies)
        if default_currency is not None:
            try:
                default = normalize_currency(default_currency)
            except MoneyError as error:
                errors["default_currency"] = str(error)
        if enabled_currencies is not None:
            if isinstance(enabled_currencies, str):
                enabled_currencies = [enabled_currencies]
            enabled = []
            for code in enabled_currencies:
                try:
                    normalized = normalize_currency(code)
                except MoneyError as error:
                    errors["enabled_currencies"] = str(error)
                    break
                if normalized not in enabled:
                    enabled.append(normalized)
            if not enabled and "enabled_currencies" not in errors:
                errors["enabled_currencies"] = _("enable at least one currency")
            if len(enabled) > MAX_CURRENCIES:
                errors["enabled_currencies"] = _("at most %(count)d currencies") % {
                    "count": MAX_CURRENCIES
                }
        include_tax = settings_row.prices_include_tax
        if prices_include_tax is not None:
            if isinstance(prices_include_tax, bool):
                include_tax = prices_include_tax
            else:
                errors["prices_include_tax"] = _("must be true or false")
        if not errors and default not in enabled:
            errors["default_currency"] = _("the default currency must be one of the enabled ones")
        if not errors and default != settings_row.default_currency:
            _check_priced_in(default, errors)
        _raise(errors)
        changed = model_update(
            instance=settings_row,
            fields=["default_currency", "enabled_currencies", "prices_include_tax"],
            data={
                "default_currency": default,
                "enabled_currencies": enabled,
                "prices_include_tax": include_tax,
            },
            save=False,
        )
        if changed:
            settings_row.version += 1
            settings_row.save()
            publish(
                events.StoreSettingsUpdated(
                    store_id=settings_row.pk,
                    default_currency=default,
                    enabled_currencies=enabled,
                    prices_include_tax=include_tax,
                    version=settings_row.version,
                ),
                actor=actor,
            )
    return settings_row


# How many products a refused change of the default currency names.
UNPRICED_NAMED = 5


def _check_priced_in(currency: str, errors: dict[str, str]) -> None:
    """Every active product must have a variant priced in ``currency``, the new default (the
    rule of activation). Products that are or may become active are taken ``FOR KEY SHARE``
    first: a concurrent activation or price removal (under the product's lock) either
    finishes before the check or waits for the new default to commit, then checks it."""
    _key_share(
        Product,
        Product.objects.filter(status__in=[ProductStatus.ACTIVE, ProductStatus.DRAFT]).values_list(
            "pk", flat=True
        ),
    )
    unpriced = Product.objects.filter(status=ProductStatus.ACTIVE).exclude(
        Exists(Price.objects.filter(variant__product=OuterRef("pk"), currency=currency))
    )
    count = unpriced.count()
    if not count:
        return
    named = ", ".join(
        unpriced.order_by("title", "pk").values_list("title", flat=True)[:UNPRICED_NAMED]
    )
    if count > UNPRICED_NAMED:
        named = _("%(products)s and %(count)d more") % {
            "products": named,
            "count": count - UNPRICED_NAMED,
        }
    errors["default_currency"] = ngettext(
        "%(count)d active product has no price in %(currency)s: %(products)s",
        "%(count)d active products have no price in %(currency)s: %(products)s",
        count,
    ) % {"count": count, "currency": currency, "products": named}


# -- products -----------------------------------------------------------------------------


@dataclass
class ProductInput:
    title: str
    handle: str = ""
    description: str = ""
    description_format: str = DescriptionFormat.MARKDOWN
    vendor: str = ""
    product_type: str = ""
    seo_title: str = ""
    seo_description: str = ""
    category_ids: list[int] = field(default_factory=list)


PRODUCT_FIELDS = (
    "title", "handle", "description", "description_format", "vendor", "product_type",
    "seo_title", "seo_description",
)  # fmt: skip
TRANSLATION_FIELDS = ("title", "description", "description_format", "seo_title", "seo_description")


def _clean_text_fields(
    values: Mapping[str, Any], *, prefix: str = "", handle_fallback: str | None = None
) -> dict[str, Any]:
    """Validated text fields of a product or a translation (only those given)."""
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    if "title" in values:
        clean["title"] = _text(
            errors, f"{prefix}title", values["title"], max_length=255, required=True
        )
    if "handle" in values or handle_fallback is not None:
        clean["handle"] = _handle(
            errors, "handle", values.get("handle"), fallback=handle_fallback or "", max_length=255
        )
    for name, limit in (("vendor", 255), ("product_type", 255), ("seo_title", 255)):
        if name in values:
            clean[name] = _text(errors, f"{prefix}{name}", values[name], max_length=limit)
    if "seo_description" in values:
        clean["seo_description"] = _text(
            errors, f"{prefix}seo_description", values["seo_description"], max_length=320
        )
    if "description_format" in values:
        if values["description_format"] not in DescriptionFormat.values:
            errors[f"{prefix}description_format"] = _("must be one of %(choices)s") % {
                "choices": ", ".join(DescriptionFormat.values)
            }
        clean["description_format"] = values["description_format"]
    if "description" in values:
        clean["description"] = "" if values["description"] is None else str(values["description"])
        if len(clean["description"]) > 100_000:
            errors[f"{prefix}description"] = _("at most %(count)d characters") % {"count": 100_000}
    _raise(errors)
    return clean


def _check_categories(category_ids: Iterable[int]) -> list[int]:
    if isinstance(category_ids, str | bytes) or not isinstance(category_ids, Iterable):
        raise CommerceInvalid({"category_ids": _("must be a list of category ids")})
    ids = list(dict.fromkeys(category_ids))
    if not all(_is_id(pk) for pk in ids):
        raise CommerceInvalid({"category_ids": _("must be category ids")})
    if ids and Category.objects.filter(pk__in=ids).count() != len(ids):
        raise CommerceInvalid({"category_ids": _("unknown category")})
    return ids


def _clean_translations(
    translations: Mapping[str, Mapping[str, Any]], *, stored: Mapping[str, ProductTranslation]
) -> dict[str, dict[str, Any]]:
    """Per locale, the full validated translation (stored values kept where none are given)."""
    locales = current_locales()
    cleaned: dict[str, dict[str, Any]] = {}
    for locale, values in translations.items():
        if locale not in locales:
            raise CommerceInvalid(
                {"locale": _("'%(locale)s' is not enabled for this site") % {"locale": locale}}
            )
        if locale == locales[0]:
            raise CommerceInvalid(
                {
                    "locale": _(
                        "'%(locale)s' is the default locale: change the product's own fields"
                    )
                    % {"locale": locale}
                }
            )
        unknown = set(values) - set(TRANSLATION_FIELDS)
        if unknown:
            raise CommerceInvalid(
                {f"translations.{locale}.{name}": _("unknown field") for name in sorted(unknown)}
            )
        row = stored.get(locale)
        merged = {name: getattr(row, name) for name in TRANSLATION_FIELDS} if row else {}
        merged.update(values)
        merged.setdefault("title", "")
        merged = _clean_text_fields(merged, prefix=f"translations.{locale}.")
        merged.setdefault("description", "")
        merged.setdefault("description_format", DescriptionFormat.MARKDOWN)
        merged["description_html"] = render_body(
            merged["description"], merged["description_format"]
        )
        cleaned[locale] = merged
    return cleaned


def _locked_product(product_id: UUID) -> Product:
    try:
        return Product.objects.select_for_update(of=("self",)).get(pk=product_id)
    except (Product.DoesNotExist, DjangoValidationError, ValueError, TypeError):
        raise ProductNotFound(_("No such product.")) from None


def _bump(product: Product) -> None:
    product.version += 1
    product.save(update_fields=["version", "updated_at"])


def _product_changed(product: Product, changed: list[str], *, actor) -> None:
    """Bump the product's version and announce what changed."""
    _bump(product)
    publish(
        events.ProductUpdated(product_id=product.pk, version=product.version, changed=changed[:50]),
        actor=actor,
    )


def _handle_taken(handle: str) -> dict[str, str]:
    return {"handle": _("'%(handle)s' is already used by another product") % {"handle": handle}}


def product_create(
    *,
    data: ProductInput,
    translations: Mapping[str, Mapping[str, Any]] | None = None,
    actor=None,
) -> Product:
    """A new draft product (the handle is made from the title when not given)."""
    with transaction.atomic():
        return _product_create_apply(data=data, translations=translations, actor=actor)


def _product_create_apply(
    *, data: ProductInput, translations: Mapping[str, Mapping[str, Any]] | None, actor
) -> Product:
    """``product_create`` inside the caller's transaction."""
    values = {name: getattr(data, name) for name in PRODUCT_FIELDS}
    clean = _clean_text_fields(values, handle_fallback=str(data.title or ""))
    clean["description_html"] = render_body(clean["description"], clean["description_format"])
    category_ids = _check_categories(data.category_ids)
    cleaned_translations = _clean_translations(translations or {}, stored={})
    if Product.objects.filter(handle=clean["handle"]).exists():
        raise CommerceInvalid(_handle_taken(clean["handle"]))
    if len(_key_share(Category, category_ids)) != len(category_ids):
        raise CommerceInvalid({"category_ids": _("unknown category")})
    product = Product(**clean)
    _saved(product, _handle_taken(clean["handle"]))
    product.categories.set(category_ids)
    for locale, fields in cleaned_translations.items():
        ProductTranslation.objects.create(product=product, locale=locale, **fields)
    publish(
        events.ProductCreated(
            product_id=product.pk, version=product.version, handle=product.handle
        ),
        actor=actor,
    )
    return product


@dataclass
class _ProductChange:
    """A product update's input, checked before the product is locked."""

    clean: dict[str, Any]
    category_ids: list[int] | None
    translations: Mapping[str, Mapping[str, Any]]
    delete_locales: list[str]


def _clean_product_change(
    fields: Mapping[str, Any] | None,
    translations: Mapping[str, Mapping[str, Any]] | None,
    delete_locales: Iterable[str],
) -> _ProductChange:
    fields = dict(fields or {})
    unknown = set(fields) - {*PRODUCT_FIELDS, "category_ids"}
    if unknown:
        raise CommerceInvalid({name: _("cannot be changed here") for name in sorted(unknown)})
    category_ids = fields.pop("category_ids", None)
    clean = _clean_text_fields(fields)
    if category_ids is not None:
        category_ids = _check_categories(category_ids)
    translations = translations or {}
    return _ProductChange(
        clean=clean,
        category_ids=category_ids,
        translations=translations,
        delete_locales=[
            locale for locale in dict.fromkeys(delete_locales) if locale not in translations
        ],
    )


def product_update(
    *,
    product_id: UUID,
    fields: Mapping[str, Any] | None = None,
    translations: Mapping[str, Mapping[str, Any]] | None = None,
    delete_locales: Iterable[str] = (),
    actor=None,
) -> Product:
    """Change a product's fields, categories and translations at once: one version, one event.

    :param fields: any of ``PRODUCT_FIELDS`` and ``category_ids`` (the full list).
    :param translations: per locale (not the default one), the fields to replace; a new
        locale needs a title.
    :param delete_locales: translations to delete.

    A change that changes nothing publishes nothing.
    """
    change = _clean_product_change(fields, translations, delete_locales)
    with transaction.atomic():
        product = _locked_product(product_id)
        _product_update_apply(product, change, actor=actor)
    return product


def _product_update_apply(product: Product, change: _ProductChange, *, actor) -> None:
    """``product_update`` on a product locked by the caller."""
    clean, category_ids = change.clean, change.category_ids
    changed = model_update(instance=product, fields=clean, data=clean, save=False)
    if {"description", "description_format"} & set(changed):
        product.description_html = render_body(product.description, product.description_format)
        changed_html = ["description_html"]
    else:
        changed_html = []
    if changed:
        if "handle" in changed and (
            Product.objects.filter(handle=product.handle).exclude(pk=product.pk).exists()
        ):
            raise CommerceInvalid(_handle_taken(product.handle))
        _saved(
            product,
            _handle_taken(product.handle),
            update_fields=[*changed, *changed_html, "updated_at"],
        )
    if category_ids is not None:
        current = set(product.categories.values_list("pk", flat=True))
        if current != set(category_ids):
            joining = set(category_ids) - current
            if len(_key_share(Category, joining)) != len(joining):
                raise CommerceInvalid({"category_ids": _("unknown category")})
            product.categories.set(category_ids)
            changed.append("categories")

    stored = {row.locale: row for row in product.translations.all()}
    for locale, values in _clean_translations(change.translations, stored=stored).items():
        row = stored.get(locale)
        if row is None:
            ProductTranslation.objects.create(product=product, locale=locale, **values)
            changed.append(f"translations.{locale}")
        elif model_update(instance=row, fields=values, data=values):
            changed.append(f"translations.{locale}")
    for locale in change.delete_locales:
        if locale not in stored:
            raise CommerceInvalid(
                {"delete_locales": _("no '%(locale)s' translation") % {"locale": locale}}
            )
        stored[locale].delete()
        changed.append(f"translations.{locale}")
    if changed:
        _product_changed(product, changed, actor=actor)


def _has_default_price(product: Product, *, excluding: Mapping[str, Any] | None = None) -> bool:
    """Whether a variant of ``product`` has a price in the store's default currency."""
    priced = Price.objects.filter(
        variant__product=product, currency=store_settings().default_currency
    )
    if excluding:
        priced = priced.exclude(**excluding)
    return priced.exists()


def product_transition(*, product_id: UUID, action: str, actor=None) -> Product:
    """Take the product through ``action`` of ``PRODUCT_TRANSITIONS``, checked under its lock.

    Activation also needs a variant priced in the store's default currency.
    """
    with transaction.atomic():
        product = _locked_product(product_id)
        transition = PRODUCT_TRANSITIONS.check(product.status, action)
        if transition.target == ProductStatus.ACTIVE and not _has_default_price(product):
            raise InvalidTransition(
                _("A product is activated only once a variant has a price in %(currency)s.")
                % {"currency": store_settings().default_currency},
                current=product.status,
                target=transition.target,
            )
        previous, product.status = product.status, transition.target
        product.version += 1
        product.save(update_fields=["status", "version", "updated_at"])
        publish(
            transition.event(
                product_id=product.pk,
                version=product.version,
                from_status=previous,
                to_status=transition.target,
            ),
            actor=actor,
        )
    return product


def _refuse_held_stock(*, variants: Iterable[Variant] | None = None, product=None) -> None:
    held = Reservation.objects.all()
    held = held.filter(variant__product=product) if product else held.filter(variant__in=variants)
    if held.exists():
        raise CatalogConflict(
            _("Stock of this item is reserved by a checkout; release the reservations first.")
        )


def product_delete(*, product_id: UUID, actor=None) -> None:
    """Delete a product that is not active, with its variants, prices and stock records."""
    with transaction.atomic():
        product = _locked_product(product_id)
        if product.status == ProductStatus.ACTIVE:
            raise InvalidTransition(
                _("An active product cannot be deleted: archive it or move it back to draft."),
                current=product.status,
            )
        # Its variants too (primary-key order), so no reservation slips in after the check.
        list(product.variants.order_by("pk").select_for_update(of=("self",)))
        _refuse_held_stock(product=product)
        event = events.ProductDeleted(
            product_id=product.pk, version=product.version + 1, handle=product.handle
        )
        _delete_image_files_on_commit(product)
        product.delete()
        publish(event, actor=actor)


# -- options ------------------------------------------------------------------------------


def _clean_option(name: Any, values: Any) -> tuple[str, list[str]]:
    errors: dict[str, str] = {}
    name = _text(errors, "name", name, max_length=100, required=True)
    if isinstance(values, str) or not isinstance(values, Sequence):
        errors["values"] = _("give a list of values")
        values = []
    cleaned: list[str] = []
    for index, value in enumerate(values):
        text = _text(errors, f"values.{index}", value, max_length=100, required=True)
        if text and text.casefold() in {seen.casefold() for seen in cleaned}:
            errors[f"values.{index}"] = _("'%(value)s' is given twice") % {"value": text}
        cleaned.append(text)
    if not values and "values" not in errors:
        errors["values"] = _("an option needs at least one value")
    if len(cleaned) > MAX_OPTION_VALUES:
        errors["values"] = _("at most %(count)d values") % {"count": MAX_OPTION_VALUES}
    _raise(errors)
    return name, cleaned


def _is_id(value: Any) -> bool:
    """Whether ``value`` can be an integer primary key (a bool cannot)."""
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _option_key(value_ids: Iterable[int]) -> str:
    return ".".join(str(pk) for pk in sorted(value_ids))


def _rekey_variants(product: Product) -> None:
    """Recompute each variant's combination key; refuse when two variants become identical."""
    keys: dict[UUID, list[int]] = {}
    for variant_id, value_id in VariantOptionValue.objects.filter(
        variant__product=product
    ).values_list("variant_id", "value_id"):
        keys.setdefault(variant_id, []).append(value_id)
    seen: dict[str, str] = {}
    for variant in product.variants.all():
        key = _option_key(keys.get(variant.pk, []))
        if key in seen:
            raise CatalogConflict(
                _("Variants %(first)s and %(second)s would have the same options.")
                % {"first": seen[key], "second": variant.sku}
            )
        seen[key] = variant.sku
        if variant.option_key != key:
            variant.option_key = key
            variant.save(update_fields=["option_key", "updated_at"])


def option_create(
    *, product_id: UUID, name: str, values: Sequence[str], actor=None
) -> ProductOption:
    """Add an option (at most three per product) with its ordered values. Existing variants
    take the first value, so their combinations stay distinct."""
    name, values = _clean_option(name, values)
    with transaction.atomic():
        product = _locked_product(product_id)
        return _option_create_apply(product, name=name, values=values, actor=actor)


def _option_create_apply(product: Product, *, name: str, values: list[str], actor) -> ProductOption:
    """``option_create`` (its input cleaned) on a product locked by the caller."""
    options = list(product.options.all())
    if len(options) >= ProductOption.MAX_PER_PRODUCT:
        raise CommerceInvalid(
            {"options": _("a product has at most %(count)d options")
             % {"count": ProductOption.MAX_PER_PRODUCT}}
        )  # fmt: skip
    if any(option.name.casefold() == name.casefold() for option in options):
        raise CommerceInvalid({"name": _("the product already has this option")})
    option = ProductOption.objects.create(product=product, name=name, position=len(options))
    created = OptionValue.objects.bulk_create(
        OptionValue(option=option, value=value, position=index)
        for index, value in enumerate(values)
    )
    existing = list(product.variants.all())
    VariantOptionValue.objects.bulk_create(
        VariantOptionValue(variant=variant, option=option, value=created[0]) for variant in existing
    )
    if existing:
        _rekey_variants(product)
    _product_changed(product, ["options"] + (["variants"] if existing else []), actor=actor)
    return option


def _option_of(product: Product, option_id: Any) -> ProductOption:
    """The product's option ``option_id`` (the product locked by the caller)."""
    option = (
        ProductOption.objects.filter(pk=option_id, product=product).first()
        if _is_id(option_id)
        else None
    )
    if option is None:
        raise OptionNotFound(_("No such product option."))
    return option


def _locked_option(option_id: int) -> tuple[ProductOption, Product]:
    if not _is_id(option_id):
        raise OptionNotFound(_("No such product option."))
    product_id = (
        ProductOption.objects.filter(pk=option_id).values_list("product_id", flat=True).first()
    )
    if product_id is None:
        raise OptionNotFound(_("No such product option."))
    product = _locked_product(product_id)
    return _option_of(product, option_id), product  # (gone if deleted while we waited)


def option_update(
    *, option_id: int, name: str | None = None, values: Sequence[str] | None = None, actor=None
) -> ProductOption:
    """Rename an option and/or replace its ordered values; a value in use by a variant stays."""
    with transaction.atomic():
        option, product = _locked_option(option_id)
        _option_update_apply(product, option, name=name, values=values, actor=actor)
    return option


def _option_update_apply(
    product: Product,
    option: ProductOption,
    *,
    name: str | None,
    values: Sequence[str] | None,
    actor,
) -> None:
    """``option_update`` on a product locked by the caller."""
    new_name, new_values = _clean_option(
        option.name if name is None else name,
        [v.value for v in option.values.all()] if values is None else values,
    )
    changed = []
    if new_name != option.name:
        if product.options.exclude(pk=option.pk).filter(name__iexact=new_name).exists():
            raise CommerceInvalid({"name": _("the product already has this option")})
        option.name = new_name
        option.save(update_fields=["name"])
        changed.append("options")
    stored = {value.value: value for value in option.values.all()}
    removed = [value for text, value in stored.items() if text not in new_values]
    used = [value.value for value in removed if value.choices.exists()]
    if used:
        raise CatalogConflict(
            _("Values in use by variants cannot be removed: %(values)s")
            % {"values": ", ".join(used)}
        )
    for value in removed:
        value.delete()
    for position, text in enumerate(new_values):
        value = stored.get(text)
        if value is None:
            OptionValue.objects.create(option=option, value=text, position=position)
        elif value.position != position:
            value.position = position
            value.save(update_fields=["position"])
    if removed or [v.value for v in option.values.order_by("position")] != list(stored):
        changed.append(f"options.{option.position}.values")
    if changed:
        _product_changed(product, list(dict.fromkeys(changed)), actor=actor)


def option_delete(*, option_id: int, actor=None) -> None:
    """Delete an option; its variants lose that value (refused if two would become identical)."""
    with transaction.atomic():
        option, product = _locked_option(option_id)
        _option_delete_apply(product, option, actor=actor)


def _option_delete_apply(product: Product, option: ProductOption, *, actor) -> None:
    """``option_delete`` on a product locked by the caller."""
    position = option.position
    option.delete()
    for later in product.options.filter(position__gt=position).order_by("position"):
        later.position -= 1
        later.save(update_fields=["position"])
    has_variants = product.variants.exists()
    if has_variants:
        _rekey_variants(product)
    _product_changed(product, ["options"] + (["variants"] if has_variants else []), actor=actor)


def options_reorder(*, product_id: UUID, option_ids: Sequence[int], actor=None) -> None:
    """Put the product's options in the order of ``option_ids`` (all of them, each once)."""
    with transaction.atomic():
        product = _locked_product(product_id)
        options = {option.pk: option for option in product.options.all()}
        if (
            not all(_is_id(option_id) for option_id in option_ids)
            or sorted(option_ids) != sorted(options)
            or len(set(option_ids)) != len(option_ids)
        ):
            raise CommerceInvalid({"option_ids": _("give each of the product's options once")})
        moved = False
        for position, option_id in enumerate(option_ids):
            option = options[option_id]
            if option.position != position:
                option.position = position
                option.save(update_fields=["position"])  # the unique position is deferred
                moved = True
        if moved:
            _product_changed(product, ["options"], actor=actor)


# -- variants -----------------------------------------------------------------------------


@dataclass
class VariantInput:
    sku: str
    options: Mapping[str, str] = field(default_factory=dict)
    barcode: str = ""
    weight_grams: Decimal | str | int | None = None
    position: int = 0
    inventory_policy: str = InventoryPolicy.DENY
    tracked: bool = True
    low_stock_threshold: int = 0


VARIANT_FIELDS = (
    "sku", "options", "barcode", "weight_grams", "position", "inventory_policy", "tracked",
    "low_stock_threshold",
)  # fmt: skip


def _clean_weight(errors: dict[str, str], value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool | float):
        errors["weight_grams"] = _(
            "give the weight as a decimal string, not a floating-point number"
        )
        return None
    try:
        weight = Decimal(value.strip() if isinstance(value, str) else value)
    except (InvalidOperation, TypeError, ValueError):
        errors["weight_grams"] = _("must be a number of grams")
        return None
    if not weight.is_finite() or weight < 0 or weight >= MAX_WEIGHT:
        errors["weight_grams"] = _("must be between 0 and 999999999.999 grams")
        return None
    return weight.quantize(WEIGHT_STEP, rounding=ROUND_HALF_UP)


def _clean_variant(values: Mapping[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    if "sku" in values:
        sku = _text(errors, "sku", values["sku"], max_length=64, required=True)
        if sku and any(char.isspace() for char in sku):
            errors["sku"] = _("cannot contain spaces")
        clean["sku"] = sku
    if "barcode" in values:
        clean["barcode"] = _text(errors, "barcode", values["barcode"], max_length=64)
    if "weight_grams" in values:
        clean["weight_grams"] = _clean_weight(errors, values["weight_grams"])
    if "position" in values:
        clean["position"] = _int(errors, "position", values["position"], minimum=0)
    if "low_stock_threshold" in values:
        clean["low_stock_threshold"] = _int(
            errors, "low_stock_threshold", values["low_stock_threshold"], minimum=0
        )
    if "inventory_policy" in values:
        if values["inventory_policy"] not in InventoryPolicy.values:
            errors["inventory_policy"] = _("must be one of %(choices)s") % {
                "choices": ", ".join(InventoryPolicy.values)
            }
        clean["inventory_policy"] = values["inventory_policy"]
    if "tracked" in values:
        if not isinstance(values["tracked"], bool):
            errors["tracked"] = _("must be true or false")
        clean["tracked"] = values["tracked"]
    if "options" in values and not isinstance(values["options"], Mapping):
        errors["options"] = _("give one value per option, by option name")
    _raise(errors)
    return clean


def _resolve_options(product: Product, chosen: Mapping[str, Any]) -> list[OptionValue]:
    """The option values ``chosen`` names: exactly one for each of the product's options."""
    options = list(product.options.prefetch_related("values").order_by("position"))
    names = {option.name for option in options}
    errors: dict[str, str] = {}
    for name in chosen:
        if name not in names:
            errors[f"options.{name}"] = _("the product has no such option")
    picked = []
    for option in options:
        wanted = chosen.get(option.name)
        if wanted is None or str(wanted).strip() == "":
            errors[f"options.{option.name}"] = _("choose a value")
            continue
        value = next((v for v in option.values.all() if v.value == str(wanted).strip()), None)
        if value is None:
            errors[f"options.{option.name}"] = _("'%(value)s' is not a value of this option") % {
                "value": str(wanted)[:100]
            }
            continue
        picked.append(value)
    _raise(errors)
    return picked


def _sku_taken(sku: str) -> dict[str, str]:
    return {"sku": _("'%(sku)s' is already used by another variant") % {"sku": sku}}


def _combination_taken(product: Product, key: str, *, excluding: UUID | None = None) -> None:
    clash = product.variants.filter(option_key=key)
    if excluding is not None:
        clash = clash.exclude(pk=excluding)
    other = clash.values_list("sku", flat=True).first()
    if other is not None:
        raise CommerceInvalid(
            {"options": _("variant %(sku)s already has these options") % {"sku": other}}
        )


def _variant_event(cls, variant: Variant, product: Product, **extra) -> events.DomainEvent:
    return cls(
        product_id=product.pk,
        version=product.version,
        variant_id=variant.pk,
        sku=variant.sku,
        **extra,
    )


def variant_create(*, product_id: UUID, data: VariantInput, actor=None) -> Variant:
    """A new variant with one value of each of the product's options."""
    clean = _clean_variant_input(data)
    with transaction.atomic():
        product = _locked_product(product_id)
        return _variant_create_apply(product, clean, options=data.options or {}, actor=actor)


def _clean_variant_input(data: VariantInput) -> dict[str, Any]:
    return _clean_variant({name: getattr(data, name) for name in VARIANT_FIELDS})


def _variant_create_apply(
    product: Product, clean: dict[str, Any], *, options: Mapping[str, Any], actor
) -> Variant:
    """``variant_create`` (its fields cleaned) on a product locked by the caller."""
    picked = _resolve_options(product, options)
    key = _option_key(value.pk for value in picked)
    _combination_taken(product, key)
    if Variant.objects.filter(sku=clean["sku"]).exists():
        raise CommerceInvalid(_sku_taken(clean["sku"]))
    variant = Variant(product=product, option_key=key, **clean)
    _saved(variant, _sku_taken(clean["sku"]))
    VariantOptionValue.objects.bulk_create(
        VariantOptionValue(variant=variant, option_id=value.option_id, value=value)
        for value in picked
    )
    _bump(product)
    publish(_variant_event(events.VariantCreated, variant, product), actor=actor)
    return variant


def _locked_variants(product: Product, variant_ids: Iterable[UUID]) -> dict[UUID, Variant]:
    """The product's variants among ``variant_ids``, locked in primary-key order (the product
    locked by the caller); a variant that is not the product's is missing."""
    wanted = sorted(set(variant_ids))
    if not wanted:
        return {}
    rows = (
        Variant.objects.filter(pk__in=wanted, product=product)
        .order_by("pk")
        .select_for_update(of=("self",))
    )
    return {variant.pk: variant for variant in rows}


def _locked_variant(variant_id: UUID) -> tuple[Variant, Product]:
    """The variant and its product, the product's row locked first (then the variant's)."""
    try:
        product_id = Variant.objects.filter(pk=variant_id).values_list("product_id", flat=True)[0]
    except (IndexError, DjangoValidationError, ValueError, TypeError):
        raise VariantNotFound(_("No such variant.")) from None
    product = _locked_product(product_id)
    variant = _locked_variants(product, [_uuid(variant_id)]).get(_uuid(variant_id))
    if variant is None:  # deleted while we waited for the lock
        raise VariantNotFound(_("No such variant."))
    return variant, product


def variant_update(*, variant_id: UUID, actor=None, **changes: Any) -> Variant:
    """Change any of ``VARIANT_FIELDS`` (``options``: the full choice, one value per option)."""
    clean = _clean_variant_changes(changes)
    with transaction.atomic():
        variant, product = _locked_variant(variant_id)
        _variant_update_apply(product, variant, clean, options=changes.get("options"), actor=actor)
    return variant


def _clean_variant_changes(changes: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(changes) - set(VARIANT_FIELDS)
    if unknown:
        raise CommerceInvalid({name: _("cannot be changed here") for name in sorted(unknown)})
    return _clean_variant(changes)


def _variant_update_apply(
    product: Product,
    variant: Variant,
    clean: dict[str, Any],
    *,
    options: Mapping[str, Any] | None,
    actor,
) -> None:
    """``variant_update`` (its changes cleaned; ``options`` None: unchanged) on a product and
    variant locked by the caller."""
    changed = model_update(instance=variant, fields=clean, data=clean, save=False)
    if options is not None:
        picked = _resolve_options(product, options)
        key = _option_key(value.pk for value in picked)
        if key != variant.option_key:
            _combination_taken(product, key, excluding=variant.pk)
            variant.option_key = key
            variant.choices.all().delete()
            VariantOptionValue.objects.bulk_create(
                VariantOptionValue(variant=variant, option_id=value.option_id, value=value)
                for value in picked
            )
            changed += ["options"]
    if not changed:
        return
    if "sku" in changed and Variant.objects.filter(sku=variant.sku).exclude(pk=variant.pk).exists():
        raise CommerceInvalid(_sku_taken(variant.sku))
    fields = [name for name in changed if name != "options"]
    _saved(
        variant,
        _sku_taken(variant.sku),
        update_fields=[*fields, *(["option_key"] if "options" in changed else []), "updated_at"],
    )
    _bump(product)
    publish(_variant_event(events.VariantUpdated, variant, product, changed=changed), actor=actor)


def _keeps_active_product_priced(product: Product, *, excluding: Mapping[str, Any]) -> None:
    if product.status == ProductStatus.ACTIVE and not _has_default_price(
        product, excluding=excluding
    ):
        raise CatalogConflict(
            _(
                "An active product needs a variant priced in %(currency)s: "
                "move the product back to draft first."
            )
            % {"currency": store_settings().default_currency}
        )


def variant_delete(*, variant_id: UUID, actor=None) -> None:
    """Delete a variant with its prices and stock records (not one with reserved stock, nor an
    active product's last variant priced in the default currency)."""
    with transaction.atomic():
        variant, product = _locked_variant(variant_id)
        _variant_delete_apply(product, variant, actor=actor)


def _variant_delete_apply(product: Product, variant: Variant, *, actor) -> None:
    """``variant_delete`` on a product and variant locked by the caller."""
    _keeps_active_product_priced(product, excluding={"variant": variant})
    _refuse_held_stock(variants=[variant])
    variant_pk, sku = variant.pk, variant.sku
    variant.delete()
    _bump(product)
    variant.pk = variant_pk
    publish(
        events.VariantDeleted(
            product_id=product.pk, version=product.version, variant_id=variant_pk, sku=sku
        ),
        actor=actor,
    )


# -- prices -------------------------------------------------------------------------------


def _clean_price(
    currency: str, amount: Any, compare_at_amount: Any
) -> tuple[str, Decimal, Decimal | None]:
    """The currency code, the amount and the compare-at amount (or None), rounded to the
    currency's minor unit; the compare-at amount must be higher."""
    errors: dict[str, str] = {}
    try:
        code = normalize_currency(currency)
    except MoneyError as error:
        raise CommerceInvalid({"currency": str(error)}) from None
    try:
        value = parse_amount(amount, code)
        if value < 0:
            errors["amount"] = _("cannot be negative")
    except MoneyError as error:
        errors["amount"] = str(error)
    compare_at = None
    if compare_at_amount is not None and compare_at_amount != "":
        try:
            compare_at = parse_amount(compare_at_amount, code)
        except MoneyError as error:
            errors["compare_at_amount"] = str(error)
    _raise(errors)
    if compare_at is not None and compare_at <= value:
        raise CommerceInvalid(
            {
                "compare_at_amount": _("must be higher than the price (%(amount)s)")
                % {"amount": value}
            }
        )
    return code, value, compare_at


def _check_enabled(code: str) -> None:
    if code not in store_settings().enabled_currencies:
        raise CommerceInvalid(
            {"currency": _("%(code)s is not enabled for this store") % {"code": code}}
        )


def price_set(
    *,
    variant_id: UUID,
    currency: str,
    amount: Decimal | str | int,
    compare_at_amount: Decimal | str | int | None = None,
    actor=None,
) -> Price:
    """Set the variant's price in ``currency`` (an enabled one), rounded half-up to the
    currency's minor unit; the compare-at price, if any, must be higher."""
    code, value, compare_at = _clean_price(currency, amount, compare_at_amount)
    with transaction.atomic():
        _check_enabled(code)
        variant, product = _locked_variant(variant_id)
        return _price_set_apply(product, variant, code, value, compare_at, actor=actor)


def _price_set_apply(
    product: Product,
    variant: Variant,
    code: str,
    value: Decimal,
    compare_at: Decimal | None,
    *,
    actor,
) -> Price:
    """``price_set`` (its input cleaned, the currency enabled) on a product and variant locked
    by the caller."""
    price = Price.objects.filter(variant=variant, currency=code).first()
    if price is None:
        price = Price.objects.create(
            variant=variant, currency=code, amount=value, compare_at_amount=compare_at
        )
    else:
        data = {"amount": value, "compare_at_amount": compare_at}
        if not model_update(instance=price, fields=data, data=data):
            return price
    _bump(product)
    publish(
        events.PriceSet(
            product_id=product.pk,
            version=product.version,
            variant_id=variant.pk,
            currency=code,
            amount=value,
            compare_at_amount=compare_at,
        ),
        actor=actor,
    )
    return price


def price_delete(*, variant_id: UUID, currency: str, actor=None) -> None:
    """Remove the variant's price in ``currency`` (refused for an active product's last price
    in the default currency)."""
    code = str(currency or "").strip().upper()
    with transaction.atomic():
        variant, product = _locked_variant(variant_id)
        price = Price.objects.filter(variant=variant, currency=code).first()
        if price is None:
            raise PriceNotFound(_("This variant has no price in %(code)s.") % {"code": code[:3]})
        _price_delete_apply(product, variant, price, actor=actor)


def _price_delete_apply(product: Product, variant: Variant, price: Price, *, actor) -> None:
    """``price_delete`` of a stored ``price`` on a product and variant locked by the caller."""
    _keeps_active_product_priced(product, excluding={"pk": price.pk})
    price.delete()
    _bump(product)
    publish(
        events.PriceDeleted(
            product_id=product.pk,
            version=product.version,
            variant_id=variant.pk,
            currency=price.currency,
        ),
        actor=actor,
    )


# -- collections --------------------------------------------------------------------------


def _collection_taken(handle: str) -> dict[str, str]:
    return {"handle": _("'%(handle)s' is already used by another collection") % {"handle": handle}}


def _clean_product_ids(product_ids: Sequence[Any]) -> list[UUID]:
    ids: list[UUID] = []
    for index, value in enumerate(product_ids):
        try:
            pk = value if isinstance(value, UUID) else UUID(str(value))
        except ValueError:
            raise CommerceInvalid({f"product_ids.{index}": _("not a product id")}) from None
        if pk in ids:
            raise CommerceInvalid({f"product_ids.{index}": _("given twice")})
        ids.append(pk)
    if ids and Product.objects.filter(pk__in=ids).count() != len(ids):
        raise CommerceInvalid({"product_ids": _("unknown product")})
    return ids


def collection_create(
    *,
    title: str,
    handle: str = "",
    description: str = "",
    product_ids: Sequence[Any] = (),
    actor=None,
) -> Collection:
    errors: dict[str, str] = {}
    title = _text(errors, "title", title, max_length=255, required=True)
    handle = _handle(errors, "handle", handle, fallback=title, max_length=255)
    description = _text(errors, "description", description, max_length=10_000)
    _raise(errors)
    ids = _clean_product_ids(product_ids)
    with transaction.atomic():
        if Collection.objects.filter(handle=handle).exists():
            raise CommerceInvalid(_collection_taken(handle))
        if len(_key_share(Product, ids)) != len(ids):
            raise CommerceInvalid({"product_ids": _("unknown product")})
        collection = Collection(title=title, handle=handle, description=description)
        _saved(collection, _collection_taken(handle))
        CollectionProduct.objects.bulk_create(
            CollectionProduct(collection=collection, product_id=pk, position=position)
            for position, pk in enumerate(ids)
        )
        publish(
            events.CollectionCreated(collection_id=collection.pk, handle=collection.handle),
            actor=actor,
        )
    return collection


def _locked_collection(collection_id: int, *, for_delete: bool = False) -> Collection:
    if not _is_id(collection_id):
        raise CollectionNotFound(_("No such collection."))
    try:
        return Collection.objects.select_for_update(no_key=not for_delete).get(pk=collection_id)
    except (Collection.DoesNotExist, ValueError, TypeError):
        raise CollectionNotFound(_("No such collection.")) from None


def collection_update(
    *,
    collection_id: int,
    title: str | None = None,
    handle: str | None = None,
    description: str | None = None,
    actor=None,
) -> Collection:
    errors: dict[str, str] = {}
    data: dict[str, Any] = {}
    if title is not None:
        data["title"] = _text(errors, "title", title, max_length=255, required=True)
    if handle is not None:
        data["handle"] = _handle(
            errors, "handle", handle, fallback=data.get("title", ""), max_length=255
        )
    if description is not None:
        data["description"] = _text(errors, "description", description, max_length=10_000)
    _raise(errors)
    with transaction.atomic():
        collection = _locked_collection(collection_id)
        changed = model_update(instance=collection, fields=data, data=data, save=False)
        if not changed:
            return collection
        if Collection.objects.filter(handle=collection.handle).exclude(pk=collection.pk).exists():
            raise CommerceInvalid(_collection_taken(collection.handle))
        _saved(
            collection, _collection_taken(collection.handle), update_fields=[*changed, "updated_at"]
        )
        publish(
            events.CollectionUpdated(
                collection_id=collection.pk, handle=collection.handle, changed=changed
            ),
            actor=actor,
        )
    return collection


def collection_set_products(
    *, collection_id: int, product_ids: Sequence[Any], actor=None
) -> Collection:
    """Make the collection hold exactly ``product_ids``, in that order."""
    ids = _clean_product_ids(product_ids)
    with transaction.atomic():
        collection = _locked_collection(collection_id)
        before = list(
            CollectionProduct.objects.filter(collection=collection)
            .order_by("position")
            .values_list("product_id", flat=True)
        )
        if before == ids:
            return collection
        if len(_key_share(Product, ids)) != len(ids):
            raise CommerceInvalid({"product_ids": _("unknown product")})
        CollectionProduct.objects.filter(collection=collection).delete()
        CollectionProduct.objects.bulk_create(
            CollectionProduct(collection=collection, product_id=pk, position=position)
            for position, pk in enumerate(ids)
        )
        moved = sorted(set(before) ^ set(ids), key=str)
        publish(
            events.CollectionUpdated(
                collection_id=collection.pk,
                handle=collection.handle,
                changed=["products"],
                product_ids=moved,
            ),
            actor=actor,
        )
    return collection


def collection_delete(*, collection_id: int, actor=None) -> None:
    with transaction.atomic():
        collection = _locked_collection(collection_id, for_delete=True)
        members = list(collection.members.order_by("position").values_list("product_id", flat=True))
        event = events.CollectionDeleted(
            collection_id=collection.pk, handle=collection.handle, product_ids=members
        )
        collection.delete()
        publish(event, actor=actor)


# -- categories ---------------------------------------------------------------------------


def _category_taken(handle: str) -> dict[str, str]:
    return {"handle": _("'%(handle)s' is already used by another category") % {"handle": handle}}


def category_create(
    *,
    name: str,
    handle: str = "",
    parent_id: int | None = None,
    position: int = 0,
    description: str = "",
    actor=None,
) -> Category:
    errors: dict[str, str] = {}
    name = _text(errors, "name", name, max_length=120, required=True)
    handle = _handle(errors, "handle", handle, fallback=name, max_length=120)
    position = _int(errors, "position", position, minimum=0)
    description = _text(errors, "description", description, max_length=10_000)
    _raise(errors)
    with transaction.atomic():
        _lock_category_tree()
        if parent_id is not None and not (
            _is_id(parent_id) and Category.objects.filter(pk=parent_id).exists()
        ):
            raise CommerceInvalid({"parent": _("no such category")})
        if Category.objects.filter(handle=handle).exists():
            raise CommerceInvalid(_category_taken(handle))
        category = Category(
            name=name,
            handle=handle,
            parent_id=parent_id,
            position=position,
            description=description,
        )
        _saved(category, _category_taken(handle))
        publish(events.CategoryCreated(category_id=category.pk, handle=handle), actor=actor)
    return category


def _locked_category(category_id: int, *, for_delete: bool = False) -> Category:
    """The category, locked; ``FOR NO KEY UPDATE`` unless it is to be deleted, so products
    may keep joining it meanwhile."""
    if not _is_id(category_id):
        raise CategoryNotFound(_("No such category."))
    try:
        return Category.objects.select_for_update(no_key=not for_delete).get(pk=category_id)
    except (Category.DoesNotExist, ValueError, TypeError):
        raise CategoryNotFound(_("No such category.")) from None


def category_update(
    *,
    category_id: int,
    name: str | None = None,
    handle: str | None = None,
    parent_id: int | None = None,
    to_top_level: bool = False,
    position: int | None = None,
    description: str | None = None,
    actor=None,
) -> Category:
    """Change a category; ``parent_id`` moves it under another (never under itself or its own
    descendants), ``to_top_level`` to the top."""
    errors: dict[str, str] = {}
    data: dict[str, Any] = {}
    if name is not None:
        data["name"] = _text(errors, "name", name, max_length=120, required=True)
    if handle is not None:
        data["handle"] = _handle(
            errors, "handle", handle, fallback=data.get("name", ""), max_length=120
        )
    if position is not None:
        data["position"] = _int(errors, "position", position, minimum=0)
    if description is not None:
        data["description"] = _text(errors, "description", description, max_length=10_000)
    _raise(errors)
    with transaction.atomic():
        if parent_id is not None or to_top_level:
            _lock_category_tree()
        category = _locked_category(category_id)
        if parent_id is not None:
            parent = Category.objects.filter(pk=parent_id).first() if _is_id(parent_id) else None
            if parent is None:
                raise CommerceInvalid({"parent": _("no such category")})
            if would_cycle(category, parent):
                raise CommerceInvalid({"parent": _("a category cannot be its own ancestor")})
            data["parent_id"] = parent.pk
        elif to_top_level:
            data["parent_id"] = None
        changed = model_update(instance=category, fields=data, data=data, save=False)
        if not changed:
            return category
        if Category.objects.filter(handle=category.handle).exclude(pk=category.pk).exists():
            raise CommerceInvalid(_category_taken(category.handle))
        _saved(category, _category_taken(category.handle), update_fields=[*changed, "updated_at"])
        publish(
            events.CategoryUpdated(
                category_id=category.pk,
                handle=category.handle,
                changed=[name.removesuffix("_id") for name in changed],
            ),
            actor=actor,
        )
    return category


def _lock_products(queryset) -> list[Product]:
    return list(queryset.order_by("pk").select_for_update(of=("self",)))


def category_delete(*, category_id: int, actor=None) -> None:
    """Delete a category without subcategories; its products leave it (each gets a new
    version and a ``commerce.product.updated``)."""
    if not _is_id(category_id):
        raise CategoryNotFound(_("No such category."))
    with transaction.atomic():
        _lock_category_tree()
        # The products first, as every product write does (product, then its categories).
        products = _lock_products(Product.objects.filter(categories__id=category_id))
        category = _locked_category(category_id, for_delete=True)
        if category.children.exists():
            raise CatalogConflict(_("Delete or move the subcategories first."))
        # Members that joined before the category was locked: their writers are done with it.
        locked = {product.pk for product in products}
        products += _lock_products(
            Product.objects.filter(categories=category).exclude(pk__in=locked)
        )
        event = events.CategoryDeleted(category_id=category.pk, handle=category.handle)
        category.delete()
        publish(event, actor=actor)
        for product in sorted(products, key=lambda product: product.pk):
            _product_changed(product, ["categories"], actor=actor)


# -- locations ----------------------------------------------------------------------------


def _location_taken(code: str) -> dict[str, str]:
    return {"code": _("'%(code)s' is already used by another location") % {"code": code}}


def location_create(*, code: str, name: str, active: bool = True, actor=None) -> Location:
    errors: dict[str, str] = {}
    name = _text(errors, "name", name, max_length=120, required=True)
    code = _handle(errors, "code", code, fallback="", max_length=64)
    if not isinstance(active, bool):
        errors["active"] = _("must be true or false")
    _raise(errors)
    with transaction.atomic():
        if Location.objects.filter(code=code).exists():
            raise CommerceInvalid(_location_taken(code))
        location = Location(code=code, name=name, active=active)
        _saved(location, _location_taken(code))
        publish(
            events.LocationCreated(location_id=location.pk, code=code, active=active), actor=actor
        )
    return location


def _locked_location(location_id: int, *, for_delete: bool = False) -> Location:
    """The location, locked; ``FOR NO KEY UPDATE`` unless it is to be deleted, so stock
    writes there never wait for a rename."""
    if not _is_id(location_id):
        raise LocationNotFound(_("No such location."))
    try:
        return Location.objects.select_for_update(no_key=not for_delete).get(pk=location_id)
    except (Location.DoesNotExist, ValueError, TypeError):
        raise LocationNotFound(_("No such location.")) from None


def location_update(
    *,
    location_id: int,
    code: str | None = None,
    name: str | None = None,
    active: bool | None = None,
    actor=None,
) -> Location:
    """Rename, recode, activate or deactivate a location (an inactive one takes no reservations)."""
    errors: dict[str, str] = {}
    data: dict[str, Any] = {}
    if name is not None:
        data["name"] = _text(errors, "name", name, max_length=120, required=True)
    if code is not None:
        data["code"] = _handle(errors, "code", code, fallback="", max_length=64)
    if active is not None:
        if not isinstance(active, bool):
            errors["active"] = _("must be true or false")
        data["active"] = active
    _raise(errors)
    with transaction.atomic():
        location = _locked_location(location_id)
        changed = model_update(instance=location, fields=data, data=data, save=False)
        if not changed:
            return location
        if Location.objects.filter(code=location.code).exclude(pk=location.pk).exists():
            raise CommerceInvalid(_location_taken(location.code))
        _saved(location, _location_taken(location.code), update_fields=[*changed, "updated_at"])
        publish(
            events.LocationUpdated(
                location_id=location.pk, code=location.code, changed=changed, active=location.active
            ),
            actor=actor,
        )
    return location


def location_delete(*, location_id: int, actor=None) -> None:
    """Delete a location that never held stock; one with history is deactivated instead."""
    with transaction.atomic():
        location = _locked_location(location_id, for_delete=True)
        if (
            location.adjustments.exists()
            or location.reservations.exists()
            or location.stock_levels.exclude(on_hand=0, reserved=0).exists()
        ):
            raise CatalogConflict(
                _("This location has stock or stock history: deactivate it instead.")
            )
        location.stock_levels.all().delete()
        event = events.LocationDeleted(location_id=location.pk, code=location.code)
        location.delete()
        publish(event, actor=actor)


# -- stock ---------------------------------------------------------------------------------


def _uuid(value: UUID | str) -> UUID:
    try:
        return value if isinstance(value, UUID) else UUID(str(value))
    except ValueError:
        raise VariantNotFound(_("No such variant.")) from None


def _may_oversell(variant: Variant) -> bool:
    """Whether the variant's on-hand stock may go below zero (and reservations ignore it)."""
    return not variant.tracked or variant.inventory_policy == InventoryPolicy.CONTINUE


class _LockedStock:
    """The variants of one stock operation and every stock level they have, locked.

    Every stock write of a variant locks the variant's row (``FOR NO KEY UPDATE``: prices
    and reservations may still reference it) and all its stock levels, so the available
    total seen before and after a change is exact and a low-stock crossing is seen once.
    """

    def __init__(self, pairs: Iterable[tuple[UUID | str, int]]) -> None:
        pairs = [(_uuid(variant), location) for variant, location in pairs]
        if not all(_is_id(location) for _variant, location in pairs):
            raise LocationNotFound(_("No such location."))
        pairs = list(dict.fromkeys(pairs))
        variant_ids = sorted({variant_id for variant_id, _location in pairs})
        location_ids = {location_id for _variant, location_id in pairs}
        variants = list(
            Variant.objects.filter(pk__in=variant_ids)
            .order_by("pk")
            .select_for_update(of=("self",), no_key=True)
        )
        self.variants = {variant.pk: variant for variant in variants}
        if len(self.variants) != len(variant_ids):
            raise VariantNotFound(_("No such variant."))
        self.locations = self._share_locations(sorted(location_ids))
        StockLevel.objects.bulk_create(
            [StockLevel(variant_id=v, location_id=loc) for v, loc in pairs], ignore_conflicts=True
        )
        levels = (
            StockLevel.objects.filter(variant_id__in=variant_ids)
            .order_by("pk")
            .select_for_update(of=("self",))
        )
        self.levels = {(level.variant_id, level.location_id): level for level in levels}
        self.before = {variant_id: self.available(variant_id) for variant_id in variant_ids}

    @staticmethod
    def _share_locations(location_ids: list[int]) -> dict[int, tuple[str, bool]]:
        """The locations, ``FOR KEY SHARE``: none is deleted under a stock level being written,
        and stock writes at one location never wait for each other."""
        table = connection.ops.quote_name(Location._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id, code, active FROM {table} WHERE id = ANY(%s) ORDER BY id FOR KEY SHARE",  # noqa: S608
                [location_ids],
            )
            found = {pk: (code, active) for pk, code, active in cursor.fetchall()}
        if len(found) != len(location_ids):
            raise LocationNotFound(_("No such location."))
        return found

    def available(self, variant_id: UUID) -> int:
        return sum(
            level.available for (owner, _loc), level in self.levels.items() if owner == variant_id
        )

    def publish_low(self, *, actor) -> None:
        """``commerce.inventory.low`` for each tracked variant whose available stock has just
        fallen below its threshold (only on the crossing)."""
        for variant_id, before in self.before.items():
            variant = self.variants[variant_id]
            threshold = variant.low_stock_threshold
            after = self.available(variant_id)
            if variant.tracked and threshold and before >= threshold > after:
                publish(
                    events.InventoryLow(
                        variant_id=variant.pk, product_id=variant.product_id, sku=variant.sku,
                        available=after, threshold=threshold,
                    ),
                    actor=actor,
                )  # fmt: skip


def _clean_adjustment(delta: Any, reason: Any, note: Any) -> tuple[int, str, str]:
    errors: dict[str, str] = {}
    delta = _int(errors, "delta", delta, minimum=-MAX_QUANTITY)
    if "delta" not in errors and delta == 0:
        errors["delta"] = _("an adjustment must change the stock")
    if reason not in AdjustmentReason.values:
        errors["reason"] = _("must be one of %(choices)s") % {
            "choices": ", ".join(AdjustmentReason.values)
        }
    elif "delta" not in errors:
        if reason in (AdjustmentReason.RECEIVED, AdjustmentReason.RETURNED) and delta < 0:
            errors["delta"] = _("stock that is received or returned adds units")
        if reason in (AdjustmentReason.DAMAGED, AdjustmentReason.SOLD) and delta > 0:
            errors["delta"] = _("stock that is damaged or sold takes units away")
    note = _text(errors, "note", note, max_length=500)
    _raise(errors)
    return delta, reason, note


def _adjust(
    stock: _LockedStock, level: StockLevel, *, delta: int, reason: str, note: str, actor
) -> StockLevel:
    variant = stock.variants[level.variant_id]
    on_hand = level.on_hand + delta
    if on_hand < 0 and not _may_oversell(variant):
        raise OutOfStock(
            _("Only %(count)d of %(sku)s are on hand here: stock cannot go below zero.")
            % {"count": level.on_hand, "sku": variant.sku},
            on_hand=level.on_hand,
        )
    level.on_hand = on_hand
    level.save(update_fields=["on_hand", "updated_at"])
    StockAdjustment.objects.create(
        variant_id=level.variant_id, location_id=level.location_id, delta=delta, reason=reason,
        on_hand_after=on_hand, actor=_user(actor), note=note,
    )  # fmt: skip
    publish(
        events.InventoryAdjusted(
            variant_id=variant.pk, product_id=variant.product_id, location_id=level.location_id,
            delta=delta, reason=reason, on_hand=on_hand, reserved=level.reserved,
        ),
        actor=actor,
    )  # fmt: skip
    return level


def stock_adjust(
    *,
    variant_id: UUID,
    location_id: int,
    delta: int,
    reason: str,
    note: str = "",
    actor=None,
) -> StockLevel:
    """Add ``delta`` units (negative: take away) at a location, with the reason, as one
    adjustment row. On-hand stock goes below zero only for a variant that may oversell.

    Received and returned stock adds units, damaged and sold stock takes them away, a
    correction does either.
    """
    delta, reason, note = _clean_adjustment(delta, reason, note)
    with transaction.atomic():
        stock = _LockedStock([(variant_id, location_id)])
        level = stock.levels[(_uuid(variant_id), location_id)]
        _adjust(stock, level, delta=delta, reason=reason, note=note, actor=actor)
        stock.publish_low(actor=actor)
    return level


def stock_set(
    *, variant_id: UUID, location_id: int, on_hand: int, note: str = "", actor=None
) -> StockLevel:
    """Correct the on-hand stock at a location to ``on_hand`` (one ``correction`` adjustment of
    the difference; nothing when it already is)."""
    errors: dict[str, str] = {}
    on_hand = _int(errors, "on_hand", on_hand, minimum=-MAX_QUANTITY)
    note = _text(errors, "note", note, max_length=500)
    _raise(errors)
    with transaction.atomic():
        stock = _LockedStock([(variant_id, location_id)])
        level = stock.levels[(_uuid(variant_id), location_id)]
        delta = on_hand - level.on_hand
        if delta:
            _adjust(
                stock, level, delta=delta, reason=AdjustmentReason.CORRECTION, note=note,
                actor=actor,
            )  # fmt: skip
            stock.publish_low(actor=actor)
    return level


@dataclass(frozen=True)
class ReservationLine:
    variant_id: UUID
    location_id: int
    quantity: int


def _release(stock: _LockedStock, reservation: Reservation, *, expired: bool, actor) -> None:
    level = stock.levels[(reservation.variant_id, reservation.location_id)]
    level.reserved -= reservation.quantity
    level.save(update_fields=["reserved", "updated_at"])
    variant = stock.variants[reservation.variant_id]
    publish(
        events.InventoryReleased(
            variant_id=variant.pk, product_id=variant.product_id,
            location_id=reservation.location_id, reservation_id=reservation.pk,
            quantity=reservation.quantity, reference=reservation.reference,
            reserved=level.reserved, expired=expired,
        ),
        actor=actor,
    )  # fmt: skip
    reservation.delete()


# The beat job that releases expired reservations, and its mark in the due-work index: one
# statement per reservation call, a read and a key-share lock when an earlier expiry is
# already marked (the usual case), so concurrent checkouts do not queue on it.
EXPIRE_RESERVATIONS = due_work_kind("commerce.expire_reservations")


def stock_reserve(
    *,
    lines: Sequence[ReservationLine],
    reference: str,
    expires_at: datetime | None = None,
    ttl: timedelta = timedelta(minutes=15),
    actor=None,
) -> list[Reservation]:
    """Hold stock for a checkout: all the lines or none.

    Under the locks, expired reservations of these variants are released first, then each
    line of a tracked variant that does not oversell needs ``quantity`` available (on hand
    minus reserved) at its location, else ``OutOfStock``. Inactive locations take none.
    """
    errors: dict[str, str] = {}
    reference = _text(errors, "reference", reference, max_length=100, required=True)
    if not lines:
        errors["lines"] = _("reserve at least one line")
    for index, line in enumerate(lines):
        _int(errors, f"lines.{index}.quantity", line.quantity, minimum=1)
    now = timezone.now()
    expires_at = expires_at or now + ttl
    if timezone.is_naive(expires_at) or expires_at <= now:
        errors["expires_at"] = _("must be a time in the future, with a time zone")
    _raise(errors)
    with transaction.atomic():
        stock = _LockedStock((line.variant_id, line.location_id) for line in lines)
        stale = Reservation.objects.filter(variant_id__in=list(stock.variants), expires_at__lte=now)
        for reservation in stale.order_by("pk"):
            _release(stock, reservation, expired=True, actor=actor)
        made: list[Reservation] = []
        for line in lines:
            variant = stock.variants[_uuid(line.variant_id)]
            code, active = stock.locations[line.location_id]
            if not active:
                raise CommerceInvalid(
                    {"location": _("location %(code)s is inactive") % {"code": code}}
                )
            level = stock.levels[(variant.pk, line.location_id)]
            if not _may_oversell(variant) and level.available < line.quantity:
                raise OutOfStock(
                    _("Only %(count)d of %(sku)s are available.")
                    % {"count": max(level.available, 0), "sku": variant.sku},
                    sku=variant.sku,
                    available=max(level.available, 0),
                )
            level.reserved += line.quantity
            made.append(
                Reservation(
                    variant=variant, location_id=line.location_id, quantity=line.quantity,
                    reference=reference, expires_at=expires_at,
                )
            )  # fmt: skip
        # One UPDATE and one INSERT for the whole cart; then one outbox row per line.
        touched = {(r.variant_id, r.location_id): stock.levels[(r.variant_id, r.location_id)]
                   for r in made}  # fmt: skip
        for level in touched.values():
            level.updated_at = timezone.now()
        StockLevel.objects.bulk_update(list(touched.values()), ["reserved", "updated_at"])
        Reservation.objects.bulk_create(made)
        work_due(kind=EXPIRE_RESERVATIONS, at=expires_at)
        reserved_after = {key: level.reserved for key, level in touched.items()}
        for reservation in made:
            publish(
                events.InventoryReserved(
                    variant_id=reservation.variant_id, product_id=reservation.variant.product_id,
                    location_id=reservation.location_id, reservation_id=reservation.pk,
                    quantity=reservation.quantity, reference=reference,
                    reserved=reserved_after[(reservation.variant_id, reservation.location_id)],
                ),
                actor=actor,
            )  # fmt: skip
        stock.publish_low(actor=actor)
    return made


def reservation_release(*, reservation_id: UUID, actor=None) -> None:
    """Give a reservation's units back (the checkout was abandoned)."""
    try:
        held = Reservation.objects.filter(pk=reservation_id).values("variant_id", "location_id")[0]
    except (IndexError, DjangoValidationError, ValueError, TypeError):
        raise ReservationNotFound(_("No such reservation.")) from None
    with transaction.atomic():
        stock = _LockedStock([(held["variant_id"], held["location_id"])])
        # Read again under the lock: a concurrent release or expiry may have taken it.
        reservation = Reservation.objects.filter(pk=reservation_id).first()
        if reservation is None:
            raise ReservationNotFound(_("No such reservation."))
        _release(stock, reservation, expired=False, actor=actor)


def reservations_next_expiry() -> datetime | None:
    """When the soonest reservation of the active schema expires (``None``: none is held)."""
    return Reservation.objects.aggregate(soonest=Min("expires_at"))["soonest"]


def reservations_expire(*, now: datetime | None = None, batch: int = 500) -> int:
    """Release reservations whose time is up (a periodic task runs this); returns how many."""
    now = now or timezone.now()
    due = list(
        Reservation.objects.filter(expires_at__lte=now)
        .order_by("expires_at")
        .values_list("pk", "variant_id", "location_id")[:batch]
    )
    if not due:
        return 0
    with transaction.atomic():
        stock = _LockedStock((variant_id, location_id) for _pk, variant_id, location_id in due)
        # Read again under the locks: only what is still there and still due.
        expired = Reservation.objects.filter(pk__in=[pk for pk, *_rest in due], expires_at__lte=now)
        count = 0
        for reservation in expired.order_by("pk"):
            _release(stock, reservation, expired=True, actor=None)
            count += 1
    return count


# -- product images -------------------------------------------------------------------------
# Part of the product aggregate: each change bumps the product's version under its lock.
# The file is stored inside the transaction (the row needs its name) and removed again if
# the transaction fails; a deleted image's file goes once the deletion has committed.

MAX_IMAGES_PER_PRODUCT = 50
ALT_TEXT_MAX_LENGTH = 300
IMAGE_EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif",
                    "image/webp": ".webp"}  # fmt: skip


def _clean_alt_text(alt_text: Any) -> dict[str, str]:
    """``{locale: text}`` for enabled locales; empty texts are dropped."""
    if alt_text is None:
        return {}
    if not isinstance(alt_text, Mapping):
        raise CommerceInvalid({"alt_text": _("give the text per locale")})
    locales = current_locales()
    errors: dict[str, str] = {}
    clean: dict[str, str] = {}
    for locale, text in alt_text.items():
        name = f"alt_text.{str(locale)[:16]}"
        if locale not in locales:
            errors[name] = _("'%(locale)s' is not enabled for this site") % {
                "locale": str(locale)[:16]
            }
            continue
        if text is not None and not isinstance(text, str):
            errors[name] = _("must be text")
            continue
        value = _text(errors, name, text, max_length=ALT_TEXT_MAX_LENGTH)
        if value:
            clean[locale] = value
    _raise(errors)
    return clean


def _image_of(product: Product, image_id: Any) -> ProductImage:
    """The product's image ``image_id`` (the product locked by the caller)."""
    try:
        image = ProductImage.objects.filter(pk=image_id, product=product).first()
    except (DjangoValidationError, ValueError, TypeError):
        image = None
    if image is None:
        raise ProductImageNotFound(_("No such product image."))
    return image


def _locked_image(image_id: UUID) -> tuple[ProductImage, Product]:
    """The image and its product, the product's row locked first."""
    try:
        product_id = ProductImage.objects.filter(pk=image_id).values_list("product_id", flat=True)
        product_id = product_id[0]
    except (IndexError, DjangoValidationError, ValueError, TypeError):
        raise ProductImageNotFound(_("No such product image.")) from None
    product = _locked_product(product_id)
    return _image_of(product, image_id), product  # (gone if deleted while we waited)


def _clean_image(file: UploadedFile, alt_text: Any) -> tuple[str, dict[str, str]]:
    """The upload's type, once ``apps.core.images`` accepts it, and its alt texts."""
    try:
        content_type = validate_image(file)
    except ImageInvalid as error:
        raise CommerceInvalid({"file": error.detail}) from None
    return content_type, _clean_alt_text(alt_text)


@contextmanager
def _files_removed_on_failure() -> Iterator[list[tuple[Any, str]]]:
    """Collects ``(storage, name)`` of the files stored inside; removes them if it fails."""
    stored: list[tuple[Any, str]] = []
    try:
        yield stored
    except BaseException:
        for storage, name in stored:
            storage.delete(name)
        raise


def product_image_add(
    *, product_id: UUID, file: UploadedFile, alt_text: Mapping[str, str] | None = None, actor=None
) -> ProductImage:
    """Add an image after the product's others, once ``apps.core.images`` accepts it.

    :param alt_text: per enabled locale, what the picture shows (300 characters at most).
    """
    content_type, alt = _clean_image(file, alt_text)
    with _files_removed_on_failure() as stored, transaction.atomic():
        product = _locked_product(product_id)
        return _image_add_apply(product, file, content_type, alt, stored=stored, actor=actor)


def _image_add_apply(
    product: Product,
    file: UploadedFile,
    content_type: str,
    alt: dict[str, str],
    *,
    stored: list[tuple[Any, str]],
    actor,
) -> ProductImage:
    """``product_image_add`` (its input cleaned) on a product locked by the caller; the file
    stored is added to ``stored``."""
    position = product.images.count()
    if position >= MAX_IMAGES_PER_PRODUCT:
        raise CommerceInvalid(
            {"file": _("a product has at most %(count)d images")
             % {"count": MAX_IMAGES_PER_PRODUCT}}
        )  # fmt: skip
    image = ProductImage(
        product=product, content_type=content_type, size=file.size, position=position,
        alt_text=alt,
    )  # fmt: skip
    # Named after the product, not after whatever the uploader's file was called.
    name = f"{product.handle[:60]}{IMAGE_EXTENSIONS[content_type]}"
    image.file.save(name, file, save=False)
    stored.append((image.file.storage, image.file.name))
    image.save()
    _bump(product)
    publish(
        events.ProductImageAdded(
            product_id=product.pk, version=product.version, image_id=image.pk,
            position=position, content_type=content_type, size=image.size,
        ),
        actor=actor,
    )  # fmt: skip
    return image


def product_image_update(
    *, image_id: UUID, alt_text: Mapping[str, str], actor=None
) -> ProductImage:
    """Replace the image's alt texts (a locale left out loses its text)."""
    alt = _clean_alt_text(alt_text)
    with transaction.atomic():
        image, product = _locked_image(image_id)
        _image_update_apply(product, image, alt, actor=actor)
    return image


def _image_update_apply(product: Product, image: ProductImage, alt: dict[str, str], *, actor):
    """``product_image_update`` (the alt texts cleaned) on a product locked by the caller."""
    locales = sorted(
        locale
        for locale in {*image.alt_text, *alt}
        if image.alt_text.get(locale) != alt.get(locale)
    )
    if not locales:
        return
    image.alt_text = alt
    image.save(update_fields=["alt_text", "updated_at"])
    _bump(product)
    publish(
        events.ProductImageUpdated(
            product_id=product.pk, version=product.version, image_id=image.pk, locales=locales
        ),
        actor=actor,
    )


def product_images_reorder(
    *, product_id: UUID, image_ids: Sequence[UUID | str], actor=None
) -> list[ProductImage]:
    """Put the product's images in the order of ``image_ids`` (all of them, each once)."""
    with transaction.atomic():
        product = _locked_product(product_id)
        return _images_reorder_apply(product, image_ids, actor=actor)


def _images_reorder_apply(
    product: Product, image_ids: Sequence[UUID | str], *, actor
) -> list[ProductImage]:
    """``product_images_reorder`` on a product locked by the caller."""
    given = [] if isinstance(image_ids, str | bytes) else list(image_ids or [])
    wanted: list[UUID] = []
    for value in given:
        try:
            wanted.append(value if isinstance(value, UUID) else UUID(str(value)))
        except ValueError:
            break
    images = {image.pk: image for image in product.images.all()}
    if (
        not wanted
        or len(wanted) != len(given)
        or len(set(wanted)) != len(wanted)
        or set(wanted) != set(images)
    ):
        raise CommerceInvalid({"image_ids": _("give each of the product's images once")})
    moved = [images[pk] for pk in wanted]
    changed = [image for position, image in enumerate(moved) if image.position != position]
    if not changed:
        return moved
    for position, image in enumerate(moved):
        image.position = position
    ProductImage.objects.bulk_update(changed, ["position"])  # the unique position is deferred
    _bump(product)
    publish(
        events.ProductImageReordered(
            product_id=product.pk, version=product.version, image_ids=wanted
        ),
        actor=actor,
    )
    return moved


def product_image_delete(*, image_id: UUID, actor=None) -> None:
    """Delete an image (the later ones move up); its file goes once the deletion commits."""
    with transaction.atomic():
        image, product = _locked_image(image_id)
        _image_delete_apply(product, image, actor=actor)


def _image_delete_apply(product: Product, image: ProductImage, *, actor) -> None:
    """``product_image_delete`` on a product locked by the caller."""
    image_pk, position = image.pk, image.position
    storage, name = image.file.storage, image.file.name
    image.delete()
    product.images.filter(position__gt=position).update(position=F("position") - 1)
    _bump(product)
    publish(
        events.ProductImageDeleted(
            product_id=product.pk, version=product.version, image_id=image_pk
        ),
        actor=actor,
    )
    transaction.on_commit(lambda: _delete_files(storage, [name]))


def _delete_files(storage, names: Iterable[str]) -> None:
    for name in names:
        if name:
            storage.delete(name)


def _delete_image_files_on_commit(product: Product) -> None:
    """Once the product's deletion commits, remove its images' files (the rows cascade)."""
    names = list(product.images.values_list("file", flat=True))
    if names:
        storage = ProductImage._meta.get_field("file").storage
        transaction.on_commit(lambda: _delete_files(storage, names))


# -- bulk catalog import (the CSV import) ----------------------------------------------------
#
# One transaction for the whole file: every row is checked first, against the rows locked in
# this transaction, and nothing is written if any row is wrong. Writes are set-based (a few
# statements per table, whatever the number of rows); each product gets one summarising event
# (``ProductCreated``, or ``ProductUpdated`` naming what changed) plus its status change from
# ``PRODUCT_TRANSITIONS``, each changed stock level its ``InventoryAdjusted``, each collection
# that gained products one ``CollectionUpdated``.


@dataclass
class ImportSummary:
    products_created: int = 0
    products_updated: int = 0
    products_unchanged: int = 0
    variants_created: int = 0
    variants_updated: int = 0
    variants_unchanged: int = 0
    events: int = 0


IMPORT_NOTE = "CSV import"


def _set_columns(model, objects: Sequence[Any], fields: Iterable[str]) -> None:
    """One ``UPDATE ... FROM unnest(...)`` writing ``fields`` of every object: Django's
    ``bulk_update`` builds a ``CASE`` per field and row, which costs seconds for thousands."""
    if not objects:
        return
    meta = model._meta
    columns = [meta.pk, *(meta.get_field(name) for name in sorted(set(fields)))]
    quote = connection.ops.quote_name
    names = [quote(column.column) for column in columns]
    arrays = [
        [column.get_db_prep_value(getattr(obj, column.attname), connection) for obj in objects]
        for column in columns
    ]
    casts = ", ".join(f"%s::{column.db_type(connection)}[]" for column in columns)
    assignments = ", ".join(f"{name} = v.{name}" for name in names[1:])
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(meta.db_table)} AS t SET {assignments} "  # noqa: S608
            f"FROM unnest({casts}) AS v({', '.join(names)}) WHERE t.{names[0]} = v.{names[0]}",
            arrays,
        )


def _status_transition(current: str, target: str) -> Transition | None:
    """The one transition of ``PRODUCT_TRANSITIONS`` from ``current`` to ``target``."""
    for transition in PRODUCT_TRANSITIONS.available(current):
        if transition.target == target:
            return transition
    return None


def catalog_import(
    *, rows, actor=None, on_progress=None, dry_run: bool = False, file_errors=()
) -> ImportSummary:
    """Create or update products and variants from ``csv_format.parse`` rows, all or nothing.

    Products are matched by handle, variants by SKU (a SKU of another product is an error).
    A blank cell leaves the stored value as it is (prices, stock, lists) where
    ``docs/catalog-csv.md`` says so; nothing is deleted. ``ImportRejected`` lists every error
    by row and column. ``on_progress(done, total)`` is called as rows are checked and written.
    ``dry_run`` does all of it, then rolls back: the summary says what an import would do.
    ``file_errors`` are those ``csv_format.parse(..., collect=True)`` found: reported with
    the ones found here, so one attempt lists every error of the file.
    """
    rows = list(rows)
    total = 2 * len(rows)
    report = on_progress or (lambda done, total: None)
    errors: list[RowError] = list(file_errors)
    summary = ImportSummary()
    by_handle: dict[str, list] = {}
    for row in rows:
        by_handle.setdefault(row.handle, []).append(row)
    with transaction.atomic():
        settings_row = store_settings()
        # Collections before products: collection_set_products locks its collection, then
        # takes its products FOR KEY SHARE, which waits for our FOR UPDATE on them.
        collection_handles = {h for row in rows for h in (row.collections or [])}
        collections_by_handle = {
            c.handle: c
            for c in Collection.objects.filter(handle__in=collection_handles)
            .order_by("pk")
            .select_for_update(no_key=True)
        }
        stored_products = {
            p.handle: p
            for p in Product.objects.filter(handle__in=list(by_handle))
            .order_by("pk")
            .select_for_update(of=("self",))
        }
        skus = [row.sku for row in rows]
        stored_variants = {
            v.sku: v
            for v in Variant.objects.filter(
                Q(sku__in=skus) | Q(product_id__in=[p.pk for p in stored_products.values()])
            )
            .order_by("pk")
            .select_for_update(of=("self",))
        }
        product_by_id = {p.pk: p for p in stored_products.values()}
        options_of: dict[UUID, list[ProductOption]] = {}
        values_of: dict[int, dict[str, OptionValue]] = {}
        for option in ProductOption.objects.filter(product_id__in=list(product_by_id)).order_by(
            "position"
        ):
            options_of.setdefault(option.product_id, []).append(option)
            values_of[option.pk] = {}
        for value in OptionValue.objects.filter(option_id__in=list(values_of)):
            values_of[value.option_id][value.value] = value
        combination_of: dict[UUID, dict[int, int]] = {}
        for variant_id, option_id, value_id in VariantOptionValue.objects.filter(
            variant_id__in=[v.pk for v in stored_variants.values()]
        ).values_list("variant_id", "option_id", "value_id"):
            combination_of.setdefault(variant_id, {})[option_id] = value_id
        value_text = {v.pk: v.value for vals in values_of.values() for v in vals.values()}
        prices_of: dict[tuple[UUID, str], Price] = {
            (p.variant_id, p.currency): p
            for p in Price.objects.filter(variant_id__in=[v.pk for v in stored_variants.values()])
        }
        currencies = sorted({code for row in rows for code in row.prices})
        location_codes = sorted({code for row in rows for code in row.stock})
        locations_by_code = {
            loc.code: loc for loc in Location.objects.filter(code__in=location_codes)
        }
        # Referred to, not changed: FOR KEY SHARE, so none is deleted under the import.
        shared = _key_share(Location, [loc.pk for loc in locations_by_code.values()])
        locations_by_code = {c: loc for c, loc in locations_by_code.items() if loc.pk in shared}
        levels = {
            (level.variant_id, level.location_id): level
            for level in StockLevel.objects.filter(
                variant_id__in=[v.pk for v in stored_variants.values()]
            )
            .order_by("pk")
            .select_for_update(of=("self",))
        }
        category_handles = {h for row in rows for h in (row.categories or [])}
        categories_by_handle = dict(
            Category.objects.filter(handle__in=category_handles).values_list("handle", "pk")
        )
        shared = _key_share(Category, categories_by_handle.values())
        categories_by_handle = {h: pk for h, pk in categories_by_handle.items() if pk in shared}
        stored_categories: dict[UUID, set[int]] = {}
        for product_id, category_id in Product.categories.through.objects.filter(
            product_id__in=list(product_by_id)
        ).values_list("product_id", "category_id"):
            stored_categories.setdefault(product_id, set()).add(category_id)
        members: dict[int, set[UUID]] = {}
        last_position: dict[int, int] = {}
        for collection_id, product_id, position in CollectionProduct.objects.filter(
            collection_id__in=[c.pk for c in collections_by_handle.values()]
        ).values_list("collection_id", "product_id", "position"):
            members.setdefault(collection_id, set()).add(product_id)
            last_position[collection_id] = max(last_position.get(collection_id, -1), position)

        # -- check every row -------------------------------------------------------------
        reported: set[tuple[str, str]] = set()

        def once(kind: str, name: str, error: RowError) -> None:
            if (kind, name) not in reported:
                reported.add((kind, name))
                errors.append(error)

        amounts: dict[int, dict[str, tuple[Decimal, Decimal | None]]] = {}
        for code in currencies:
            column = f"price_{code}"
            first = next(row.row for row in rows if code in row.prices)
            try:
                normalize_currency(code)
            except MoneyError as error:
                once("currency", code, RowError(first, column, str(error)))
                continue
            if code not in settings_row.enabled_currencies:
                once("currency", code, RowError(
                    first, column, _("%(code)s is not enabled for this store") % {"code": code}
                ))  # fmt: skip
        for done, row in enumerate(rows, start=1):
            amounts[row.row] = {}
            for code, (amount, compare) in row.prices.items():
                if ("currency", code) in reported:
                    continue
                try:
                    value = parse_amount(amount, code)
                    compare_value = parse_amount(compare, code) if compare else None
                except MoneyError as error:
                    errors.append(RowError(row.row, f"price_{code}", str(error)))
                    continue
                if compare_value is not None and compare_value <= value:
                    errors.append(RowError(row.row, f"compare_at_{code}",
                                           _("must be higher than the price (%(amount)s)")
                                           % {"amount": value}))  # fmt: skip
                    continue
                amounts[row.row][code] = (value, compare_value)
            for code in row.stock:
                if code not in locations_by_code:
                    once("location", code, RowError(row.row, f"stock_{code}",
                                                     _("there is no location %(code)s")
                                                     % {"code": code}))  # fmt: skip
            for name, found, known in (
                ("categories", row.categories, categories_by_handle),
                ("collections", row.collections, collections_by_handle),
            ):
                for handle in found or []:
                    if handle not in known:
                        errors.append(RowError(row.row, name, _("there is no %(handle)s")
                                               % {"handle": handle}))  # fmt: skip
            stored = stored_variants.get(row.sku)
            owner = stored_products.get(row.handle)
            if stored is not None and (owner is None or stored.product_id != owner.pk):
                errors.append(RowError(row.row, "sku", _sku_taken(row.sku)["sku"]))
            if done % 500 == 0:
                report(done, total)

        default = settings_row.default_currency
        variant_product = {v.pk: v.product_id for v in stored_variants.values()}
        variants_by_product: dict[UUID, list[Variant]] = {}
        for variant in stored_variants.values():
            variants_by_product.setdefault(variant.product_id, []).append(variant)
        priced_products = {
            variant_product[variant_id] for variant_id, code in prices_of if code == default
        }
        for handle, group in by_handle.items():
            first = group[0]
            product = stored_products.get(handle)
            names = [name for name, _value in first.options if name]
            if product is not None:
                stored_names = [o.name for o in options_of.get(product.pk, [])]
                if stored_names != names:
                    errors.append(RowError(first.row, "option1_name", _(
                        "the product's options are %(names)s: an import cannot change them"
                    ) % {"names": ", ".join(stored_names) or "-"}))  # fmt: skip
                    continue
            status = first.product.get("status") or (
                product.status if product else ProductStatus.DRAFT
            )
            current = product.status if product else ProductStatus.DRAFT
            if status != current:
                if _status_transition(current, status) is None:
                    errors.append(RowError(first.row, "status", _(
                        "A product that is %(status)s cannot be moved to %(target)s."
                    ) % {"status": ProductStatus(current).label, "target": status}))  # fmt: skip
                    continue
                priced = any(default in amounts.get(row.row, {}) for row in group) or (
                    product is not None and product.pk in priced_products
                )
                if status == ProductStatus.ACTIVE and not priced:
                    errors.append(RowError(first.row, "status", _(
                        "A product is activated only once a variant has a price in %(currency)s."
                    ) % {"currency": default}))  # fmt: skip
            if product is not None:
                combos: dict[tuple[str, ...], str] = {}
                in_file = {row.sku for row in group}
                options = options_of.get(product.pk, [])
                for variant in variants_by_product.get(product.pk, []):
                    if variant.sku not in in_file:
                        chosen = combination_of.get(variant.pk, {})
                        key = tuple(value_text.get(chosen.get(o.pk), "") for o in options)
                        combos[key] = variant.sku
                for row in group:
                    key = tuple(value for _name, value in row.options[: len(options)])
                    if key in combos:
                        errors.append(RowError(row.row, "option1_value", _(
                            "variant %(sku)s already has these options"
                        ) % {"sku": combos[key]}))  # fmt: skip
            for row in group:
                for code, on_hand in row.stock.items():
                    variant = stored_variants.get(row.sku)
                    policy = row.variant.get(
                        "inventory_policy", variant.inventory_policy if variant else "deny"
                    )
                    tracked = row.variant.get("tracked", variant.tracked if variant else True)
                    if on_hand < 0 and tracked and policy == InventoryPolicy.DENY:
                        errors.append(RowError(row.row, f"stock_{code}", _(
                            "stock cannot go below zero for a tracked variant that stops selling"
                        )))  # fmt: skip
        if errors:
            # A cell the file's own check refused may be refused here again: once is enough.
            unique = {(error.row, error.column): error for error in reversed(errors)}
            raise ImportRejected(list(unique.values()))
        report(len(rows), total)

        # -- write -------------------------------------------------------------------------
        original_version = {p.pk: p.version for p in product_by_id.values()}
        new_products: list[Product] = []
        updated_products: list[Product] = []
        product_fields: set[str] = set()
        changes: dict[UUID, list[str]] = {}
        status_change: dict[UUID, tuple[str, Transition]] = {}
        for handle, group in by_handle.items():
            first = group[0]
            data = dict(first.product)
            status = data.pop("status", "") or None
            product = stored_products.get(handle)
            if product is None:
                product = Product(
                    handle=handle,
                    title=data.get("title", ""),
                    description=data.get("description", ""),
                    vendor=data.get("vendor", ""),
                    product_type=data.get("product_type", ""),
                    seo_title=data.get("seo_title", ""),
                    seo_description=data.get("seo_description", ""),
                )
                product.description_html = render_body(
                    product.description, product.description_format
                )
                if status and status != ProductStatus.DRAFT:
                    status_change[product.pk] = (
                        ProductStatus.DRAFT,
                        _status_transition(ProductStatus.DRAFT, status),
                    )
                    product.status = status
                new_products.append(product)
                stored_products[handle] = product
                changes[product.pk] = []
                continue
            changed = [name for name, value in data.items() if getattr(product, name) != value]
            for name in changed:
                setattr(product, name, data[name])
            if "description" in changed:
                product.description_html = render_body(
                    product.description, product.description_format
                )
                changed.append("description_html")
            if status and status != product.status:
                status_change[product.pk] = (
                    product.status,
                    _status_transition(product.status, status),
                )
                product.status = status
                product_fields.add("status")
            product_fields.update(changed)
            changes[product.pk] = [name for name in changed if name != "description_html"]
            updated_products.append(product)
        try:
            with transaction.atomic():
                Product.objects.bulk_create(new_products)
        except IntegrityError:
            raise CommerceInvalid(
                {"file": _("The catalog changed during the import; import the file again.")}
            ) from None

        category_links = []
        replaced: list[UUID] = []
        for handle, group in by_handle.items():
            product = stored_products[handle]
            wanted = group[0].categories
            if wanted is None:
                continue
            ids = {categories_by_handle[h] for h in wanted}
            if ids != stored_categories.get(product.pk, set()):
                replaced.append(product.pk)
                category_links += [
                    Product.categories.through(product_id=product.pk, category_id=pk)
                    for pk in sorted(ids)
                ]
                if product.pk in product_by_id:
                    changes[product.pk].append("categories")
        if replaced:
            Product.categories.through.objects.filter(product_id__in=replaced).delete()
            Product.categories.through.objects.bulk_create(category_links)

        new_options: list[ProductOption] = []
        for handle, group in by_handle.items():
            product = stored_products[handle]
            if product.pk not in product_by_id:
                options_of[product.pk] = [
                    ProductOption(product=product, name=name, position=position)
                    for position, (name, _value) in enumerate(group[0].options)
                    if name
                ]
                new_options += options_of[product.pk]
        ProductOption.objects.bulk_create(new_options)
        new_values: list[OptionValue] = []
        for handle, group in by_handle.items():
            product = stored_products[handle]
            for index, option in enumerate(options_of.get(product.pk, [])):
                known = values_of.setdefault(option.pk, {})
                position = max((v.position for v in known.values()), default=-1)
                for row in group:
                    text = row.options[index][1]
                    if text not in known:
                        position += 1
                        known[text] = OptionValue(option=option, value=text, position=position)
                        new_values.append(known[text])
                        if product.pk in product_by_id:
                            changes[product.pk].append(f"options.{index}.values")
        OptionValue.objects.bulk_create(new_values)

        new_variants: list[Variant] = []
        updated_variants: list[Variant] = []
        variant_fields: set[str] = set()
        rechosen: list[Variant] = []
        choices: list[VariantOptionValue] = []
        row_variant: dict[int, Variant] = {}
        for handle, group in by_handle.items():
            product = stored_products[handle]
            options = options_of.get(product.pk, [])
            for position, row in enumerate(group):
                picked = [values_of[o.pk][row.options[i][1]] for i, o in enumerate(options)]
                key = _option_key(value.pk for value in picked)
                variant = stored_variants.get(row.sku)
                if variant is None:
                    variant = Variant(
                        product=product, sku=row.sku, option_key=key, position=position,
                        **{name: value for name, value in row.variant.items()},
                    )  # fmt: skip
                    new_variants.append(variant)
                    choices += [
                        VariantOptionValue(variant=variant, option=o, value=v)
                        for o, v in zip(options, picked, strict=True)
                    ]
                    summary.variants_created += 1
                    if product.pk in product_by_id:
                        changes[product.pk].append("variants")
                else:
                    changed = [n for n, v in row.variant.items() if getattr(variant, n) != v]
                    for name in changed:
                        setattr(variant, name, row.variant[name])
                    if variant.option_key != key:
                        variant.option_key = key
                        changed.append("option_key")
                        rechosen.append(variant)
                        choices += [
                            VariantOptionValue(variant=variant, option=o, value=v)
                            for o, v in zip(options, picked, strict=True)
                        ]
                    if changed:
                        variant_fields.update(changed)
                        updated_variants.append(variant)
                        changes[product.pk].append("variants")
                        summary.variants_updated += 1
                    else:
                        summary.variants_unchanged += 1
                row_variant[row.row] = variant
        try:
            with transaction.atomic():
                Variant.objects.bulk_create(new_variants)
                for variant in updated_variants:
                    variant.updated_at = timezone.now()
                _set_columns(Variant, updated_variants, variant_fields | {"updated_at"})
                VariantOptionValue.objects.filter(variant__in=rechosen).delete()
                VariantOptionValue.objects.bulk_create(choices)
        except IntegrityError:
            raise CommerceInvalid(
                {"file": _("The catalog changed during the import; import the file again.")}
            ) from None

        new_prices: list[Price] = []
        changed_prices: list[Price] = []
        for row in rows:
            variant = row_variant[row.row]
            for code, (amount, compare) in amounts[row.row].items():
                price = prices_of.get((variant.pk, code))
                if price is None:
                    new_prices.append(
                        Price(variant=variant, currency=code, amount=amount,
                              compare_at_amount=compare)
                    )  # fmt: skip
                elif price.amount != amount or price.compare_at_amount != compare:
                    price.amount, price.compare_at_amount = amount, compare
                    changed_prices.append(price)
                else:
                    continue
                if variant.product_id in product_by_id:
                    changes[variant.product_id].append("prices")
        Price.objects.bulk_create(new_prices)
        if changed_prices:
            for price in changed_prices:
                price.updated_at = timezone.now()
            _set_columns(Price, changed_prices, ["amount", "compare_at_amount", "updated_at"])

        new_levels: list[StockLevel] = []
        changed_levels: list[StockLevel] = []
        adjusted: list[tuple[Variant, StockLevel, int]] = []
        available_before: dict[UUID, int] = {}
        for (variant_id, _location), level in levels.items():
            available_before[variant_id] = available_before.get(variant_id, 0) + level.available
        for row in rows:
            variant = row_variant[row.row]
            for code, on_hand in row.stock.items():
                location = locations_by_code[code]
                level = levels.get((variant.pk, location.pk))
                if level is None:
                    level = StockLevel(variant=variant, location=location, on_hand=0)
                    levels[(variant.pk, location.pk)] = level
                    new_levels.append(level)
                elif level.on_hand != on_hand:
                    changed_levels.append(level)
                delta = on_hand - level.on_hand
                if delta:
                    level.on_hand = on_hand
                    level.updated_at = timezone.now()
                    adjusted.append((variant, level, delta))
        StockLevel.objects.bulk_create(new_levels)
        _set_columns(StockLevel, changed_levels, ["on_hand", "updated_at"])
        StockAdjustment.objects.bulk_create(
            StockAdjustment(
                variant=variant, location_id=level.location_id, delta=delta,
                reason=AdjustmentReason.CORRECTION, on_hand_after=level.on_hand,
                actor=_user(actor), note=IMPORT_NOTE,
            )
            for variant, level, delta in adjusted
        )  # fmt: skip

        joined: dict[int, list[UUID]] = {}
        memberships: list[CollectionProduct] = []
        for handle, group in by_handle.items():
            product = stored_products[handle]
            for collection_handle in group[0].collections or []:
                collection = collections_by_handle[collection_handle]
                if product.pk in members.setdefault(collection.pk, set()):
                    continue
                members[collection.pk].add(product.pk)
                last_position[collection.pk] = last_position.get(collection.pk, -1) + 1
                memberships.append(
                    CollectionProduct(collection=collection, product=product,
                                      position=last_position[collection.pk])
                )  # fmt: skip
                joined.setdefault(collection.pk, []).append(product.pk)
        CollectionProduct.objects.bulk_create(memberships)

        # -- versions and events -----------------------------------------------------------
        # Published together at the end: one INSERT per thousand events (publish_many).
        outgoing: list[events.DomainEvent] = []
        done = len(rows)
        for product in new_products:
            outgoing.append(
                events.ProductCreated(product_id=product.pk, version=1, handle=product.handle)
            )
            summary.products_created += 1
            summary.events += 1
            done += len(by_handle[product.handle])
            if done // 500 != (done - len(by_handle[product.handle])) // 500:
                report(done, total)
        for product in updated_products:
            changed = list(dict.fromkeys(changes[product.pk]))
            if changed:
                product.version += 1
                outgoing.append(
                    events.ProductUpdated(
                        product_id=product.pk, version=product.version, changed=changed[:50]
                    )
                )
                summary.events += 1
            if changed or product.pk in status_change:
                summary.products_updated += 1
            else:
                summary.products_unchanged += 1
            done += len(by_handle[product.handle])
            if done // 500 != (done - len(by_handle[product.handle])) // 500:
                report(done, total)
        for product in [*new_products, *updated_products]:
            if product.pk not in status_change:
                continue
            previous, transition = status_change[product.pk]
            product.version += 1
            outgoing.append(
                transition.event(
                    product_id=product.pk, version=product.version,
                    from_status=previous, to_status=transition.target,
                )
            )  # fmt: skip
            summary.events += 1
        bumped = [p for p in new_products if p.version > 1] + [
            p for p in updated_products if p.version != original_version[p.pk]
        ]
        now = timezone.now()
        for product in bumped:
            product.updated_at = now
        fields = {"version", "updated_at", *product_fields}
        if "description" in product_fields:
            fields.add("description_html")
        _set_columns(Product, bumped, fields)
        for variant, level, delta in adjusted:
            outgoing.append(
                events.InventoryAdjusted(
                    variant_id=variant.pk, product_id=variant.product_id,
                    location_id=level.location_id, delta=delta,
                    reason=AdjustmentReason.CORRECTION, on_hand=level.on_hand,
                    reserved=level.reserved,
                )
            )  # fmt: skip
            summary.events += 1
        available_after: dict[UUID, int] = {}
        for (variant_id, _location), level in levels.items():
            available_after[variant_id] = available_after.get(variant_id, 0) + level.available
        for variant in {variant.pk: variant for variant, _level, _delta in adjusted}.values():
            threshold = variant.low_stock_threshold
            before = available_before.get(variant.pk, 0)
            after = available_after[variant.pk]
            if variant.tracked and threshold and before >= threshold > after:
                outgoing.append(
                    events.InventoryLow(
                        variant_id=variant.pk, product_id=variant.product_id, sku=variant.sku,
                        available=after, threshold=threshold,
                    )
                )  # fmt: skip
                summary.events += 1
        for collection_id, product_ids in joined.items():
            collection = next(c for c in collections_by_handle.values() if c.pk == collection_id)
            outgoing.append(
                events.CollectionUpdated(
                    collection_id=collection.pk, handle=collection.handle,
                    changed=["products"], product_ids=sorted(product_ids, key=str),
                )
            )  # fmt: skip
            summary.events += 1
        publish_many(outgoing, actor=actor)
        report(total, total)
        if dry_run:
            transaction.set_rollback(True)
    return summary


# -- composite writes of the REST API -----------------------------------------------------


def collection_change(
    *,
    collection_id: int,
    title: str | None = None,
    handle: str | None = None,
    description: str | None = None,
    product_ids: Sequence[Any] | None = None,
    actor=None,
) -> Collection:
    """Change a collection's fields and (when ``product_ids`` is given) the products it holds,
    in one transaction: a refused handle keeps the products unchanged too."""
    with transaction.atomic():
        collection = collection_update(
            collection_id=collection_id,
            title=title,
            handle=handle,
            description=description,
            actor=actor,
        )
        if product_ids is not None:
            collection = collection_set_products(
                collection_id=collection_id, product_ids=product_ids, actor=actor
            )
    return collection


# -- reservations become sales (the checkout) ------------------------------------------------


def reservations_convert(*, reference: str, actor=None) -> list[StockAdjustment]:
    """Sell what is reserved for ``reference`` (a checkout): every reservation of it, or none.

    Under the locks of every stock write (the variants' rows, then all their stock levels),
    each reservation takes its units out of ``on_hand`` and ``reserved`` together, as one
    ``sold`` adjustment with the actor, and is removed; ``commerce.inventory.sold`` is
    published for each. On hand goes below zero only for a variant that may oversell, else
    ``OutOfStock`` and nothing is sold.

    When a reservation of the reference is past its time, nothing is sold: the expired ones
    are released (that commits, unless the caller's own transaction rolls back) and
    ``ReservationExpired`` is raised; the others stay held. A reference that holds nothing
    (never reserved, already sold, released or expired) is ``ReservationNotFound``, so a
    second conversion never sells twice.
    """
    errors: dict[str, str] = {}
    reference = _text(errors, "reference", reference, max_length=100, required=True)
    _raise(errors)
    not_found = ReservationNotFound(
        _("No reservation is held for %(reference)s.") % {"reference": reference}
    )
    held = list(
        Reservation.objects.filter(reference=reference)
        .values_list("variant_id", "location_id")
        .distinct()
    )
    if not held:
        raise not_found
    with transaction.atomic():
        stock = _LockedStock(held)
        # Read again under the locks: a concurrent sale, release or expiry may have taken some.
        reservations = list(Reservation.objects.filter(reference=reference).order_by("pk"))
        if not reservations:
            raise not_found
        if any(reservation.variant_id not in stock.variants for reservation in reservations):
            # Lines reserved for the reference meanwhile, on variants this call did not lock.
            raise CatalogConflict(
                _("The reservations of %(reference)s changed meanwhile; try again.")
                % {"reference": reference}
            )
        now = timezone.now()
        expired = [reservation for reservation in reservations if reservation.expires_at <= now]
        for reservation in expired:
            _release(stock, reservation, expired=True, actor=actor)
        if expired:
            stock.publish_low(actor=actor)
        else:
            sold = _sell_reserved(stock, reservations, reference=reference, actor=actor)
    if expired:
        raise ReservationExpired(
            _("The reservation of %(reference)s has expired; its stock was released.")
            % {"reference": reference},
            reference=reference,
        )
    return sold


def _sell_reserved(
    stock: _LockedStock, reservations: Sequence[Reservation], *, reference: str, actor
) -> list[StockAdjustment]:
    """The sale of locked, unexpired reservations: one UPDATE of the levels, one INSERT of the
    adjustments, one DELETE of the reservations, then an event per reservation."""
    touched: dict[tuple[UUID, int], StockLevel] = {}
    sold: list[tuple[Reservation, StockAdjustment, int]] = []
    now = timezone.now()
    for reservation in reservations:
        variant = stock.variants[reservation.variant_id]
        level = stock.levels[(reservation.variant_id, reservation.location_id)]
        on_hand = level.on_hand - reservation.quantity
        if on_hand < 0 and not _may_oversell(variant):
            raise OutOfStock(
                _("Only %(count)d of %(sku)s are on hand here: stock cannot go below zero.")
                % {"count": level.on_hand, "sku": variant.sku},
                on_hand=level.on_hand,
            )
        level.on_hand, level.reserved, level.updated_at = (
            on_hand, level.reserved - reservation.quantity, now,
        )  # fmt: skip
        touched[(level.variant_id, level.location_id)] = level
        adjustment = StockAdjustment(
            variant_id=reservation.variant_id, location_id=reservation.location_id,
            delta=-reservation.quantity, reason=AdjustmentReason.SOLD, on_hand_after=on_hand,
            actor=_user(actor), note=reference,
        )  # fmt: skip
        sold.append((reservation, adjustment, level.reserved))
    StockLevel.objects.bulk_update(list(touched.values()), ["on_hand", "reserved", "updated_at"])
    adjustments = StockAdjustment.objects.bulk_create([adjustment for _r, adjustment, _n in sold])
    # One DELETE, not QuerySet.delete()'s read of the rows first (a post_delete receiver of
    # any model, django-tenants' own, turns Django's fast delete off); nothing refers to them.
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {Reservation._meta.db_table} WHERE id = ANY(%s)",  # noqa: S608 (constant table name)
            [[reservation.pk for reservation in reservations]],
        )
    # One outbox INSERT for the whole sale, whatever the number of lines.
    publish_many(
        [
            events.InventorySold(
                variant_id=reservation.variant_id,
                product_id=stock.variants[reservation.variant_id].product_id,
                location_id=reservation.location_id,
                reservation_id=reservation.pk,
                quantity=reservation.quantity,
                reference=reference,
                on_hand=adjustment.on_hand_after,
                reserved=reserved,
            )
            for reservation, adjustment, reserved in sold
        ],
        actor=actor,
    )
    stock.publish_low(actor=actor)
    return adjustments


# -- the whole product in one write (the merchants' product form) --------------------------


@dataclass
class OptionChange:
    """One option for ``product_save``: a new one (no ``option_id``), a stored one's new name
    or values (``None``: kept), or its deletion."""

    option_id: int | None = None
    name: str | None = None
    values: Sequence[str] | None = None
    delete: bool = False


@dataclass
class PriceChange:
    """A variant's price in ``currency``; no ``amount``: no price (a stored one is removed)."""

    currency: str
    amount: Decimal | str | int | None = None
    compare_at_amount: Decimal | str | int | None = None


@dataclass
class VariantChange:
    """One variant for ``product_save``: a new one (no ``variant_id``; ``fields`` as
    ``VariantInput``'s), a stored one's changed ``fields`` (``options``: the full choice), or
    its deletion; then its ``prices``."""

    variant_id: UUID | None = None
    fields: Mapping[str, Any] = field(default_factory=dict)
    prices: Sequence[PriceChange] = ()
    delete: bool = False


@dataclass
class ImageChange:
    """One image for ``product_save``: a new one (``file``, added after the others), a stored
    one's alt texts (``alt_text``: the full map), or its deletion."""

    image_id: UUID | None = None
    file: UploadedFile | None = None
    alt_text: Mapping[str, str] | None = None
    delete: bool = False


@contextmanager
def _part(name: str) -> Iterator[None]:
    """Errors raised inside name the part of ``product_save`` they are about."""
    try:
        yield
    except PlatformError as error:
        raise located(error, name) from None


_Apply = Callable[[int, Any], Any]


def _apply_each(
    changes: Sequence[Any],
    part: str,
    stored: Mapping[int, Any],
    *,
    delete: _Apply | None = None,
    change: _Apply | None = None,
    new: _Apply | None = None,
) -> None:
    """Among ``changes`` (by index, ``stored`` the items they name): ``delete(index, item)``
    each stored item deleted, then ``change`` each stored item kept, then ``new`` each new
    one (a new one deleted is nothing); a refusal is located at ``<part>.<index>``."""
    groups = (
        (delete, lambda index, item: item.delete and index in stored),
        (change, lambda index, item: not item.delete and index in stored),
        (new, lambda index, item: not item.delete and index not in stored),
    )
    for apply, chosen in groups:
        if apply is None:
            continue
        for index, item in enumerate(changes):
            if chosen(index, item):
                with _part(f"{part}.{index}"):
                    apply(index, item)


def product_save(
    *,
    product_id: UUID | None,
    fields: Mapping[str, Any] | None = None,
    translations: Mapping[str, Mapping[str, Any]] | None = None,
    delete_locales: Iterable[str] = (),
    options: Sequence[OptionChange] = (),
    variants: Sequence[VariantChange] = (),
    images: Sequence[ImageChange] = (),
    image_order: Sequence[UUID | str] | None = None,
    actor=None,
) -> Product:
    """Create (no ``product_id``) or change a product with its translations, options,
    variants, prices and images, in one transaction under one lock of the product: all of it
    or nothing. Each part is written by the helper of its own service and publishes that
    service's event, each with the next version of the product.

    :param fields: ``PRODUCT_FIELDS`` and ``category_ids``; a new product needs a title.
    :param image_order: the stored images that remain, in their new order (all of them).

    Order: the product; variants deleted, changed, then new, each with its prices (a variant
    names values of the options as they are stored); options deleted, changed, then new (a
    new option gives every variant its first value); images deleted, changed, reordered,
    then new.

    A refusal of a part names it (``error.part``: ``options.<i>``, ``variants.<i>``,
    ``variants.<i>.prices.<CUR>``, ``images.<i>`` or ``image_order``, ``i`` the index in its
    list; see ``errors.located``), and a ``CommerceInvalid``'s field names start with it
    (``variants.2.sku``, ``variants.0.prices.EUR.amount``); one of the product's own fields
    or translations has no part.
    """
    fields = dict(fields or {})
    with _files_removed_on_failure() as stored_files, transaction.atomic():
        if product_id is None:
            unknown = set(fields) - {*PRODUCT_FIELDS, "category_ids"}
            if unknown:
                raise CommerceInvalid({name: _("cannot be changed here") for name in unknown})
            data = ProductInput(**{"title": "", **fields})
            product = _product_create_apply(data=data, translations=translations, actor=actor)
        else:
            change = _clean_product_change(fields, translations, delete_locales)
            product = _locked_product(product_id)
            _product_update_apply(product, change, actor=actor)
        stored = _stored_variants(product, variants)

        def save_variant(index: int, change: VariantChange) -> None:
            _product_save_variant(product, index, change, stored.get(index), actor=actor)

        _apply_each(
            variants,
            "variants",
            stored,
            delete=lambda index, _: _variant_delete_apply(product, stored[index], actor=actor),
            change=save_variant,
            new=save_variant,
        )
        _product_save_options(product, options, actor=actor)
        _product_save_images(product, images, image_order, stored=stored_files, actor=actor)
    return product


def _stored_variants(product: Product, variants: Sequence[VariantChange]) -> dict[int, Variant]:
    """The stored variants ``variants`` name, by index, locked in primary-key order."""
    named: dict[int, UUID] = {}
    for index, variant in enumerate(variants):
        if variant.variant_id is not None:
            with _part(f"variants.{index}"):
                named[index] = _uuid(variant.variant_id)
    locked = _locked_variants(product, named.values())
    found: dict[int, Variant] = {}
    for index, variant_id in named.items():
        if variant_id not in locked:
            raise located(VariantNotFound(_("No such variant.")), f"variants.{index}")
        found[index] = locked[variant_id]
    return found


def _stored_items(
    changes: Sequence[Any], part: str, key: str, find: Callable[[Any], Any]
) -> dict[int, Any]:
    """By index, the stored item each change names by its ``key`` (``find(id)``)."""
    found = {}
    for index, change in enumerate(changes):
        if getattr(change, key) is not None:
            with _part(f"{part}.{index}"):
                found[index] = find(getattr(change, key))
    return found


def _product_save_options(product: Product, options: Sequence[OptionChange], *, actor) -> None:
    stored = _stored_items(options, "options", "option_id", lambda pk: _option_of(product, pk))

    def change(index: int, option: OptionChange) -> None:
        name, values = option.name, option.values
        _option_update_apply(product, stored[index], name=name, values=values, actor=actor)

    def create(_index: int, option: OptionChange) -> None:
        name, values = _clean_option(option.name, option.values)
        _option_create_apply(product, name=name, values=values, actor=actor)

    _apply_each(
        options,
        "options",
        stored,
        delete=lambda index, _: _option_delete_apply(product, stored[index], actor=actor),
        change=change,
        new=create,
    )


def _product_save_variant(
    product: Product, index: int, change: VariantChange, variant: Variant | None, *, actor
) -> None:
    """A stored ``variant``'s changes, else a new one; then its prices."""
    if variant is not None:
        clean = _clean_variant_changes(change.fields)
        options = change.fields.get("options")
        _variant_update_apply(product, variant, clean, options=options, actor=actor)
    else:
        _clean_variant_changes(change.fields)  # (unknown fields)
        data = VariantInput(**{"sku": "", **change.fields})
        clean = _clean_variant_input(data)
        variant = _variant_create_apply(product, clean, options=data.options or {}, actor=actor)
    for price in change.prices:
        with _part(f"variants.{index}.prices.{str(price.currency).strip()[:3].upper()}"):
            _product_save_price(product, variant, price, actor=actor)


def _product_save_price(product: Product, variant: Variant, change: PriceChange, *, actor) -> None:
    if change.amount is None or change.amount == "":
        if change.compare_at_amount not in (None, ""):
            raise CommerceInvalid({"amount": _("required")})
        code = str(change.currency or "").strip().upper()
        price = Price.objects.filter(variant=variant, currency=code).first()
        if price is not None:
            _price_delete_apply(product, variant, price, actor=actor)
        return
    code, value, compare_at = _clean_price(change.currency, change.amount, change.compare_at_amount)
    _check_enabled(code)
    _price_set_apply(product, variant, code, value, compare_at, actor=actor)


def _product_save_images(
    product: Product,
    images: Sequence[ImageChange],
    image_order: Sequence[UUID | str] | None,
    *,
    stored: list[tuple[Any, str]],
    actor,
) -> None:
    named = _stored_items(images, "images", "image_id", lambda pk: _image_of(product, pk))

    def change(index: int, image: ImageChange) -> None:
        _image_update_apply(product, named[index], _clean_alt_text(image.alt_text), actor=actor)

    def add(_index: int, image: ImageChange) -> None:
        if image.file is None:
            raise CommerceInvalid({"file": _("required")})
        content_type, alt = _clean_image(image.file, image.alt_text)
        _image_add_apply(product, image.file, content_type, alt, stored=stored, actor=actor)

    _apply_each(
        images,
        "images",
        named,
        delete=lambda index, _: _image_delete_apply(product, named[index], actor=actor),
        change=change,
    )
    if image_order is not None:
        with _part("image_order"):
            _images_reorder_apply(product, image_order, actor=actor)
    _apply_each(images, "images", named, new=add)
