"""Default groups of every tenant and the apps whose permissions each receives.

Modules that do not exist yet simply contribute no permissions; running
``tenant_groups_sync`` after a module is installed grants its permissions.
"""

DEFAULT_GROUPS: dict[str, tuple[str, ...]] = {
    "Editor": ("content", "blog", "pages", "index"),
    "Merchant": ("commerce",),
    "Moderator": ("forum",),
}
