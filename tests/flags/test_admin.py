"""The feature flags' admin: the tenant's administrators' only, never on the operators' site,
in German for a German administrator, users picked by id."""

from __future__ import annotations

import re

import pytest
from django_tenants.utils import schema_context
from waffle.models import Flag

from apps.forum.flags import MENTIONS
from tests.api.conftest import login_as
from tests.conftest import as_tenant_admin, tenant_client
from tests.content_admin.conftest import page
from tests.content_admin.test_german_names import columns
from tests.factories import UserFactory
from tests.storefront.test_i18n import compiled_messages  # noqa: F401 (fixture)

GERMAN = {"HTTP_ACCEPT_LANGUAGE": "de"}


@pytest.fixture
def administrator(acme):
    return as_tenant_admin(tenant_client("acme"))


def test_the_operators_admin_has_no_feature_flags(operator_client):
    for url in ("/admin/waffle/flag/", "/admin/waffle/switch/", "/admin/waffle/sample/"):
        assert operator_client.get(url).status_code == 404, url
    assert "waffle" not in page(operator_client.get("/admin/"))


def test_a_merchant_gets_403_and_no_entry(acme):
    client = tenant_client("acme")
    login_as(client, "acme", email="merchant@acme.test", groups=["Merchant"])
    assert client.get("/admin/waffle/flag/").status_code == 403
    index = page(client.get("/admin/"))
    assert "/admin/commerce/" in index  # the index lists their app
    assert "/admin/waffle/" not in index


def test_a_flags_users_are_picked_by_id_not_listed(administrator, acme):
    with schema_context("acme"):
        customers = [UserFactory(email=f"customer{n}@acme.test") for n in range(30)]
        flag = Flag.objects.get(name=MENTIONS)
        flag.users.add(customers[0])
    form = page(administrator.get(f"/admin/waffle/flag/{flag.pk}/change/"))
    assert 'class="vManyToManyRawIdAdminField"' in form
    assert f'value="{customers[0].pk}"' in form
    # Only the one chosen is named; the others are nowhere in the page.
    assert "customer0@acme.test" in form
    assert not [c.email for c in customers[1:] if c.email in form]


@pytest.mark.usefixtures("compiled_messages")
def test_a_german_administrator_reads_german(administrator, acme):
    with schema_context("acme"):
        flag = Flag.objects.get(name=MENTIONS)
    index = page(administrator.get("/admin/", **GERMAN))
    assert "Feature-Flags" in index and "django-waffle" not in index.lower()

    listing = page(administrator.get("/admin/waffle/flag/", **GERMAN))
    assert columns(listing)[1:] == [
        "Name", "Notiz", "Alle", "Prozent", "Administratoren", "Mitarbeiter", "Angemeldete",
        "Sprachen",
    ]  # fmt: skip
    assert "Ausgewählte Feature-Flags für alle einschalten" in listing

    form = page(administrator.get(f"/admin/waffle/flag/{flag.pk}/change/", **GERMAN))
    found = set(re.findall(r"<label[^>]*>([^<:]+):?</label>", form))
    assert {
        "Name", "Alle", "Prozent", "Testen", "Administratoren", "Mitarbeiter", "Angemeldete",
        "Sprachen", "Gruppen", "Benutzer", "Rollout-Modus", "Notiz", "Angelegt", "Geändert",
    } <= found, found  # fmt: skip
    assert not {"Everyone", "Percent", "Testing", "Superusers", "Rollout", "Note"} & found
    assert "Für die Mitglieder dieser Gruppen aktiv." in form
