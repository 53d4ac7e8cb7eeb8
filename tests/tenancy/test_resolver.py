"""The resolver seen through HTTP: every Host and X-Tenant value ends in 200/400/403/404."""

import json

import pytest
from django.db import connection
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from apps.tenancy.models import Domain, Tenant, TenantStatus
from apps.tenancy.resolver import tenant_cache

KNOWN_TENANT_NAMES = {"Acme Test", "Globex Test"}

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


def _check(response):
    assert response.status_code in {200, 400, 403, 404}, response.status_code
    if response.status_code == 200:
        body = response.content.decode()
        assert "Traceback" not in body
        assert any(name in body for name in KNOWN_TENANT_NAMES) or "platform" in body.lower()


@pytest.mark.django_db
@hsettings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(host=hostile)
def test_arbitrary_hosts_never_error(host):
    _check(Client().get("/", HTTP_HOST=host))
    connection.set_schema_to_public()


@pytest.mark.django_db
@hsettings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(header=hostile)
def test_arbitrary_tenant_headers_never_error(header):
    _check(Client().get("/", HTTP_HOST="api.platform.example", HTTP_X_TENANT=header))
    connection.set_schema_to_public()


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
