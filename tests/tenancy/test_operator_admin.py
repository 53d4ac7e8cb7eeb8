"""The operators' tenant pages say where each tenant's site lives, as links."""

from __future__ import annotations

import re

from django.conf import settings

from apps.tenancy import services

TENANTS = "/admin/tenancy/tenant/"


def links(content: str) -> set[str]:
    return set(re.findall(r'<a href="//([^"/]+)/"', content))


def test_the_tenant_list_links_every_tenant_site(
    operator_client, acme, globex, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.domain_add(slug="acme", domain="shop.acme.test")
    response = operator_client.get(TENANTS)
    assert response.status_code == 200
    found = links(response.content.decode())
    base = settings.TENANT_BASE_DOMAIN
    assert {f"acme.{base}", "shop.acme.test", f"globex.{base}"} <= found
    assert "shop.globex.test" not in found


def test_a_tenant_page_shows_its_subdomain_even_without_custom_domains(operator_client, globex):
    assert not globex.domains.exclude(domain=f"globex.{settings.TENANT_BASE_DOMAIN}").exists()
    response = operator_client.get(f"{TENANTS}{globex.pk}/change/")
    assert response.status_code == 200
    assert links(response.content.decode()) == {f"globex.{settings.TENANT_BASE_DOMAIN}"}


def _change(operator_client, tenant, **fields):
    """Post the tenant's change form as the page holds it, with ``fields`` changed."""
    url = f"{TENANTS}{tenant.pk}/change/"
    page = operator_client.get(url).content.decode()
    form = dict(re.findall(r'name="(domains-[A-Z_]+)"[^>]*value="(\d*)"', page))
    form.update(name=tenant.name, status=tenant.status, default_locale=tenant.default_locale)
    for name in ("enabled_locales", "modules_on"):
        form[name] = re.findall(
            rf'<input type="checkbox" name="{name}" value="([^"]+)"[^>]*checked', page
        )
    form.update(fields)
    return operator_client.post(url, form)


def test_saving_a_tenant_keeps_its_locales_and_changes_them_when_asked(operator_client, acme):
    services.tenant_update(slug="acme", enabled_locales=["en", "de"])
    acme.refresh_from_db()

    response = _change(operator_client, acme, name="Acme Outfitters & Co")
    assert response.status_code == 302, response.content.decode()[:2000]
    acme.refresh_from_db()
    assert (acme.name, acme.enabled_locales) == ("Acme Outfitters & Co", ["de", "en"])

    assert _change(operator_client, acme, enabled_locales=["en"]).status_code == 302
    acme.refresh_from_db()
    assert acme.enabled_locales == ["en"]


def test_an_operator_requires_if_match_for_a_tenant(operator_client, globex):
    """The strict mode of the API is set on the tenant's page, through ``tenant_update``."""
    page = operator_client.get(f"{TENANTS}{globex.pk}/change/")
    assert 'name="require_if_match"' in page.content.decode()
    version = globex.version
    response = _change(operator_client, globex, require_if_match="on")
    assert response.status_code == 302, re.findall(r"errorlist.{0,300}", response.content.decode())
    globex.refresh_from_db()
    assert globex.require_if_match
    assert globex.version == version + 1  # written by the service, which bumps the version


def test_a_tenant_added_by_an_operator_comes_with_its_admin_set_password_link(operator_client):
    response = operator_client.post(
        f"{TENANTS}add/",
        {"slug": "op-made", "name": "Op Made", "default_locale": "en", "admin_email": "o@op.test"},
        follow=True,
    )
    assert response.status_code == 200
    (message,) = [str(m) for m in response.context["messages"] if "o@op.test" in str(m)]
    base = settings.TENANT_BASE_DOMAIN
    assert re.fullmatch(
        rf"Tenant op-made created in [\d.]+ s\. Admin o@op\.test sets a password once at "
        rf"http://op-made\.{re.escape(base)}/account/reset/[\w-]+/[\w-]+/",
        message,
    ), message
