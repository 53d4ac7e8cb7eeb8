"""Argument types shared by the event backbone's commands.

They raise ``ArgumentTypeError`` so that argparse names the option in its
message, which ``call_command`` turns into a ``CommandError``.
"""

from __future__ import annotations

import re
from argparse import ArgumentTypeError
from datetime import datetime, timedelta

from django.utils import timezone

from apps.tenancy.identifiers import InvalidIdentifier, sanitize_slug
from apps.tenancy.models import Tenant
from apps.tenancy.selectors import tenant_get

RELATIVE_RE = re.compile(r"(\d{1,9})\s*([smhdw])")
UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(raw: str, *, now: datetime | None = None) -> datetime:
    """A point in the past: ISO 8601 (naive means the current time zone) or ``<n><s|m|h|d|w>`` ago."""
    now = now or timezone.now()
    text = raw.strip()
    relative = RELATIVE_RE.fullmatch(text.lower())
    try:
        if relative:
            amount, unit = relative.groups()
            moment = now - timedelta(**{UNITS[unit]: int(amount)})
        else:
            moment = datetime.fromisoformat(text)
            if timezone.is_naive(moment):
                moment = timezone.make_aware(moment)
    except (ValueError, OverflowError):
        raise ArgumentTypeError(
            f"'{raw}' is neither an ISO 8601 time (2025-01-31T08:00Z) "
            "nor a relative one (90m, 2h, 3d, 1w)"
        ) from None
    if moment > now:
        raise ArgumentTypeError(f"'{raw}' is in the future")
    return moment


def positive_int(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ArgumentTypeError(f"'{raw}' is not a positive whole number")
    return value


def positive_float(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not value > 0 or value == float("inf"):
        raise ArgumentTypeError(f"'{raw}' is not a positive number")
    return value


def tenant(raw: str) -> Tenant:
    """The tenant called ``raw`` (a slug)."""
    try:
        slug = sanitize_slug(raw)
    except InvalidIdentifier as error:
        raise ArgumentTypeError(f"'{raw}': {error}") from None
    found = tenant_get(slug=slug)
    if found is None:
        raise ArgumentTypeError(f"unknown tenant '{slug}'")
    return found
