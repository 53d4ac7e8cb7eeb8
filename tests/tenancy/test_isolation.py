"""What one tenant writes, another never sees: ORM, admin, sessions, cache."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.test import Client
from django_tenants.utils import schema_context

from tests.conftest import ADMIN_PASSWORD
from tests.factories import UserFactory

User = get_user_model()


def _login(client: Client, email: str) -> None:
    response = client.post(
        "/admin/login/?next=/admin/", {"username": email, "password": ADMIN_PASSWORD}
    )
    assert response.status_code == 302, response.content[:500]
    assert response["Location"] == "/admin/"


def test_rows_of_one_tenant_are_invisible_to_the_other_through_the_orm(acme, globex):
    with schema_context(acme.schema_name):
        UserFactory(email="only-acme@acme.test")
        Group.objects.create(name="Acme buyers")
    with schema_context(globex.schema_name):
        assert not User.objects.filter(username="only-acme@acme.test").exists()
        assert not Group.objects.filter(name="Acme buyers").exists()
        assert User.objects.filter(username="admin@globex.test").exists()
    with schema_context(acme.schema_name):
        assert User.objects.filter(username="only-acme@acme.test").exists()


def test_admin_of_one_tenant_lists_only_its_own_users(acme, globex, acme_client, globex_client):
    with schema_context(acme.schema_name):
        UserFactory(email="only-acme@acme.test")
    _login(acme_client, "admin@acme.test")
    _login(globex_client, "admin@globex.test")
    acme_page = acme_client.get("/admin/auth/user/").content.decode()
    globex_page = globex_client.get("/admin/auth/user/").content.decode()
    assert "only-acme@acme.test" in acme_page
    assert "only-acme@acme.test" not in globex_page
    assert "admin@acme.test" not in globex_page
    assert "admin@globex.test" in globex_page


def test_admin_of_a_tenant_does_not_list_platform_tables(acme_client):
    _login(acme_client, "admin@acme.test")
    page = acme_client.get("/admin/").content.decode()
    assert "/admin/tenancy/" not in page
    assert acme_client.get("/admin/tenancy/tenant/").status_code == 404


def test_tenant_credentials_do_not_work_on_another_tenant(globex_client):
    response = globex_client.post(
        "/admin/login/?next=/admin/", {"username": "admin@acme.test", "password": ADMIN_PASSWORD}
    )
    assert response.status_code == 200  # the form again, with an error
    assert b"Please enter the correct" in response.content


def test_a_session_from_one_tenant_does_not_authenticate_on_another(acme_client, globex_client):
    _login(acme_client, "admin@acme.test")
    assert acme_client.get("/admin/").status_code == 200
    globex_client.cookies["sessionid"] = acme_client.cookies["sessionid"].value
    response = globex_client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_tenant_session_does_not_authenticate_on_the_public_admin(acme_client, public_client):
    _login(acme_client, "admin@acme.test")
    public_client.cookies["sessionid"] = acme_client.cookies["sessionid"].value
    assert public_client.get("/admin/").status_code == 302


def test_cache_keys_are_prefixed_by_schema(acme, globex):
    with schema_context(acme.schema_name):
        cache.set("greeting", "hello from acme")
    with schema_context(globex.schema_name):
        assert cache.get("greeting") is None
        cache.set("greeting", "hello from globex")
    with schema_context(acme.schema_name):
        assert cache.get("greeting") == "hello from acme"
