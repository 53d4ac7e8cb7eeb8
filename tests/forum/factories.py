"""Forum test data: categories, members and moderators, written through the forum's services."""

from __future__ import annotations

import itertools

from django.contrib.auth.models import Group

from apps.forum import services
from apps.people import services as people
from tests.factories import StaffFactory, UserFactory

_numbers = itertools.count(1)


def category(**values):
    number = next(_numbers)
    values.setdefault("name", f"Category {number}")
    return services.category_create(**values)


def member(name: str | None = None):
    """A customer with a public display name (their handle is made from it on first post)."""
    number = next(_numbers)
    user = UserFactory(email=f"member{number}@example.test")
    people.profile_update(user_id=user.pk, display_name=name or f"Member {number}", actor=user)
    return user


def moderator(name: str | None = None):
    number = next(_numbers)
    user = StaffFactory(email=f"moderator{number}@example.test")
    user.groups.add(Group.objects.get(name="Moderator"))
    people.profile_update(user_id=user.pk, display_name=name or f"Moderator {number}", actor=user)
    return type(user).objects.get(pk=user.pk)  # fresh permission cache
