"""The public domain's platform page lists the active tenants' sites at their addresses."""

from __future__ import annotations

from django.test import Client

from apps.tenancy import services
from tests.conftest import TEST_TENANTS


def test_the_platform_page_lists_active_sites_in_one_query(
    acme, globex, django_capture_on_commit_callbacks, django_assert_num_queries
):
    with django_capture_on_commit_callbacks(execute=True):
        services.domain_add(slug="acme", domain="shop.acme.test")
        services.tenant_set_status(slug="globex", status="suspended")
    client = Client(HTTP_HOST="localhost:8000")
    client.get("/")  # warm the resolver's cache
    with django_assert_num_queries(1):
        response = client.get("/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "<strong>Acme Test</strong>" in page
    # At their addresses, with the port the visitor used.
    assert '<a href="http://acme.localhost:8000/">' in page
    assert '<a href="http://shop.acme.test:8000/">' in page
    # Suspended tenants are not listed; nobody's login email is.
    assert "Globex Test" not in page and "globex.localhost" not in page
    assert not any(email in page for _, email in TEST_TENANTS.values())
    # The tenants' admins are for signed-in operators.
    assert "/admin/" not in page.replace('<a href="/admin/">', "")
    assert "1 active tenant on this deployment." in page


def test_operators_also_get_each_tenant_admin(operator_client, acme, globex):
    page = operator_client.get("/").content.decode()
    assert '<a href="http://acme.localhost/admin/">admin</a>' in page
    assert '<a href="http://globex.localhost/admin/">admin</a>' in page
    assert "2 active tenants on this deployment." in page
