"""Who may call the API: staff users of the tenant, with the model permission of each operation."""

from __future__ import annotations

from rest_framework.permissions import DjangoModelPermissions


class StaffModelPermissions(DjangoModelPermissions):
    """Staff only, and Django's model permissions for every method, reads included.

    ``GET``/``HEAD`` need ``view_<model>``, ``POST`` ``add_<model>``, ``PUT``/``PATCH``
    ``change_<model>``, ``DELETE`` ``delete_<model>``. A view names the permission of
    an action that is not a plain create (``POST /nodes/{id}/publish/`` changes a
    node) in ``action_permissions``: ``{"publish": "change"}``.

    An anonymous request is refused with DRF's ``NotAuthenticated`` (403 with
    session authentication, whose scheme has no ``WWW-Authenticate`` challenge).
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
        action = getattr(view, "action", None)
        verb = getattr(view, "action_permissions", {}).get(action)
        if verb is None:
            return super().has_permission(request, view)
        meta = self._queryset(view).model._meta
        return user.has_perm(f"{meta.app_label}.{verb}_{meta.model_name}")
