"""Default groups of every tenant and the permissions each receives, per app label.

A group's grant on an app is either ``ALL`` (every permission of the app, its
custom ones included) or a tuple of Django's default actions (``"view"``,
``"add"``, ``"change"``, ``"delete"``). Modules that do not exist yet simply
contribute no permissions; running ``tenant_groups_sync`` after a module is
installed grants its permissions.

"Settings" (``SETTINGS_APPS``: users, groups and permissions, feature flags and
switches) belong to the tenant's administrators (superusers) only: no default
group receives any permission on them.
"""

from __future__ import annotations

from django.db.models import Q

ALL = "all"
VIEW = ("view",)

Grants = dict[str, str | tuple[str, ...]]

SETTINGS_APPS: tuple[str, ...] = ("auth", "waffle")

DEFAULT_GROUPS: dict[str, Grants] = {
    # Writes content (and what the wrappers build on it) and its read side.
    "Editor": {"content": ALL, "blog": ALL, "pages": ALL, "index": ALL},
    "Merchant": {"commerce": ALL},
    # Moderates the community; reads the content it is about, changes none of it.
    "Moderator": {"forum": ALL, "content": VIEW, "blog": VIEW, "pages": VIEW},
}


def grants_query(grants: Grants) -> Q:
    """A ``Permission`` filter selecting what ``grants`` give; matches nothing when empty."""
    query = Q(pk__in=[])
    for app_label, actions in grants.items():
        if app_label in SETTINGS_APPS:
            raise ValueError(f"default groups never get permissions on settings ({app_label})")
        of_app = Q(content_type__app_label=app_label)
        if actions != ALL:
            codenames = Q(pk__in=[])
            for action in actions:
                codenames |= Q(codename__startswith=f"{action}_")
            of_app &= codenames
        query |= of_app
    return query
