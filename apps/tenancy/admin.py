"""The operators' admin on the public domain: tenants and domains.

It lives on its own ``AdminSite`` so that tenant admins (``admin.site``) never
list the platform's tables. Every change goes through the services, which
validate it and invalidate the resolver's caches. A refusal (another operator
won a race after the form validated) is shown on the form and nothing is saved
(``apps.core.admin.ServiceAdmin``).
"""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django.db.models import Prefetch
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, gettext_lazy, ngettext

from apps.core import modules
from apps.core.admin import ServiceAdmin
from apps.core.errors import PlatformError

from . import services
from .models import Domain, ModuleMode, Tenant, TenantStatus
from .selectors import site_hosts


class PlatformAdminSite(admin.AdminSite):
    site_header = gettext_lazy("Platform operations")
    site_title = gettext_lazy("Platform operations")
    index_title = gettext_lazy("Tenants and operators")


platform_admin_site = PlatformAdminSite(name="platform_admin")


class OperatorAdmin(UserAdmin):
    """Operators are deactivated, never deleted: tenant apps' tables that point at users
    (media uploaders, flags, ...) do not exist in the public schema, so a cascade would fail."""

    def has_delete_permission(self, request, obj=None):
        return False


platform_admin_site.register(User, OperatorAdmin)
platform_admin_site.register(Group, GroupAdmin)


class TenantCreateForm(forms.ModelForm):
    admin_email = forms.EmailField(help_text=gettext_lazy("The tenant's first administrator."))
    domain = forms.CharField(
        required=False, help_text=gettext_lazy("Optional custom domain, e.g. shop.example.com")
    )

    class Meta:
        model = Tenant
        fields = ["slug", "name", "default_locale"]

    def _post_clean(self):
        # The service validates (and later saves); the model's own full_clean is not the authority.
        if self.errors:
            return
        try:
            services.tenant_validate_new(
                slug=self.cleaned_data["slug"],
                name=self.cleaned_data["name"],
                admin_email=self.cleaned_data["admin_email"],
                domain=self.cleaned_data.get("domain") or None,
                default_locale=self.cleaned_data["default_locale"],
            )
        except PlatformError as error:
            self.add_error(None, error.detail)


class TenantChangeForm(forms.ModelForm):
    """The locales as checkboxes (the model keeps them as a JSON list)."""

    enabled_locales = forms.MultipleChoiceField(
        choices=settings.LANGUAGES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=gettext_lazy("enabled locales"),
        help_text=gettext_lazy("Locales content may be written in; the default locale always is."),
    )

    modules_on = forms.MultipleChoiceField(
        choices=(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=gettext_lazy("modules"),
        help_text=gettext_lazy(
            "A module that is off answers 404, leaves the menus and the admin, and its "
            "handlers skip this tenant's events."
        ),
    )

    class Meta:
        model = Tenant
        fields = ["name", "status", "default_locale", "enabled_locales"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        switches = modules.switches()
        self.fields["modules_on"].choices = sorted(switches.items())
        if self.instance.pk:
            self.fields["modules_on"].initial = [
                name for name in switches if self.instance.module_on(name)
            ]


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0
    readonly_fields = ["domain", "is_primary", "created_at"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


def tenant_hosts(tenant: Tenant) -> list[str]:
    """Where the tenant's site lives (its domains are prefetched)."""
    return site_hosts(tenant.slug, [domain.domain for domain in tenant.domains.all()])


@admin.register(Tenant, site=platform_admin_site)
class TenantAdmin(ServiceAdmin):
    list_display = [
        "slug",
        "name",
        "addresses",
        "status",
        "schema_name",
        "default_locale",
        "created_at",
    ]
    list_filter = ["status", "default_locale"]
    search_fields = ["slug", "name", "domains__domain"]
    readonly_fields = ["slug", "addresses", "schema_name", "created_at", "updated_at"]
    inlines = [DomainInline]
    actions = ["suspend", "activate"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = TenantCreateForm if obj is None else TenantChangeForm
        return super().get_form(request, obj, change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj else []

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["slug", "name", "default_locale", "admin_email", "domain"]
        return [
            "slug",
            "addresses",
            "schema_name",
            "name",
            "status",
            "default_locale",
            "enabled_locales",
            "api_rate_per_client",
            "api_rate_per_tenant",
            "require_if_match",
            "modules_on",
            "created_at",
            "updated_at",
        ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .prefetch_related(Prefetch("domains", queryset=Domain.objects.order_by("domain")))
        )

    @admin.display(description=gettext_lazy("addresses"))
    def addresses(self, obj: Tenant):
        """Links to the tenant's site (scheme-relative: the operator's own scheme)."""
        return format_html_join(
            mark_safe("<br>"),
            '<a href="//{}/" target="_blank" rel="noopener">{}</a>',
            ((host, host) for host in tenant_hosts(obj)),
        )

    def get_inlines(self, request, obj):
        return self.inlines if obj else []

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            tenant = services.tenant_update(
                slug=obj.slug,
                name=data["name"],
                default_locale=data["default_locale"],
                enabled_locales=data.get("enabled_locales") or [],
                api_rate_per_client=data.get("api_rate_per_client"),
                api_rate_per_tenant=data.get("api_rate_per_tenant"),
                require_if_match=data.get("require_if_match", False),
            )
            services.tenant_set_status(slug=obj.slug, status=data["status"])
            on = set(data.get("modules_on") or [])
            services.tenant_modules_switch(
                slug=obj.slug, on=sorted(on), off=sorted(set(modules.switches()) - on)
            )
        else:
            provisioned = services.tenant_create(
                slug=data["slug"],
                name=data["name"],
                default_locale=data["default_locale"],
                admin_email=data["admin_email"],
                domain=data.get("domain") or None,
            )
            tenant = provisioned.tenant
            messages.success(
                request,
                gettext(
                    "Tenant %(slug)s created in %(seconds).1f s. Admin %(email)s sets a "
                    "password once at %(url)s"
                )
                % {
                    "slug": tenant.slug,
                    "seconds": provisioned.seconds,
                    "email": provisioned.admin_email,
                    "url": provisioned.admin_setup_url,
                },
            )
        obj.pk = tenant.pk

    def has_delete_permission(self, request, obj=None):
        # Dropping a schema is an operation for the command line, with a backup first.
        return False

    @admin.action(description=gettext_lazy("Suspend selected tenants"))
    def suspend(self, request, queryset):
        for tenant in queryset:
            services.tenant_set_status(slug=tenant.slug, status=TenantStatus.SUSPENDED)
        count = queryset.count()
        self.message_user(
            request,
            ngettext("Suspended %(count)d tenant.", "Suspended %(count)d tenants.", count)
            % {"count": count},
        )

    @admin.action(description=gettext_lazy("Activate selected tenants"))
    def activate(self, request, queryset):
        for tenant in queryset:
            services.tenant_set_status(slug=tenant.slug, status=TenantStatus.ACTIVE)
        count = queryset.count()
        self.message_user(
            request,
            ngettext("Activated %(count)d tenant.", "Activated %(count)d tenants.", count)
            % {"count": count},
        )


class DomainForm(forms.ModelForm):
    class Meta:
        model = Domain
        fields = ["domain", "tenant", "is_primary"]

    def _post_clean(self):
        if self.errors:
            return
        try:
            services.clean_custom_domain(self.cleaned_data["domain"])
        except PlatformError as error:
            self.add_error("domain", error.detail)


@admin.register(Domain, site=platform_admin_site)
class DomainAdmin(ServiceAdmin):
    form = DomainForm
    list_display = ["domain", "tenant", "is_primary", "created_at"]
    list_filter = ["is_primary"]
    search_fields = ["domain", "tenant__slug"]
    list_select_related = ["tenant"]

    def has_change_permission(self, request, obj=None):
        return obj is None

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        created = services.domain_add(
            slug=data["tenant"].slug, domain=data["domain"], is_primary=data["is_primary"]
        )
        obj.pk = created.pk

    def rejection(self, error: PlatformError):
        rejected = super().rejection(error)
        if "__all__" in rejected.errors:  # what domain_add refuses is the domain
            rejected.errors["domain"] = rejected.errors.pop("__all__")
        return rejected

    def delete_model(self, request, obj):
        services.domain_remove(domain=obj.domain)

    def delete_queryset(self, request, queryset):
        for domain in list(queryset):
            services.domain_remove(domain=domain.domain)


class ModuleModeForm(forms.ModelForm):
    module = forms.ChoiceField(choices=(), label=gettext_lazy("module"))

    class Meta:
        model = ModuleMode
        fields = ["module", "mode", "reason"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["module"].choices = sorted((m.name, str(m.label)) for m in modules.modules())


@admin.register(ModuleMode, site=platform_admin_site)
class ModuleModeAdmin(ServiceAdmin):
    """The operator's modes of the modules, on every tenant (also ``manage.py module_mode``)."""

    form = ModuleModeForm
    list_display = ["module", "mode", "reason", "changed_by", "updated_at"]
    readonly_fields = ["changed_by", "updated_at"]

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "module"] if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        saved = services.module_mode_set(
            module=obj.module if change else data["module"],
            mode=data["mode"],
            reason=data.get("reason") or "",
            changed_by=request.user.get_username(),
        )
        obj.pk = saved.pk

    def has_delete_permission(self, request, obj=None):
        return False  # back to normal: set the mode "normal"
