"""Helpers of the feature flags' tests: a tenant's flag set as its administrator would set it,
and a flag asked as a request asks it."""

from __future__ import annotations

from collections.abc import Iterable

from django.test import RequestFactory
from django_tenants.utils import schema_context
from waffle.models import Flag

from apps.core.flags import flag_is_active
from apps.forum.flags import MENTIONS

# A flag's settings with nothing decided: off unless something below says otherwise.
UNDECIDED = {
    "everyone": None, "percent": None, "testing": False, "superusers": False, "staff": False,
    "authenticated": False, "languages": "", "rollout": False,
}  # fmt: skip


def set_flag(
    schema: str, name: str = MENTIONS, *, users: Iterable = (), groups: Iterable = (), **fields
) -> Flag:
    """Flag ``name`` of ``schema`` with ``fields`` (the rest undecided), ``users`` and ``groups``.

    Written through the model's ``save`` as the admin writes it; the cache is dropped as the
    commit would drop it (a test's transaction never commits)."""
    with schema_context(schema):
        flag = Flag.objects.filter(name=name).first() or Flag(name=name)
        for field, value in {**UNDECIDED, **fields}.items():
            setattr(flag, field, value)
        flag.save()
        flag.users.set(users)
        flag.groups.set(groups)
        flag.flush()
    return flag


def ask(schema: str, user, name: str = MENTIONS, **cookies) -> bool:
    """Whether flag ``name`` of ``schema`` is on for a request of ``user``."""
    request = RequestFactory().get("/")
    request.user = user
    request.COOKIES.update(cookies)
    with schema_context(schema):
        return flag_is_active(request, name)
