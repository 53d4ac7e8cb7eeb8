"""How other modules read people: the name the public sees, never the login email."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.core.exceptions import ObjectDoesNotExist

from .models import Profile

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
