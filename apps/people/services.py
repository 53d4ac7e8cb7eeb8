"""Writes of the people module: one service per operation, each publishing its event."""

from __future__ import annotations

import unicodedata

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext

from apps.events.publisher import publish

from . import events
from .errors import PersonNotFound, ProfileInvalid
from .models import DISPLAY_NAME_MAX, Profile
from .selectors import display_name as public_name

# django.contrib.auth's limits for the first and last name.
NAME_MAX = 150


def clean_name(value: str | None, *, field: str, max_length: int) -> str:
    """``value`` trimmed; control characters (NUL among them) and overlong names refused."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ProfileInvalid({field: gettext("must be text")})
    if any(unicodedata.category(char) == "Cc" for char in value):
        raise ProfileInvalid({field: gettext("must not contain control characters")})
    cleaned = " ".join(value.split())
    if len(cleaned) > max_length:
        raise ProfileInvalid(
            {field: gettext("must be at most %(count)d characters") % {"count": max_length}}
        )
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
