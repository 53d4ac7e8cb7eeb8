"""Who may call the API: staff users of the tenant, with the model permission of each operation,
and with an API key only what its scopes allow too."""

from __future__ import annotations

from django.utils.translation import gettext
from rest_framework import exceptions
from rest_framework.permissions import SAFE_METHODS, DjangoModelPermissions

from .authentication import ApiKeyAuthentication

# The scope module of each app label; a key may do nothing on the others.
SCOPE_MODULES = {
    "content": "content",
    "blog": "content",
    "pages": "content",
    "commerce": "commerce",
    "webhooks": "webhooks",
    "events": "events",  # the event feed: events:read
    "forum": "forum",
}
# What a publishable key may read (GET/HEAD only): the catalogue, the content and the forum,
# of which it sees only what the public sees (``PublishedOnlyForPublishableKeys``; the forum's
# view sets read as the public). The media library is not among them: published content
# carries its images.
PUBLISHABLE_READS = frozenset(
    {
        "node", "post", "page", "category", "tag",
        "commerce-product", "commerce-collection", "commerce-category",
        "forum-category", "forum-topic", "forum-reply",
    }
)  # fmt: skip


def reads_as_public(request) -> bool:
    """Whether the request comes with a publishable key: it sees what the public sees."""
    return bool(getattr(getattr(request, "auth", None), "is_publishable", False))


class PublishedOnlyForPublishableKeys:
    """A view set whose rows a publishable key sees only when public: ``public_rows`` is the
    filter (``{"status": "published"}``). Lists and single rows alike go through
    ``filter_queryset``, so a draft's id is a 404 to such a key."""

    public_rows: dict = {}

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if reads_as_public(self.request):
            queryset = queryset.filter(**self.public_rows)
        return queryset


class MissingScope(exceptions.PermissionDenied):
    default_code = "scope_missing"


class StaffModelPermissions(DjangoModelPermissions):
    """Staff only, and Django's model permissions for every method, reads included.

    ``GET``/``HEAD`` need ``view_<model>``, ``POST`` ``add_<model>``, ``PUT``/``PATCH``
    ``change_<model>``, ``DELETE`` ``delete_<model>``. A view names the permission of
    an action that is not a plain create (``POST /nodes/{id}/publish/`` changes a
    node) in ``action_permissions``: ``{"publish": "change"}``.

    An anonymous request is refused with DRF's ``NotAuthenticated`` (401 with a
    ``WWW-Authenticate: Bearer`` challenge: the API key's scheme comes first).

    With an API key (``request.auth``) the operation needs both the owner's permission and
    the key's scope for the model's module (``SCOPE_MODULES``): ``<module>:read`` for
    ``GET``/``HEAD``, ``<module>:write`` for the rest. A publishable key has no scopes: it
    may read ``PUBLISHABLE_READS`` and nothing else. A refusal names the missing scope.
    """

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
    }
    message = "Staff users with the permission for this operation only."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_active and user.is_staff):
            return False
        if getattr(view, "_ignore_model_permissions", False):  # the router's API root
            return True
        if isinstance(request.successful_authenticator, ApiKeyAuthentication):
            self._check_scope(request.auth, request, view)
        action = getattr(view, "action", None)
        verb = getattr(view, "action_permissions", {}).get(action)
        if verb is None:
            return super().has_permission(request, view)
        meta = self._queryset(view).model._meta
        return user.has_perm(f"{meta.app_label}.{verb}_{meta.model_name}")

    def _check_scope(self, key, request, view) -> None:
        """Raise ``MissingScope`` unless ``key`` allows this request (before the owner's
        permissions are checked)."""
        safe = request.method in SAFE_METHODS
        if key.is_publishable:
            if safe and getattr(view, "basename", None) in PUBLISHABLE_READS:
                return
            raise MissingScope(
                gettext(
                    "A publishable key may only read the catalogue, the content and the "
                    "forum; "
                    "this needs a secret key with the scope %(scope)s."
                )
                % {"scope": self._scope(view, safe) or gettext("(none: keys cannot do this)")}
            )
        scope = self._scope(view, safe)
        if scope is None:
            raise MissingScope(gettext("API keys cannot do this; sign in as staff."))
        if scope not in key.scopes:
            raise MissingScope(gettext("The API key lacks the scope %(scope)s.") % {"scope": scope})

    def _scope(self, view, safe: bool) -> str | None:
        """The scope this request on ``view`` needs, or None when no scope allows it."""
        module = SCOPE_MODULES.get(self._queryset(view).model._meta.app_label)
        if module is None:
            return None
        return f"{module}:{'read' if safe else 'write'}"
