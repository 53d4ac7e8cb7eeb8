"""Feature flags for gradual rollout: django-waffle's flags, one set per tenant.

``waffle`` is a tenant app, so each tenant's flags live in its own schema and are set by
its administrators in its admin (``apps.core.admin``). A flag answers for a request: on for
everyone, off for everyone, or for some (superusers, staff, signed-in members, named users
or groups, languages, a percentage of visitors, kept in waffle's ``dwf_<flag>`` cookie).

A check costs no query once warm: waffle keeps each flag, its users' and its groups' ids in
the ``flags`` cache (Redis, keys prefixed with the tenant's schema by the cache's key
function) and deletes them when the flag changes, which every process sees at once. With
Redis away the checks read the database (``apps.core.cache.GuardedRedisCache``), never
failing the request. One exception: a flag that targets groups asks the database for the
member's groups when nothing else decided first.

Code asks through ``flag_is_active``, never through waffle's models: a flag nobody created
is off.
"""

from __future__ import annotations

from django.http import HttpRequest
from waffle import flag_is_active as _waffle_flag_is_active
from waffle import get_waffle_flag_model


def flag_is_active(request: HttpRequest, name: str) -> bool:
    """Whether flag ``name`` of the current tenant is on for ``request``'s visitor.

    ``request`` may be Django's or DRF's: the visitor is its ``user`` (an API key's owner),
    and a percentage draw is remembered in the response's cookie by waffle's middleware.
    """
    return bool(_waffle_flag_is_active(getattr(request, "_request", request), name))


def flag_on_for_everyone(name: str) -> bool:
    """Turn the current tenant's flag ``name`` on for everyone (creating it if missing);
    whether that changed anything. Through the model's ``save``, which drops its cached
    answers once the change commits."""
    flag, created = get_waffle_flag_model().objects.get_or_create(
        name=name, defaults={"everyone": True}
    )
    if created or flag.everyone is True:
        return created
    flag.everyone = True
    flag.save()
    return True
