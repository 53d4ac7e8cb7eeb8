import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django_tenants.utils import schema_context, schema_exists

from apps.tenancy.errors import TenantConflict, TenantInvalid
from apps.tenancy.models import Domain, Tenant
from apps.tenancy.services import tenant_create


def test_create_tenant_builds_schema_admin_and_groups(cleanup):
    cleanup.append("new-shop")
    result = tenant_create(
        slug="New-Shop", name="New Shop", admin_email="owner@new.test", domain="shop.new.test"
    )
    tenant = result.tenant
    assert (tenant.slug, tenant.schema_name) == ("new-shop", "new_shop")
    assert schema_exists("new_shop")
    assert Domain.objects.get(domain="shop.new.test").tenant == tenant
    assert result.admin_password is None and result.seconds > 0
    assert result.admin_setup_url.startswith("http://shop.new.test/account/reset/")
    with schema_context("new_shop"):
        admin = get_user_model().objects.get(username="owner@new.test")
        assert admin.is_superuser and admin.is_staff and not admin.has_usable_password()
        assert set(Group.objects.values_list("name", flat=True)) == {
            "Editor",
            "Merchant",
            "Moderator",
        }


@pytest.mark.parametrize(
    ("slug", "message"),
    [
        ("admin", "reserved"),
        ("bad slug", "only"),
        ("-x", "only"),
        ("pg-foo", "reserved"),
        ("", "empty"),
    ],
)
def test_invalid_slug_is_refused_and_nothing_is_created(db, slug, message):
    before = Tenant.objects.count()
    with pytest.raises(TenantInvalid, match=message):
        tenant_create(slug=slug, name="X", admin_email="a@b.test")
    assert Tenant.objects.count() == before


def test_taken_slug_is_a_conflict(db):
    with pytest.raises(TenantConflict, match="taken"):
        tenant_create(slug="acme", name="Again", admin_email="a@b.test")


@pytest.mark.parametrize(
    "domain", ["acme2.localhost", "localhost", "10.0.0.1", "nodots", "bad_domain.test"]
)
def test_platform_hosts_and_malformed_domains_are_refused(db, domain):
    with pytest.raises(TenantInvalid, match="domain"):
        tenant_create(slug="fresh", name="Fresh", admin_email="a@b.test", domain=domain)


def test_a_failure_midway_rolls_back_row_and_schema(cleanup, monkeypatch):
    cleanup.append("doomed")

    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("apps.tenancy.services._create_admin", explode)
    with pytest.raises(RuntimeError, match="disk full"):
        tenant_create(slug="doomed", name="Doomed", admin_email="a@doomed.test")
    assert not Tenant.objects.filter(slug="doomed").exists()
    assert not schema_exists("doomed")


def test_create_tenant_command_prints_credentials_and_time(cleanup, capsys):
    cleanup.append("cmd-shop")
    call_command(
        "create_tenant",
        slug="cmd-shop",
        name="Cmd Shop",
        admin_email="boss@cmd.test",
        admin_password="a-long-password",
    )
    out = capsys.readouterr().out
    assert "Created tenant cmd-shop (schema cmd_shop) by clone in" in out
    assert "boss@cmd.test" in out and "a-long-password" in out


def test_create_tenant_command_reports_errors_clearly(db):
    with pytest.raises(CommandError, match="slug: 'acme' is taken"):
        call_command("create_tenant", slug="acme", name="Dup", admin_email="x@y.test")
    with pytest.raises(CommandError, match="reserved"):
        call_command("create_tenant", slug="www", name="W", admin_email="x@y.test")
