"""The resolver seen through HTTP: every Host and X-Tenant value gets the one site it names, or 400/403/404."""

import ipaddress
import json

import pytest
from django.db import connection
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from apps.tenancy.models import Domain, Tenant, TenantStatus
from apps.tenancy.resolver import tenant_cache

PUBLIC = "public site"
PUBLIC_HOSTS = {"localhost", "127.0.0.1", "[::1]"}  # the base domain and TENANT_PUBLIC_HOSTS
BASE_DOMAIN = "localhost"
MAX_RAW_LENGTH = 253 + 8  # a host name with a port: anything longer is refused unread

hostile = st.one_of(
    st.text(max_size=80),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=40).map(
        lambda s: s + ".localhost"
    ),
    st.sampled_from(
        [
            "../",
            "..%2f..",
            "'",
            '"',
            "acme'--",
            "%00",
            "acme%00.localhost",
            "acme\x00.localhost",
            "a" * 10_000,
            "xn--bcher-kva.localhost",
            "bücher.localhost",
            "ACME.LOCALHOST.",
            "acme.localhost:8000",
            "acme.localhost:0x50",
            "public.localhost",
            "pg_catalog.localhost",
            "www.localhost",
            "[::1]",
            "[::1]:8000",
            "127.0.0.1",
            "10.1.2.3",
            "\t",
            "\r\n",
            "globex.localhost",
            "shop.acme.test",
            "acme.localhost\n",
        ]
    ),
)


def _name_and_port(value: str) -> tuple[str, str] | None:
    """``value`` split into a host name and a port, or None when the port is not one."""
    if value.startswith("["):
        inner, bracket, rest = value[1:].partition("]")
        try:
            name = f"[{ipaddress.IPv6Address(inner).compressed}]"
        except ValueError:
            return None
        if not bracket or (rest and not rest.startswith(":")):
            return None
        port = rest[1:]
        if rest and not port:
            return None
    else:
        name, colon, port = value.partition(":")
        if colon and not port:
            return None
    if port and not (port.isdigit() and len(port) <= 5 and int(port) <= 65535):
        return None
    return name, port


def expected_site(host: str, *, tenants: set[str], domains: dict[str, str]) -> str | None:
    """The site ``host`` names by the rules, worked out here: PUBLIC, a slug, or None (no site).

    Trimmed and lowercased, with its port and one trailing dot dropped, a host is
    the platform's own (the base domain, the public hosts), a custom domain, or
    ``<slug>.<base domain>`` of an active tenant. Anything else is no site.
    """
    value = host.strip().lower()
    if len(host) > MAX_RAW_LENGTH or not value.isascii():
        return None
    split = _name_and_port(value)
    if split is None:
        return None
    name = split[0].removesuffix(".")
    if name in PUBLIC_HOSTS:
        return PUBLIC
    if name in domains:
        return domains[name]
    label, _, base = name.partition(".")
    return label if base == BASE_DOMAIN and label in tenants else None


def expected_tenant_for_header(header: str, *, tenants: set[str]) -> str | None:
    slug = header.strip().lower()
    return slug if len(header) <= MAX_RAW_LENGTH and slug in tenants else None


def _sites() -> tuple[set[str], dict[str, str]]:
    tenants = set(Tenant.objects.filter(status=TenantStatus.ACTIVE).values_list("slug", flat=True))
    domains = dict(
        Domain.objects.filter(tenant__status=TenantStatus.ACTIVE).values_list(
            "domain", "tenant__slug"
        )
    )
    return tenants, domains


def _check(response, expected: str | None) -> None:
    """``response`` is the one site ``expected`` names, or no site at all (never a 500)."""
    body = response.content.decode(errors="replace")
    assert "Traceback" not in body
    if expected is None:
        assert response.status_code in {400, 403, 404}, response.status_code
        return
    assert response.status_code == 200, (expected, response.status_code, body[:500])
    served = response.context["tenant"]
    names = dict(Tenant.objects.values_list("slug", "name"))
    if expected == PUBLIC:
        assert served is None and connection.schema_name == "public"
        assert "platform/home.html" in [template.name for template in response.templates]
        assert "<h1>Multi-tenant CMS and commerce platform</h1>" in body
        # The platform page lists the sites; it never serves one of them.
        assert not any(f"<h1>Welcome to {name}</h1>" in body for name in names.values())
    else:
        assert served.slug == expected and connection.schema_name == served.schema_name
        assert f"<h1>Welcome to {names[expected]}</h1>" in body
        assert not any(name in body for slug, name in names.items() if slug != expected)


@pytest.mark.django_db
@hsettings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(host=hostile)
def test_arbitrary_hosts_serve_the_site_they_name_or_none(host):
    tenants, domains = _sites()
    response = Client().get("/", HTTP_HOST=host)
    _check(response, expected_site(host, tenants=tenants, domains=domains))
    connection.set_schema_to_public()


@pytest.mark.django_db
@hsettings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(header=hostile)
def test_arbitrary_tenant_headers_serve_the_tenant_they_name_or_none(header):
    tenants, _ = _sites()
    response = Client().get("/", HTTP_HOST="api.platform.example", HTTP_X_TENANT=header)
    _check(response, expected_tenant_for_header(header, tenants=tenants))
    connection.set_schema_to_public()


@pytest.mark.parametrize(
    ("host", "site"),
    [
        ("acme.localhost", "acme"),
        ("ACME.LOCALHOST.", "acme"),
        ("acme.localhost:8000", "acme"),
        ("acme.localhost\n", "acme"),
        ("globex.localhost", "globex"),
        ("localhost", PUBLIC),
        ("127.0.0.1:8000", PUBLIC),
        ("[::1]", PUBLIC),
        ("[0:0:0:0:0:0:0:1]:8000", PUBLIC),
        ("shop.acme.test", None),
        ("acme.localhost:0x50", None),
        ("public.localhost", None),
        ("pg_catalog.localhost", None),
        ("10.1.2.3", None),
    ],
)
def test_the_oracle_names_the_site_of_known_hosts(db, host, site):
    """The oracle of the property tests, checked on hosts whose site is known."""
    tenants, domains = _sites()
    assert expected_site(host, tenants=tenants, domains=domains) == site
    _check(Client().get("/", HTTP_HOST=host), site)


def test_subdomain_resolves_to_the_tenant(acme_client):
    response = acme_client.get("/")
    assert response.status_code == 200
    assert response.context["tenant"].slug == "acme"
    assert b"Acme Test" in response.content


def test_host_is_normalized_port_trailing_dot_and_case(db):
    response = Client().get("/", HTTP_HOST="ACME.LocalHost.:8000")
    assert response.status_code == 200
    assert response.context["tenant"].slug == "acme"


def test_header_mode_selects_the_tenant(db):
    response = Client().get("/", HTTP_HOST="api.platform.example", HTTP_X_TENANT=" Globex ")
    assert response.status_code == 200
    assert response.context["tenant"].slug == "globex"


def test_header_ignored_when_mode_is_off(db, settings):
    settings.TENANT_RESOLUTION_MODES = ["subdomain", "domain"]
    response = Client().get("/", HTTP_HOST="acme.localhost", HTTP_X_TENANT="globex")
    assert response.context["tenant"].slug == "acme"


def test_custom_domain_resolves(acme):
    Domain.objects.create(tenant=acme, domain="shop.acme.test")
    response = Client().get("/", HTTP_HOST="Shop.Acme.Test:443")
    assert response.status_code == 200
    assert response.context["tenant"].slug == "acme"


def test_custom_domain_mode_off_gives_404(acme, settings):
    settings.TENANT_RESOLUTION_MODES = ["subdomain"]
    Domain.objects.create(tenant=acme, domain="shop.acme.test")
    assert Client().get("/", HTTP_HOST="shop.acme.test").status_code == 404


@pytest.mark.parametrize(
    ("host", "status", "code"),
    [
        ("bad_host", 400, "tenant_identifier_invalid"),
        ("www.localhost", 400, "tenant_identifier_invalid"),
        ("pg-toast.localhost", 400, "tenant_identifier_invalid"),
        ("public.localhost", 400, "tenant_identifier_invalid"),
        ("pg_catalog.localhost", 400, "tenant_identifier_invalid"),
        ("nobody.localhost", 404, "tenant_not_found"),
        ("unknown.example.com", 404, "tenant_not_found"),
    ],
)
def test_errors_are_problem_json_for_api_clients(db, host, status, code):
    response = Client().get("/", HTTP_HOST=host, HTTP_ACCEPT="application/json")
    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"
    problem = json.loads(response.content)
    assert problem["status"] == status
    assert problem["code"] == code


@pytest.mark.parametrize("header", ["public", "pg_catalog", "information_schema", "pg-toast"])
def test_schemas_of_postgresql_are_refused_as_tenant_headers(db, header):
    response = Client().get(
        "/", HTTP_HOST="api.platform.example", HTTP_X_TENANT=header, HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 400
    assert json.loads(response.content)["code"] == "tenant_identifier_invalid"
    assert connection.schema_name == "public"


def test_errors_are_short_html_pages_for_people(db):
    response = Client().get("/", HTTP_HOST="nobody.localhost", HTTP_ACCEPT="text/html")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert b"Unknown tenant" in response.content


def test_suspended_tenant_gets_403(acme):
    Tenant.objects.filter(pk=acme.pk).update(status=TenantStatus.SUSPENDED)
    tenant_cache.clear_local()
    response = Client().get("/", HTTP_HOST="acme.localhost", HTTP_ACCEPT="application/json")
    assert response.status_code == 403
    assert json.loads(response.content)["code"] == "tenant_suspended"


def test_public_domain_shows_the_platform_page(public_client):
    response = public_client.get("/")
    assert response.status_code == 200
    assert b"Operators' admin" in response.content
    assert public_client.get("/admin/login/").status_code == 200


def test_public_admin_lists_tenants_for_operators(public_client, django_user_model):
    django_user_model.objects.create_superuser("op", "op@platform.test", "pw-operator-1")
    assert public_client.login(username="op", password="pw-operator-1")
    response = public_client.get("/admin/tenancy/tenant/")
    assert response.status_code == 200
    assert b"acme" in response.content and b"globex" in response.content


@pytest.mark.parametrize("host", ["acme.localhost", "%%%", "x" * 300, "nobody.localhost"])
def test_liveness_answers_on_any_host(db, host):
    response = Client().get("/health/live", HTTP_HOST=host)
    assert response.status_code == 200
    assert json.loads(response.content) == {"status": "ok"}


def test_readiness_reports_each_check(db):
    response = Client().get("/health/ready", HTTP_HOST="anything")
    body = json.loads(response.content)
    assert response.status_code == 200
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["redis"]["status"] == "ok"


def test_readiness_is_degraded_without_redis(db, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    body = json.loads(Client().get("/health/ready").content)
    assert body["status"] == "degraded"
    assert body["checks"]["redis"]["status"] == "fail"
    assert body["checks"]["database"]["status"] == "ok"


def test_operators_cannot_be_deleted_only_deactivated(public_client, django_user_model):
    django_user_model.objects.create_superuser("op2", "op2@platform.test", "pw-operator-2")
    target = django_user_model.objects.create_user("leaver", "leaver@platform.test", "pw-leaver-1")
    assert public_client.login(username="op2", password="pw-operator-2")
    response = public_client.post(f"/admin/auth/user/{target.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert django_user_model.objects.filter(pk=target.pk).exists()
