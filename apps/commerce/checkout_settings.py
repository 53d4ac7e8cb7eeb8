"""The merchant's checkout settings: tax rates per country, shipping zones with their methods
and rates, vouchers with their amounts per currency. Writes only, each one transaction with
one event; a shipping method and its rates, a voucher and its amounts, are one write each
(the admin's form with its inline rows calls one service).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.events.publisher import publish

from . import events
from .addresses import country_code
from .errors import (
    CatalogConflict,
    CommerceInvalid,
    ShippingMethodNotFound,
    ShippingZoneNotFound,
    TaxRateNotFound,
    VoucherNotFound,
)
from .models import (
    VOUCHER_CODE_FORMAT,
    ShippingMethod,
    ShippingRate,
    ShippingZone,
    TaxRate,
    Voucher,
    VoucherAmount,
    VoucherKind,
)
from .money import MoneyError, normalize_currency, parse_amount

MAX_RATE = Decimal(1)
MAX_ROWS = 50


def _raise(errors: dict[str, str]) -> None:
    if errors:
        raise CommerceInvalid(errors)


def _name(errors: dict[str, str], key: str, value: Any, *, max_length: int = 120) -> str:
    text = " ".join(str(value or "").split())
    if not text:
        errors[key] = _("this field is required")
    elif len(text) > max_length:
        errors[key] = _("at most %(count)d characters") % {"count": max_length}
    return text


def _amount(errors: dict[str, str], key: str, value: Any, currency: str, *, optional=False):
    if value is None or value == "":
        if not optional:
            errors[key] = _("this field is required")
        return None
    try:
        amount = parse_amount(value, currency)
    except MoneyError as error:
        errors[key] = str(error)
        return None
    if amount < 0:
        errors[key] = _("must not be negative")
    return amount


def _currency(errors: dict[str, str], key: str, value: Any) -> str:
    try:
        return normalize_currency(value)
    except MoneyError as error:
        errors[key] = str(error)
        return ""


# -- tax rates --------------------------------------------------------------------------------


def tax_rate_set(*, country: str, rate: Any, name: str = "", actor=None) -> TaxRate:
    """Set the tax rate of a country (0.19 for 19 %), creating its row if needed."""
    errors: dict[str, str] = {}
    code = country_code(country)
    if code is None:
        errors["country"] = _("choose a country")
    try:
        value = Decimal(str(rate).strip()) if not isinstance(rate, float) else None
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or not 0 <= value < MAX_RATE:
        errors["rate"] = _("a rate from 0 to 0.9999 (0.19 for 19 %)")
    elif value != value.quantize(Decimal("0.0001")):
        errors["rate"] = _("at most four decimal places")
    name = " ".join(str(name or "").split())
    if len(name) > 100:
        errors["name"] = _("at most %(count)d characters") % {"count": 100}
    _raise(errors)
    with transaction.atomic():
        row, _created = TaxRate.objects.select_for_update().get_or_create(
            country=code, defaults={"rate": value, "name": name}
        )
        row.rate, row.name = value, name
        row.save()
        publish(events.TaxRateSet(country=code, rate=value), actor=actor)
    return row


def _delete(queryset, missing: Exception, event, *, actor) -> None:
    """Delete what ``queryset`` selects and publish ``event`` (a callable), or raise
    ``missing`` when it selects nothing."""
    with transaction.atomic():
        deleted, _rows = queryset.delete()
        if not deleted:
            raise missing
        publish(event(), actor=actor)


def tax_rate_delete(*, country: str, actor=None) -> None:
    code = country_code(country) or ""
    _delete(
        TaxRate.objects.filter(country=code), TaxRateNotFound(_("No such tax rate.")),
        lambda: events.TaxRateDeleted(country=code), actor=actor,
    )  # fmt: skip


# -- shipping ---------------------------------------------------------------------------------


def _countries(errors: dict[str, str], values: Any) -> list[str]:
    if isinstance(values, str):
        values = values.replace(",", " ").split()
    codes = []
    for value in values or []:
        code = country_code(value)
        if code is None:
            errors["countries"] = _("'%(code)s' is not a country code") % {"code": str(value)[:8]}
            return []
        if code not in codes:
            codes.append(code)
    if not codes and "countries" not in errors:
        errors["countries"] = _("name at least one country")
    return codes


def shipping_zone_save(
    *, zone_id: int | None = None, name: str, countries: Sequence[str] | str, actor=None
) -> ShippingZone:
    """Create a zone (``zone_id`` None) or change one's name and countries."""
    errors: dict[str, str] = {}
    name = _name(errors, "name", name)
    codes = _countries(errors, countries)
    _raise(errors)
    with transaction.atomic():
        if zone_id is None:
            zone = ShippingZone.objects.create(name=name, countries=codes)
        else:
            zone = ShippingZone.objects.select_for_update().filter(pk=zone_id).first()
            if zone is None:
                raise ShippingZoneNotFound(_("No such shipping zone."))
            zone.name, zone.countries = name, codes
            zone.save()
        publish(
            events.ShippingZoneSaved(zone_id=zone.pk, countries=codes, created=zone_id is None),
            actor=actor,
        )
    return zone


def shipping_zone_delete(*, zone_id: int, actor=None) -> None:
    """Delete a zone with its methods (checkouts that chose one choose again)."""
    _delete(
        ShippingZone.objects.filter(pk=zone_id), ShippingZoneNotFound(_("No such shipping zone.")),
        lambda: events.ShippingZoneDeleted(zone_id=zone_id), actor=actor,
    )  # fmt: skip


@dataclass(frozen=True)
class RateInput:
    currency: str
    price: Any
    free_over: Any = None


def _currency_rows(errors: dict[str, str], part: str, rows: Sequence[Any]):
    """Each of ``rows`` (one per currency, at most ``MAX_ROWS``) with its error prefix
    (``rates.2``) and its currency, skipping (and naming) bad and repeated currencies."""
    if len(rows) > MAX_ROWS:
        errors[part] = _("at most %(count)d rows") % {"count": MAX_ROWS}
        return
    seen: set[str] = set()
    for index, row in enumerate(rows):
        prefix = f"{part}.{index}"
        currency = _currency(errors, f"{prefix}.currency", row.currency)
        if not currency:
            continue
        if currency in seen:
            errors[f"{prefix}.currency"] = _("one row per currency")
            continue
        seen.add(currency)
        yield row, prefix, currency


def _clean_rates(errors: dict[str, str], rates: Sequence[RateInput]) -> list[ShippingRate]:
    cleaned: dict[str, ShippingRate] = {}
    for rate, prefix, currency in _currency_rows(errors, "rates", rates):
        price = _amount(errors, f"{prefix}.price", rate.price, currency)
        free_over = _amount(errors, f"{prefix}.free_over", rate.free_over, currency, optional=True)
        cleaned[currency] = ShippingRate(currency=currency, price=price, free_over=free_over)
    return list(cleaned.values())


def _clean_translations(errors: dict[str, str], values: Any) -> dict[str, str]:
    if not isinstance(values, Mapping):
        errors["name_translations"] = _("a mapping of locale to name")
        return {}
    cleaned = {}
    for locale, text in values.items():
        locale = str(locale).strip()
        text = " ".join(str(text or "").split())
        if not locale or len(locale) > 16 or len(text) > 120:
            errors["name_translations"] = _("a locale and a name of at most 120 characters")
            return {}
        if text:
            cleaned[locale] = text
    return cleaned


def shipping_method_save(
    *,
    method_id: int | None = None,
    zone_id: int,
    name: str,
    name_translations: Mapping[str, str] | None = None,
    active: bool = True,
    position: int = 0,
    rates: Sequence[RateInput] = (),
    actor=None,
) -> ShippingMethod:
    """Create or change a shipping method with all its rates (the rates given replace the
    stored ones)."""
    errors: dict[str, str] = {}
    name = _name(errors, "name", name)
    translations = _clean_translations(errors, name_translations or {})
    if isinstance(position, bool) or not isinstance(position, int) or not 0 <= position < 10**6:
        errors["position"] = _("a whole number from 0")
    new_rates = _clean_rates(errors, rates)
    _raise(errors)
    with transaction.atomic():
        zone = ShippingZone.objects.select_for_update().filter(pk=zone_id).first()
        if zone is None:
            raise ShippingZoneNotFound(_("No such shipping zone."))
        if method_id is None:
            method = ShippingMethod(zone=zone)
        else:
            method = ShippingMethod.objects.select_for_update().filter(pk=method_id).first()
            if method is None:
                raise ShippingMethodNotFound(_("No such shipping method."))
            method.zone = zone
        method.name, method.name_translations = name, translations
        method.active, method.position = bool(active), position
        method.save()
        ShippingRate.objects.filter(method=method).delete()
        for rate in new_rates:
            rate.method = method
        ShippingRate.objects.bulk_create(new_rates)
        publish(
            events.ShippingMethodSaved(
                method_id=method.pk, zone_id=zone.pk, active=method.active,
                currencies=[rate.currency for rate in new_rates], created=method_id is None,
            ),
            actor=actor,
        )  # fmt: skip
    return method


def shipping_method_delete(*, method_id: int, actor=None) -> None:
    _delete(
        ShippingMethod.objects.filter(pk=method_id),
        ShippingMethodNotFound(_("No such shipping method.")),
        lambda: events.ShippingMethodDeleted(method_id=method_id), actor=actor,
    )  # fmt: skip


# -- vouchers ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class VoucherAmountInput:
    currency: str
    amount: Any = None  # off a fixed voucher's subtotal
    min_subtotal: Any = None


@dataclass(frozen=True)
class VoucherInput:
    code: str
    kind: str
    percentage: Any = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    usage_limit: int | None = None
    per_customer_limit: int | None = None
    active: bool = True
    amounts: Sequence[VoucherAmountInput] = ()


def _limit(errors: dict[str, str], key: str, value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        errors[key] = _("a whole number from 1, or empty for no limit")
        return None
    return value


def _clean_voucher(data: VoucherInput) -> tuple[dict[str, Any], list[VoucherAmount]]:
    errors: dict[str, str] = {}
    code = str(data.code or "").strip().upper()
    if not re.fullmatch(VOUCHER_CODE_FORMAT, code):
        errors["code"] = _("letters, digits, - and _ (at most 64)")
    if data.kind not in VoucherKind.values:
        errors["kind"] = _("must be one of %(choices)s") % {
            "choices": ", ".join(VoucherKind.values)
        }
    percentage = None
    if data.kind == VoucherKind.PERCENTAGE:
        try:
            percentage = Decimal(str(data.percentage).strip())
        except InvalidOperation:
            percentage = None
        if (
            isinstance(data.percentage, float)
            or percentage is None
            or not percentage.is_finite()
            or not 0 < percentage <= 100
            or percentage != percentage.quantize(Decimal("0.01"))
        ):
            errors["percentage"] = _("a percentage above 0 and at most 100, two decimals")
            percentage = None
    for key in ("starts_at", "ends_at"):
        value = getattr(data, key)
        if value is not None and (not isinstance(value, datetime) or timezone.is_naive(value)):
            errors[key] = _("must be a time with a time zone")
    if not errors and data.starts_at and data.ends_at and data.ends_at <= data.starts_at:
        errors["ends_at"] = _("must be after the start")
    fields = {
        "code": code,
        "kind": data.kind,
        "percentage": percentage,
        "starts_at": data.starts_at,
        "ends_at": data.ends_at,
        "usage_limit": _limit(errors, "usage_limit", data.usage_limit),
        "per_customer_limit": _limit(errors, "per_customer_limit", data.per_customer_limit),
        "active": bool(data.active),
    }
    amounts: dict[str, VoucherAmount] = {}
    for row, prefix, currency in _currency_rows(errors, "amounts", data.amounts):
        amount = _amount(
            errors, f"{prefix}.amount", row.amount, currency,
            optional=data.kind != VoucherKind.FIXED,
        )  # fmt: skip
        if amount is not None and amount <= 0:
            errors[f"{prefix}.amount"] = _("must be more than zero")
        minimum = _amount(
            errors, f"{prefix}.min_subtotal", row.min_subtotal, currency, optional=True
        )
        amounts[currency] = VoucherAmount(
            currency=currency,
            amount=amount if data.kind == VoucherKind.FIXED else None,
            min_subtotal=minimum,
        )
    if data.kind == VoucherKind.FIXED and not amounts and not errors:
        errors["amounts"] = _("a fixed voucher needs an amount in at least one currency")
    _raise(errors)
    return fields, list(amounts.values())


def voucher_save(*, voucher_id: int | None = None, data: VoucherInput, actor=None) -> Voucher:
    """Create or change a voucher with its amounts per currency (the amounts given replace
    the stored ones). Its use count is not changed here (only placed orders count)."""
    fields, amounts = _clean_voucher(data)
    with transaction.atomic():
        if voucher_id is None:
            voucher = Voucher(**fields)
        else:
            voucher = Voucher.objects.select_for_update().filter(pk=voucher_id).first()
            if voucher is None:
                raise VoucherNotFound(_("No such voucher."))
            for key, value in fields.items():
                setattr(voucher, key, value)
            voucher.version += 1
        try:
            with transaction.atomic():
                voucher.save()
        except IntegrityError:
            raise CommerceInvalid({"code": _("this code is taken")}) from None
        VoucherAmount.objects.filter(voucher=voucher).delete()
        for amount in amounts:
            amount.voucher = voucher
        VoucherAmount.objects.bulk_create(amounts)
        publish(
            events.VoucherSaved(
                voucher_id=voucher.pk, code=voucher.code, version=voucher.version,
                created=voucher_id is None,
            ),
            actor=actor,
        )  # fmt: skip
    return voucher


def voucher_delete(*, voucher_id: int, actor=None) -> None:
    """Delete a voucher no order used; a used one is deactivated instead (its uses stay)."""
    with transaction.atomic():
        voucher = Voucher.objects.select_for_update().filter(pk=voucher_id).first()
        if voucher is None:
            raise VoucherNotFound(_("No such voucher."))
        if voucher.uses.exists():
            raise CatalogConflict(
                _("Orders used this voucher: deactivate it instead of deleting it.")
            )
        publish(
            events.VoucherDeleted(
                voucher_id=voucher.pk, code=voucher.code, version=voucher.version + 1
            ),
            actor=actor,
        )
        voucher.delete()
