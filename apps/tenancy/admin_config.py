"""The tenants' admin site in place of Django's default one (no model imports here: Django
loads this module while it builds the app registry)."""

from django.contrib.admin.apps import AdminConfig


class TenantAdminConfig(AdminConfig):
    default_site = "apps.tenancy.admin_site.TenantAdminSite"
