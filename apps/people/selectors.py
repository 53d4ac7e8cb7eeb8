"""How other modules read people: the name the public sees, never the login email."""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

import pycountry
from babel import Locale, UnknownLocaleError
from django.contrib.auth import get_user_model
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Q, QuerySet
from django.utils import timezone

from .models import API_KEY_MAX_LENGTH, API_KEY_PREFIXES, Address, ApiKey, Profile

# What a query that loads users should ``select_related`` so that ``display_name`` costs nothing.
PROFILE = "profile"


def display_name(user) -> str:
    """The name a person shows the public: their display name, else their full name, else "".

    Never the username (a login email). Load users with ``select_related("profile")``
    (``PROFILE``), or each call costs a query; callers pick the neutral label for "".
    """
    if user is None:
        return ""
    try:
        given = user.profile.display_name
    except ObjectDoesNotExist:
        given = ""
    return given or user.get_full_name().strip()


def display_names(user_ids: Iterable[int]) -> dict[int, str]:
    """``display_name`` of each of ``user_ids`` that exists, in one query."""
    ids = {user_id for user_id in user_ids if user_id is not None}
    if not ids:
        return {}
    users = get_user_model().objects.filter(pk__in=ids).select_related(PROFILE)
    return {user.pk: display_name(user) for user in users}


def profile_of(user_id: int) -> Profile | None:
    return Profile.objects.filter(user_id=user_id).first()


# -- customers -------------------------------------------------------------------------------


def addresses(user_id: int) -> QuerySet[Address]:
    """A customer's address book: the default first, then in the order they were added."""
    return Address.objects.filter(user_id=user_id).order_by("-is_default", "created_at", "pk")


def address_of(user_id: int, address_id: int) -> Address | None:
    """One of the customer's addresses (None for another's or a missing one)."""
    return addresses(user_id).filter(pk=address_id).first()


def _sort_key(name: str) -> str:
    """Names sorted as a reader expects: accents and case aside ("Österreich" among the O)."""
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().casefold()


@lru_cache(maxsize=32)
def countries(locale: str) -> tuple[tuple[str, str], ...]:
    """Every ISO 3166-1 country as (alpha-2 code, its name in ``locale``), sorted by that name
    for a select. Names from the CLDR (Babel); English (pycountry's) where it has none."""
    try:
        territories = Locale.parse(locale.replace("-", "_")).territories
    except (UnknownLocaleError, ValueError):
        territories = {}
    found = [
        (country.alpha_2, territories.get(country.alpha_2) or country.name)
        for country in pycountry.countries
    ]
    return tuple(sorted(found, key=lambda pair: (_sort_key(pair[1]), pair[0])))


# -- api keys --------------------------------------------------------------------------------


def api_key_digest(secret: str) -> str:
    """How a key is stored and looked up: the SHA-256 of the whole key, in hex."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def api_key_for(secret: str) -> ApiKey | None:
    """The active key (not revoked, not expired) whose secret is ``secret``, with its owner;
    None for any other string. One indexed query, no cache: a revocation counts at once."""
    if not isinstance(secret, str) or not secret.startswith(API_KEY_PREFIXES):
        return None
    if len(secret) > API_KEY_MAX_LENGTH:
        return None
    now = timezone.now()
    return (
        ApiKey.objects.select_related("owner")
        .filter(digest=api_key_digest(secret), revoked_at__isnull=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .first()
    )


def api_keys() -> QuerySet[ApiKey]:
    """Every key of the tenant, the newest first, with its owner."""
    return ApiKey.objects.select_related("owner").order_by("-created_at", "-pk")


def administrator_emails() -> list[str]:
    """The email addresses of the tenant's administrators (active staff superusers), for
    messages about the tenant's own set-up (a webhook endpoint disabled, ...)."""
    users = get_user_model().objects.filter(is_active=True, is_staff=True, is_superuser=True)
    return list(users.exclude(email="").order_by("pk").values_list("email", flat=True))
