"""Errors of tenant resolution and provisioning, mapped to HTTP by apps.core.problems."""

from django.utils.translation import gettext_lazy

from apps.core.errors import Conflict, NotFound, PermissionDenied, PlatformError, ValidationFailed


class TenantIdentifierInvalid(PlatformError):
    status = 400
    code = "tenant_identifier_invalid"
    title = gettext_lazy("Invalid tenant identifier")


class TenantNotFound(NotFound):
    code = "tenant_not_found"
    title = gettext_lazy("Unknown tenant")


class TenantSuspended(PermissionDenied):
    code = "tenant_suspended"
    title = gettext_lazy("Tenant suspended")


class TenantConflict(Conflict):
    code = "tenant_conflict"
    title = gettext_lazy("Tenant already exists")


class TenantInvalid(ValidationFailed):
    code = "tenant_invalid"
    title = gettext_lazy("Invalid tenant data")


class TenantRequired(RuntimeError):
    """A task or job that touches tenant data was started without a tenant."""
