"""Errors of tenant resolution and provisioning, mapped to HTTP by apps.core.problems."""

from apps.core.errors import Conflict, NotFound, PermissionDenied, PlatformError, ValidationFailed


class TenantIdentifierInvalid(PlatformError):
    status = 400
    code = "tenant_identifier_invalid"
    title = "Invalid tenant identifier"


class TenantNotFound(NotFound):
    code = "tenant_not_found"
    title = "Unknown tenant"


class TenantSuspended(PermissionDenied):
    code = "tenant_suspended"
    title = "Tenant suspended"


class TenantConflict(Conflict):
    code = "tenant_conflict"
    title = "Tenant already exists"


class TenantInvalid(ValidationFailed):
    code = "tenant_invalid"
    title = "Invalid tenant data"


class TenantRequired(RuntimeError):
    """A task or job that touches tenant data was started without a tenant."""
