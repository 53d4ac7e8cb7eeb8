from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy
from django_tenants.models import DomainMixin, TenantMixin


class TenantStatus(models.TextChoices):
    ACTIVE = "active", gettext_lazy("Active")
    SUSPENDED = "suspended", gettext_lazy("Suspended")


class Tenant(TenantMixin):
    """One shop, magazine or community, with its own PostgreSQL schema."""

    slug = models.CharField(max_length=63, unique=True)
    name = models.CharField(max_length=200)
    status = models.CharField(
        max_length=16, choices=TenantStatus.choices, default=TenantStatus.ACTIVE, db_index=True
    )
    default_locale = models.CharField(
        max_length=16, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    enabled_locales = models.JSONField(
        default=list,
        blank=True,
        help_text=gettext_lazy("Locales content may be written in; the default locale always is."),
    )
    version = models.PositiveIntegerField(
        default=1, help_text=gettext_lazy("Bumped by every change; events carry it.")
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Schemas are created by apps.tenancy.services.tenant_create, inside its
    # transaction, so that a failure leaves nothing behind.
    auto_create_schema = False
    auto_drop_schema = False

    class Meta:
        ordering = ["slug"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(slug__regex=r"^[a-z0-9][a-z0-9-]{0,62}$"),
                name="tenancy_tenant_slug_format",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.slug})"

    @property
    def is_active(self) -> bool:
        return self.status == TenantStatus.ACTIVE

    @property
    def locales(self) -> list[str]:
        """The default locale first, then the other enabled ones."""
        others = [locale for locale in self.enabled_locales or [] if locale != self.default_locale]
        return [self.default_locale, *others]


class Domain(DomainMixin):
    """A host name that serves a tenant (custom domains; subdomains need no row)."""

    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["domain"]

    def __str__(self) -> str:
        return self.domain
