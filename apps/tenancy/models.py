from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy
from django_tenants.models import DomainMixin, TenantMixin
from django_tenants.postgresql_backend.base import _check_schema_name

from apps.core.modules import Mode


class TenantStatus(models.TextChoices):
    ACTIVE = "active", gettext_lazy("Active")
    SUSPENDED = "suspended", gettext_lazy("Suspended")


class Tenant(TenantMixin):
    """One shop, magazine or community, with its own PostgreSQL schema."""

    # django-tenants' own fields, declared again only to name them in the interface.
    schema_name = models.CharField(
        max_length=63,
        unique=True,
        db_index=True,
        validators=[_check_schema_name],
        verbose_name=gettext_lazy("schema name"),
    )
    slug = models.CharField(max_length=63, unique=True, verbose_name=gettext_lazy("slug"))
    name = models.CharField(max_length=200, verbose_name=gettext_lazy("name"))
    status = models.CharField(
        max_length=16,
        choices=TenantStatus.choices,
        default=TenantStatus.ACTIVE,
        db_index=True,
        verbose_name=gettext_lazy("status"),
    )
    default_locale = models.CharField(
        max_length=16,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
        verbose_name=gettext_lazy("default locale"),
    )
    enabled_locales = models.JSONField(
        default=list,
        blank=True,
        help_text=gettext_lazy("Locales content may be written in; the default locale always is."),
        verbose_name=gettext_lazy("enabled locales"),
    )
    # API rate limits of this tenant (apps.api.throttling); empty: the platform's settings.
    api_rate_per_client = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text=gettext_lazy(
            "API requests per minute per API key (or staff user, or address); "
            "empty for the platform's default, 0 for no limit."
        ),
        verbose_name=gettext_lazy("API requests per minute per key"),
    )
    api_rate_per_tenant = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text=gettext_lazy(
            "API requests per minute to this tenant, all clients together; "
            "empty for the platform's default, 0 for no limit."
        ),
        verbose_name=gettext_lazy("API requests per minute for the tenant"),
    )
    require_if_match = models.BooleanField(
        default=False,
        help_text=gettext_lazy(
            "API writes to versioned resources must send If-Match (428 without it)."
        ),
        verbose_name=gettext_lazy("require If-Match"),
    )
    # Modules this tenant turned off (apps.core.modules switches): new modules start on.
    disabled_modules = models.JSONField(
        default=list,
        blank=True,
        help_text=gettext_lazy("Modules turned off: they answer 404 and leave the menus."),
        verbose_name=gettext_lazy("modules turned off"),
    )
    version = models.PositiveIntegerField(
        default=1,
        help_text=gettext_lazy("Bumped by every change; events carry it."),
        verbose_name=gettext_lazy("version"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=gettext_lazy("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=gettext_lazy("updated at"))

    # Schemas are created by apps.tenancy.services.tenant_create, inside its
    # transaction, so that a failure leaves nothing behind.
    auto_create_schema = False
    auto_drop_schema = False

    class Meta:
        ordering = ["slug"]
        verbose_name = gettext_lazy("tenant")
        verbose_name_plural = gettext_lazy("tenants")
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

    def module_on(self, switch: str) -> bool:
        """Whether the module switch ``switch`` is on for this tenant ("" is always on)."""
        return not switch or switch not in (self.disabled_modules or [])

    @property
    def locales(self) -> list[str]:
        """The default locale first, then the other enabled ones."""
        others = [locale for locale in self.enabled_locales or [] if locale != self.default_locale]
        return [self.default_locale, *others]


class Domain(DomainMixin):
    """A host name that serves a tenant (custom domains; subdomains need no row)."""

    # django-tenants' own fields, declared again only to name them in the interface.
    domain = models.CharField(
        max_length=253, unique=True, db_index=True, verbose_name=gettext_lazy("domain")
    )
    tenant = models.ForeignKey(
        settings.TENANT_MODEL,
        db_index=True,
        related_name="domains",
        on_delete=models.CASCADE,
        verbose_name=gettext_lazy("tenant"),
    )
    is_primary = models.BooleanField(
        default=True, db_index=True, verbose_name=gettext_lazy("is primary")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=gettext_lazy("created at"))

    class Meta:
        ordering = ["domain"]
        verbose_name = gettext_lazy("domain")
        verbose_name_plural = gettext_lazy("domains")

    def __str__(self) -> str:
        return self.domain


class ModuleMode(models.Model):
    """The operator's mode for one module on every tenant (``manage.py module_mode``)."""

    module = models.CharField(max_length=40, unique=True, verbose_name=gettext_lazy("module"))
    mode = models.CharField(
        max_length=16,
        choices=Mode.choices,
        default=Mode.NORMAL,
        verbose_name=gettext_lazy("mode"),
    )
    reason = models.CharField(max_length=300, blank=True, verbose_name=gettext_lazy("reason"))
    changed_by = models.CharField(
        max_length=150, blank=True, verbose_name=gettext_lazy("changed by")
    )
    updated_at = models.DateTimeField(auto_now=True, verbose_name=gettext_lazy("updated at"))

    class Meta:
        ordering = ["module"]
        verbose_name = gettext_lazy("module mode")
        verbose_name_plural = gettext_lazy("module modes")

    def __str__(self) -> str:
        return f"{self.module}: {self.mode}"


class DueWork(models.Model):
    """When a tenant next has work for one beat job (``kind``, the job's name).

    The jobs read this table (one query in ``public``) and visit only the tenants whose time
    has come, instead of every schema every minute. Writers mark work in the transaction that
    makes it (``apps.tenancy.services.work_due``); each visit moves the row to the schema's
    next due time, or deletes it. A row may be early (a visit that finds nothing), never late.
    """

    tenant = models.ForeignKey(
        Tenant,
        on_delete=models.CASCADE,
        related_name="due_work",
        verbose_name=gettext_lazy("tenant"),
    )
    kind = models.CharField(max_length=64, verbose_name=gettext_lazy("kind"))
    due_at = models.DateTimeField(verbose_name=gettext_lazy("due at"))

    class Meta:
        verbose_name = gettext_lazy("due work")
        verbose_name_plural = gettext_lazy("due work")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "kind"], name="tenancy_duework_tenant_kind"),
        ]
        indexes = [models.Index(fields=["kind", "due_at"], name="tenancy_duework_kind_due")]

    def __str__(self) -> str:
        return f"{self.kind} of {self.tenant_id} at {self.due_at:%Y-%m-%d %H:%M:%S}"


class SpareSchema(models.Model):
    """A copy of the template schema made ahead of time, waiting to become a tenant's.

    ``tenant_create`` renames one (``apps.tenancy.spares``) instead of copying the
    template while the operator waits. Its name starts with "_", like the template's,
    so no tenant's slug can take it; it has no ``Tenant`` row, so nothing that walks
    tenants sees it. ``template_state`` is the digest of the tenant migrations the
    copy was made with: a spare of another state is never used, only dropped.
    """

    name = models.CharField(max_length=63, unique=True, verbose_name=gettext_lazy("name"))
    template_state = models.CharField(max_length=64, verbose_name=gettext_lazy("template state"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=gettext_lazy("created at"))

    class Meta:
        ordering = ["pk"]
        verbose_name = gettext_lazy("spare schema")
        verbose_name_plural = gettext_lazy("spare schemas")

    def __str__(self) -> str:
        return self.name
