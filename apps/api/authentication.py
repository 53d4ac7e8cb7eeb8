"""API keys as DRF authentication: ``Authorization: Bearer sk_live_…`` / ``pk_live_…``.

The key is looked up in the current tenant's schema by the SHA-256 of the whole key (one
indexed query per request, no cache: a revoked key is refused from the next request on, in
every process). A key that is unknown, revoked, expired, another tenant's (not in this
schema) or whose owner is no longer an active staff user gets the same 401, so an answer
reveals nothing about a key. The request's user is the key's owner and ``request.auth`` the
key; ``permissions.StaffModelPermissions`` narrows the owner's rights to the key's scopes.
The views pass the owner to the services as the actor; the events they publish record the key
(``apps.core.context.Actor.resolve``).

Key requests need no CSRF token: DRF enforces CSRF in its session authentication only, and a
bearer key is not sent by a browser on its own.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from apps.core import context
from apps.people import selectors as people
from apps.people import services as people_services

SCHEME = b"bearer"


class InvalidApiKey(exceptions.AuthenticationFailed):
    default_code = "invalid_api_key"
    default_detail = gettext_lazy("The API key is not valid.")


class ApiKeyAuthentication(BaseAuthentication):
    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != SCHEME:
            return None  # not ours: the session's (or anonymous)
        if len(parts) != 2:
            raise InvalidApiKey()
        try:
            secret = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise InvalidApiKey() from None
        key = people.api_key_for(secret)
        if key is None:
            raise InvalidApiKey()
        owner = key.owner
        if not (owner.is_active and owner.is_staff):
            raise InvalidApiKey()
        people_services.api_key_touch(key)
        context.act_with_key(key)  # the request's events name the key, not only its owner
        return owner, key

    def authenticate_header(self, request) -> str:
        return "Bearer"
