"""Every write to tenants and domains. Each one invalidates the resolver's caches on commit."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_tenants.utils import get_public_schema_name, schema_context, schema_exists

from apps.core import modules
from apps.core.breakers import BROKER, guarded
from apps.events.publisher import publish

from . import events, spares, template
from .errors import TenantConflict, TenantInvalid, TenantNotFound, TenantRequired
from .identifiers import InvalidIdentifier, sanitize_host, sanitize_slug, schema_name_for
from .models import Domain, DueWork, ModuleMode, Tenant, TenantStatus
from .resolver import MODULE_MODES_KEY, host_key, schema_key, slug_key, tenant_cache
from .roles import DEFAULT_GROUPS, grants_query
from .selectors import site_url

logger = logging.getLogger(__name__)


# The ways a tenant's schema is built: a spare copy of the template renamed, the template
# copied, or every migration run.
BUILD_PATHS = ("spare", "clone", "migrate")


@dataclass(frozen=True)
class ProvisionedTenant:
    tenant: Tenant
    admin_email: str
    # The password given, or None: then the admin sets one at ``admin_setup_url``.
    admin_password: str | None
    seconds: float
    # How the schema was built: "spare", "clone" or "migrate" (BUILD_PATHS).
    path: str
    # A one-time link on the tenant's site where the admin sets a password (None when one
    # was given). It works once, until the password changes, for PASSWORD_RESET_TIMEOUT.
    admin_setup_url: str | None = None


def _invalidate_on_commit(tenant: Tenant, extra_hosts: tuple[str, ...] = ()) -> None:
    hosts = set(Domain.objects.filter(tenant=tenant).values_list("domain", flat=True)) | set(
        extra_hosts
    )
    keys = [slug_key(tenant.slug), schema_key(tenant.schema_name)]
    keys += [host_key(host) for host in sorted(hosts)]
    transaction.on_commit(lambda: tenant_cache.invalidate(keys))


def clean_custom_domain(raw: str) -> str:
    """A custom domain, sanitized: an RFC 1123 name outside the platform's own hosts."""
    try:
        host = sanitize_host(raw)
    except InvalidIdentifier as exc:
        raise TenantInvalid(f"domain: {exc.reason}") from None
    if host.is_ip:
        raise TenantInvalid("domain: an IP address cannot be a tenant domain")
    base = settings.TENANT_BASE_DOMAIN
    if (
        host.name == base
        or host.name.endswith("." + base)
        or host.name in settings.TENANT_PUBLIC_HOSTS
    ):
        raise TenantInvalid(
            f"domain: '{host.name}' belongs to the platform; subdomains of {base} need no registration"
        )
    if "." not in host.name:
        raise TenantInvalid("domain: a custom domain needs at least two labels")
    return host.name


def _clean_slug(slug: str) -> str:
    try:
        return sanitize_slug(slug)
    except InvalidIdentifier as exc:
        raise TenantInvalid(f"slug: {exc.reason}") from None


def _clean_locale(locale: str) -> str:
    if locale not in dict(settings.LANGUAGES):
        raise TenantInvalid(
            f"default_locale: '{locale}' is not one of {sorted(dict(settings.LANGUAGES))}"
        )
    return locale


@dataclass(frozen=True)
class NewTenantSpec:
    slug: str
    schema_name: str
    name: str
    admin_email: str
    domain: str | None
    default_locale: str


def tenant_validate_new(
    *,
    slug: str,
    name: str,
    admin_email: str,
    domain: str | None = None,
    default_locale: str | None = None,
) -> NewTenantSpec:
    """Check a new tenant's data; raises ``TenantInvalid`` or ``TenantConflict``. No writes."""
    slug = _clean_slug(slug)
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise TenantInvalid("name: must be 1 to 200 characters")
    try:
        validate_email(admin_email)
    except ValidationError:
        raise TenantInvalid(f"admin_email: '{admin_email}' is not an email address") from None
    longest = get_user_model()._meta.get_field("username").max_length
    if len(admin_email) > longest:  # the email is the admin's username
        raise TenantInvalid(f"admin_email: at most {longest} characters")
    domain_name = clean_custom_domain(domain) if domain else None
    locale = _clean_locale(default_locale or settings.LANGUAGE_CODE)
    schema_name = schema_name_for(slug)
    if Tenant.objects.filter(slug=slug).exists() or schema_exists(schema_name):
        raise TenantConflict(f"slug: '{slug}' is taken")
    if domain_name and Domain.objects.filter(domain=domain_name).exists():
        raise TenantConflict(f"domain: '{domain_name}' is taken")
    return NewTenantSpec(slug, schema_name, name, admin_email, domain_name, locale)


def tenant_create(
    *,
    slug: str,
    name: str,
    admin_email: str,
    admin_password: str | None = None,
    domain: str | None = None,
    default_locale: str | None = None,
    verbosity: int = 0,
    via: str | None = None,
) -> ProvisionedTenant:
    """Create a tenant: its row, schema, tables, first admin and default groups.

    The schema is a spare copy of the template renamed when one is ready
    (``apps.tenancy.spares``), else a copy of the template schema made now when the
    template matches the code's migrations; otherwise every migration runs in it
    (slower; a warning says how to refresh the template). ``via`` ("spare", "clone"
    or "migrate") insists on one path, for benchmarks and checks: "spare" without a
    spare ready, or "spare"/"clone" with a template that is not current, raises
    ``TenantInvalid``. Everything happens in one transaction, DDL included
    (PostgreSQL DDL is transactional): a failure at any step leaves neither row nor
    schema, and a spare taken is a spare again.

    Without ``admin_password`` the first admin gets no usable password but a one-time
    link to set one (``admin_setup_url``): hashing one with the production hasher
    costs more than everything else here together.
    """
    started = time.perf_counter()
    if via not in (None, *BUILD_PATHS):
        raise TenantInvalid(f"via: must be one of {', '.join(BUILD_PATHS)} or empty")
    spec = tenant_validate_new(
        slug=slug, name=name, admin_email=admin_email, domain=domain, default_locale=default_locale
    )
    slug, schema_name, domain_name = spec.slug, spec.schema_name, spec.domain
    admin_password = admin_password or None  # an empty one is none, never a usable ""

    if connection.schema_name != "public":
        raise RuntimeError("tenants are created from the public schema")
    try:
        with transaction.atomic():
            tenant = Tenant.objects.create(
                slug=slug,
                name=spec.name,
                schema_name=schema_name,
                default_locale=spec.default_locale,
            )
            if domain_name:
                Domain.objects.create(tenant=tenant, domain=domain_name, is_primary=True)
            path = _build_schema(schema_name, verbosity=verbosity, via=via)
            with schema_context(schema_name):
                tenant_groups_sync()
                setup_url = _create_admin(tenant, email=admin_email, password=admin_password)
            publish(
                events.TenantCreated(
                    tenant_id=tenant.pk, slug=tenant.slug, name=tenant.name,
                    default_locale=tenant.default_locale, version=tenant.version,
                ),
                tenant=tenant,
            )  # fmt: skip
            _invalidate_on_commit(tenant)
            if path == "spare":
                transaction.on_commit(_send_refill)
    except IntegrityError as exc:
        raise TenantConflict(f"'{slug}' or its domain is taken") from exc
    finally:
        connection.set_schema_to_public()
    seconds = time.perf_counter() - started
    logger.info("tenant %s created by %s in %.2f s", slug, path, seconds)
    return ProvisionedTenant(
        tenant, spec.admin_email, admin_password, seconds, path, admin_setup_url=setup_url
    )


def _send_refill() -> None:
    """Ask a worker to copy a spare in place of the one just taken; if the broker is away,
    beat's next ``tenancy.refill_spares`` does."""
    from .tasks import refill_spares

    guarded(BROKER, refill_spares.apply_async, retry=False, fallback=None)


def _build_schema(schema_name: str, *, verbosity: int, via: str | None) -> str:
    """Create the tenant's schema with its tables, in the caller's transaction; returns the
    path taken (BUILD_PATHS)."""
    template.template_lock_shared()
    status = template.template_status()
    if via in ("spare", "clone") and status != "current":
        raise TenantInvalid(f"via: the template schema is {status}; run template_refresh")
    if status == "current" and via in (None, "spare"):
        if spares.pool_target() and spares.spare_take(schema_name):
            return "spare"
        if via == "spare":
            raise TenantInvalid("via: no spare schema is ready; run tenant_spares --refill")
    if status == "current" and via != "migrate":
        template.clone_template(schema_name)
        return "clone"
    if via is None:
        template.warn_template_unusable(status)
    connection.cursor().execute(f'CREATE SCHEMA "{schema_name}"')
    call_command(
        "migrate_schemas",
        tenant=True,
        schema_name=schema_name,
        interactive=False,
        verbosity=verbosity,
    )
    return "migrate"


def _create_admin(tenant: Tenant, *, email: str, password: str | None) -> str | None:
    """The first admin of the active (new) tenant; without ``password``, the link on the
    tenant's site where they set one (the storefront's password reset confirmation)."""
    user_model = get_user_model()
    user = user_model.objects.create_superuser(username=email, email=email, password=password)
    if password is not None:
        return None
    path = reverse(
        "account:password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
        urlconf=settings.ROOT_URLCONF,  # the tenants' URLs, also from the public admin
    )
    return site_url(path, tenant)


def tenant_groups_sync() -> dict[str, int]:
    """Create the default groups of the current tenant and grant their permissions."""
    granted = {}
    for group_name, grants in DEFAULT_GROUPS.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        permissions = Permission.objects.filter(grants_query(grants))
        group.permissions.set(permissions)
        granted[group_name] = len(permissions)
    return granted


def _locked_tenant(slug: str) -> Tenant:
    try:
        return Tenant.objects.select_for_update().get(slug=slug)
    except Tenant.DoesNotExist:
        raise TenantNotFound(f"no tenant '{slug}'") from None


def tenant_set_status(*, slug: str, status: str) -> Tenant:
    if status not in TenantStatus.values:
        raise TenantInvalid(f"status: must be one of {TenantStatus.values}")
    with transaction.atomic():
        tenant = _locked_tenant(slug)
        if tenant.status != status:
            previous = tenant.status
            tenant.status = status
            tenant.version += 1
            tenant.save(update_fields=["status", "version", "updated_at"])
            publish(
                events.TenantStatusChanged(
                    tenant_id=tenant.pk,
                    from_status=previous,
                    to_status=status,
                    version=tenant.version,
                ),
                tenant=tenant,
            )
            _invalidate_on_commit(tenant)
    return tenant


def tenant_suspend(*, slug: str) -> Tenant:
    return tenant_set_status(slug=slug, status=TenantStatus.SUSPENDED)


def tenant_activate(*, slug: str) -> Tenant:
    return tenant_set_status(slug=slug, status=TenantStatus.ACTIVE)


class _Keep:
    """The value of an argument not given, where None means something (no override)."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP = _Keep()
MAX_API_RATE = 1_000_000  # requests per minute; more is a typing error, not a limit


def _clean_api_rate(name: str, value: int | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_API_RATE:
        raise TenantInvalid(f"{name}: must be empty or a whole number from 0 to {MAX_API_RATE}")
    return value


def tenant_update(
    *,
    slug: str,
    name: str | None = None,
    default_locale: str | None = None,
    enabled_locales: list[str] | None = None,
    api_rate_per_client: int | _Keep | None = KEEP,
    api_rate_per_tenant: int | _Keep | None = KEEP,
    require_if_match: bool | None = None,
) -> Tenant:
    """Change what is given of a tenant. The API rate limits (requests per minute; None for
    the platform's settings, 0 for none) are left alone unless given, since None clears them."""
    with transaction.atomic():
        tenant = _locked_tenant(slug)
        if not isinstance(api_rate_per_client, _Keep):
            tenant.api_rate_per_client = _clean_api_rate("api_rate_per_client", api_rate_per_client)
        if not isinstance(api_rate_per_tenant, _Keep):
            tenant.api_rate_per_tenant = _clean_api_rate("api_rate_per_tenant", api_rate_per_tenant)
        if require_if_match is not None:
            tenant.require_if_match = bool(require_if_match)
        if name is not None:
            name = name.strip()
            if not name or len(name) > 200:
                raise TenantInvalid("name: must be 1 to 200 characters")
            tenant.name = name
        if default_locale is not None:
            tenant.default_locale = _clean_locale(default_locale)
        if enabled_locales is not None:
            tenant.enabled_locales = sorted({_clean_locale(locale) for locale in enabled_locales})
        tenant.version += 1
        tenant.save(
            update_fields=[
                "name", "default_locale", "enabled_locales", "api_rate_per_client",
                "api_rate_per_tenant", "require_if_match", "version", "updated_at",
            ]
        )  # fmt: skip
        publish(
            events.TenantRenamed(
                tenant_id=tenant.pk, name=tenant.name, default_locale=tenant.default_locale,
                version=tenant.version,
            ),
            tenant=tenant,
        )  # fmt: skip
        _invalidate_on_commit(tenant)
    return tenant


def _clean_switches(names: list[str] | tuple[str, ...]) -> set[str]:
    known = modules.switches()
    unknown = sorted(set(names) - set(known))
    if unknown:
        raise TenantInvalid(
            f"modules: unknown {', '.join(unknown)}; known are {', '.join(sorted(known))}"
        )
    return set(names)


def tenant_modules_switch(
    *, slug: str, on: list[str] | tuple[str, ...] = (), off: list[str] | tuple[str, ...] = ()
) -> Tenant:
    """Turn module switches of a tenant on and off (a module that is off answers 404, leaves
    the menus and the admin, and its handlers skip the tenant's events)."""
    turn_on, turn_off = _clean_switches(on), _clean_switches(off)
    if turn_on & turn_off:
        raise TenantInvalid(f"modules: both on and off: {', '.join(sorted(turn_on & turn_off))}")
    with transaction.atomic():
        tenant = _locked_tenant(slug)
        disabled = sorted((set(tenant.disabled_modules or []) - turn_on) | turn_off)
        if disabled != sorted(tenant.disabled_modules or []):
            tenant.disabled_modules = disabled
            tenant.version += 1
            tenant.save(update_fields=["disabled_modules", "version", "updated_at"])
            publish(
                events.TenantModulesChanged(
                    tenant_id=tenant.pk, disabled_modules=disabled, version=tenant.version
                ),
                tenant=tenant,
            )
            _invalidate_on_commit(tenant)
    return tenant


def module_mode_set(
    *, module: str, mode: str, reason: str = "", changed_by: str = ""
) -> ModuleMode:
    """Put ``module`` in ``mode`` on every tenant, now and in every process."""
    if modules.module(module) is None:
        known = ", ".join(sorted(m.name for m in modules.modules()))
        raise TenantInvalid(f"module: unknown '{module}'; known are {known}")
    if mode not in modules.Mode.values:
        raise TenantInvalid(f"mode: must be one of {', '.join(modules.Mode.values)}")
    if len(reason) > 300:
        raise TenantInvalid("reason: at most 300 characters")
    with transaction.atomic():
        row, _ = ModuleMode.objects.select_for_update().get_or_create(module=module)
        row.mode, row.reason, row.changed_by = mode, reason.strip(), changed_by[:150]
        row.save()
        transaction.on_commit(lambda: tenant_cache.invalidate([MODULE_MODES_KEY]))
    logger.warning("module %s set to %s by %s: %s", module, mode, changed_by or "?", reason)
    return row


def domain_add(*, slug: str, domain: str, is_primary: bool = False) -> Domain:
    name = clean_custom_domain(domain)
    try:
        with transaction.atomic():
            tenant = _locked_tenant(slug)
            if Domain.objects.filter(domain=name).exists():
                raise TenantConflict(f"domain: '{name}' is taken")
            created = Domain.objects.create(tenant=tenant, domain=name, is_primary=is_primary)
            _bump(tenant)
            publish(
                events.DomainAdded(tenant_id=tenant.pk, domain=name, version=tenant.version),
                tenant=tenant,
            )
            _invalidate_on_commit(tenant)
    except IntegrityError as exc:
        raise TenantConflict(f"domain: '{name}' is taken") from exc
    return created


def domain_remove(*, domain: str) -> None:
    with transaction.atomic():
        try:
            row = Domain.objects.select_related("tenant").select_for_update().get(domain=domain)
        except Domain.DoesNotExist:
            raise TenantNotFound(f"no domain '{domain}'") from None
        tenant = _locked_tenant(row.tenant.slug)
        _invalidate_on_commit(tenant, extra_hosts=(row.domain,))
        row.delete()
        _bump(tenant)
        publish(
            events.DomainRemoved(tenant_id=tenant.pk, domain=row.domain, version=tenant.version),
            tenant=tenant,
        )


def _bump(tenant: Tenant) -> None:
    tenant.version += 1
    tenant.save(update_fields=["version", "updated_at"])


# -- due work ----------------------------------------------------------------------------------

# The beat jobs that read the due-work index, declared by the modules that own them.
_DUE_WORK_KINDS: set[str] = set()


def due_work_kind(name: str) -> str:
    """Declare the beat job ``name`` as one that reads the due-work index; ``name`` back."""
    _DUE_WORK_KINDS.add(name)
    return name


def due_work_kinds() -> list[str]:
    """The declared jobs (their modules imported: a command loads every app's ``tasks``)."""
    return sorted(_DUE_WORK_KINDS)


def due_work_mark_now(*, tenants: list[Tenant]) -> int:
    """Every declared job due now for each of ``tenants`` (a restored schema's work is unknown
    to the index), in one statement; each job's next run sets the true time. How many marks
    there are now."""
    with connection.cursor() as cursor:
        cursor.execute(MARK_NOW_SQL, [due_work_kinds(), [tenant.pk for tenant in tenants]])
        return cursor.rowcount


def _public_table(model) -> str:
    quote = connection.ops.quote_name
    return f"{quote(get_public_schema_name())}.{quote(model._meta.db_table)}"


# One statement. When the tenant's row is already due at or before ``at`` (the common case on
# a hot path: a new reservation expires after the oldest one) nothing is written: the row is
# only held with FOR KEY SHARE, which writers do not contend on. That hold is what keeps the
# mark from being lost: a job settling the row locks it FOR UPDATE SKIP LOCKED before it
# reads the schema's next due time, so while this transaction runs the job leaves the row
# due for its next run, and a job that locked first makes this statement wait and see the
# row as the job left it (gone or later: marked again). Otherwise the row is inserted, or
# moved earlier (never later).
WORK_DUE_SQL = f"""
WITH target AS (
    SELECT id FROM {_public_table(Tenant)} WHERE schema_name = %(schema)s
), held AS (
    SELECT 1 FROM {_public_table(DueWork)} AS w
    WHERE w.tenant_id = (SELECT id FROM target) AND w.kind = %(kind)s AND w.due_at <= %(at)s
    FOR KEY SHARE
)
INSERT INTO {_public_table(DueWork)} AS w (tenant_id, kind, due_at)
SELECT id, %(kind)s, %(at)s FROM target WHERE NOT EXISTS (SELECT FROM held)
ON CONFLICT (tenant_id, kind) DO UPDATE SET due_at = LEAST(w.due_at, EXCLUDED.due_at)
"""  # noqa: S608 (constant table names)


MARK_NOW_SQL = f"""
INSERT INTO {_public_table(DueWork)} AS w (tenant_id, kind, due_at)
SELECT t.id, k.kind, now()
FROM {_public_table(Tenant)} AS t CROSS JOIN unnest(%s::varchar[]) AS k(kind)
WHERE t.id = ANY(%s)
ON CONFLICT (tenant_id, kind) DO UPDATE SET due_at = LEAST(w.due_at, EXCLUDED.due_at)
"""  # noqa: S608 (constant table names)


def work_due(*, kind: str, at: datetime, tenant: Tenant | None = None) -> None:
    """Note that ``tenant`` (the active one by default) has work for the beat job ``kind`` at
    ``at``; the job's earliest due time is kept.

    Call it in the transaction that makes the work (it is one statement of that transaction):
    it commits with the work, and a rollback leaves no row, as the outbox does for events.
    """
    schema = tenant.schema_name if tenant is not None else connection.schema_name
    if schema == get_public_schema_name():
        raise TenantRequired(f"due work '{kind}' needs a tenant: none is active")
    with connection.cursor() as cursor:
        cursor.execute(WORK_DUE_SQL, {"schema": schema, "kind": kind, "at": at})
