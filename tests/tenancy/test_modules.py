"""Per-tenant module switches: storefront, API, admin, menus, sitemap, handlers, commands."""

from __future__ import annotations

import json
import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django_tenants.utils import schema_context

from apps.events import relay
from apps.events.models import OutboxEvent
from apps.pages.services import MenuItemInput
from apps.tenancy import services
from apps.tenancy.models import Tenant
from apps.tenancy.selectors import serves
from tests.conftest import as_tenant_admin, tenant_client
from tests.forum import factories as forum
from tests.pages.support import make_menu

TENANTS = "/admin/tenancy/tenant/"


@pytest.fixture
def switch(db, django_capture_on_commit_callbacks):
    """Turn acme's modules on and off as an operator would; the caches follow on commit."""

    def turn(slug: str = "acme", **changes) -> Tenant:
        with schema_context("public"), django_capture_on_commit_callbacks(execute=True):
            return services.tenant_modules_switch(slug=slug, **changes)

    return turn


def test_a_module_turned_off_answers_404_on_its_pages_api_and_admin(switch, acme_client):
    admin = as_tenant_admin(tenant_client("acme"))
    assert acme_client.get("/forum/").status_code == 200
    assert admin.get("/admin/forum/topic/").status_code == 200

    switch(off=["forum"])

    assert acme_client.get("/forum/").status_code == 404
    assert acme_client.get("/forum/search/?q=x").status_code == 404
    api = admin.get("/api/v1/forum/topics/")
    assert api.status_code == 404
    assert api["Content-Type"] == "application/problem+json"
    assert admin.get("/admin/forum/topic/").status_code == 404
    # Another module and another tenant go on.
    assert acme_client.get("/blog/").status_code == 200
    assert tenant_client("globex").get("/forum/").status_code == 200

    switch(on=["forum"])
    assert acme_client.get("/forum/").status_code == 200


def test_the_shop_off_takes_its_cart_checkout_and_mini_cart(switch, acme_client):
    assert 'class="mini-cart"' in acme_client.get("/blog/").content.decode()
    switch(off=["shop"])
    for path in ("/shop/", "/cart/", "/checkout/", "/api/v1/commerce/products/"):
        assert acme_client.get(path).status_code == 404, path
    assert 'class="mini-cart"' not in acme_client.get("/blog/").content.decode()


def test_menus_and_the_sitemap_leave_out_modules_that_are_off(switch, acme_client):
    with schema_context("acme"):
        forum.category()
    make_menu(
        "header",
        [
            MenuItemInput(label={"en": "Forum"}, url="/forum/"),
            MenuItemInput(label={"en": "Blog"}, url="/blog/"),
        ],
    )
    html = acme_client.get("/blog/").content.decode()
    assert 'href="/forum/"' in html
    assert "/forum/</loc>" in acme_client.get("/sitemap.xml").content.decode()

    switch(off=["forum"])

    html = acme_client.get("/blog/").content.decode()
    assert 'href="/forum/"' not in html
    assert 'href="/blog/"' in html
    sitemap = acme_client.get("/sitemap.xml").content.decode()
    assert "/forum/" not in sitemap
    assert "/blog/" in sitemap


def test_the_tenant_admin_lists_only_modules_that_are_on_and_says_which(switch):
    admin = as_tenant_admin(tenant_client("acme"))
    index = admin.get("/admin/").content.decode()
    assert 'href="/admin/forum/"' in index
    switch(off=["forum", "blog"])
    index = admin.get("/admin/").content.decode()
    assert 'href="/admin/forum/"' not in index
    assert 'href="/admin/blog/"' not in index
    assert 'href="/admin/content/"' in index  # content belongs to every tenant
    panel = re.search(r'id="modules-module".*?</table>', index, re.S).group(0)
    states = dict(re.findall(r'<th scope="row">(\w+)</th>\s*<td>(\w+)</td>', panel))
    assert states == {"Blog": "Off", "Forum": "Off", "Pages": "On", "Shop": "On"}


def test_pages_off_hides_pages_by_path_through_their_namespace(switch, acme):
    assert serves(acme, "/about/team/")
    tenant = switch(off=["pages"])
    assert not serves(tenant, "/about/team/")
    assert not serves(tenant, "/api/v1/pages/")
    assert serves(tenant, "/blog/")
    assert serves(tenant, "/search/")


def test_handlers_of_a_module_that_is_off_skip_the_tenant(switch, acme):
    switch(off=["forum"])
    with schema_context("acme"):
        category = forum.category()
        forum.member()
    OutboxEvent.objects.update(status="pending")
    relay.relay_batch("test")
    with schema_context("acme"):
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT DISTINCT unnest(handlers) FROM events_processed")
            handled = {row[0] for row in cursor.fetchall()}
    assert "webhooks.deliveries" in handled
    assert "projection.forum_categories" not in handled
    assert category.pk


def test_switches_are_validated_and_announced(switch, acme):
    with pytest.raises(services.TenantInvalid, match="unknown"):
        services.tenant_modules_switch(slug="acme", off=["casino"])
    with pytest.raises(services.TenantInvalid, match="both on and off"):
        services.tenant_modules_switch(slug="acme", on=["forum"], off=["forum"])
    version = acme.version
    tenant = switch(off=["forum"])
    assert (tenant.disabled_modules, tenant.version) == (["forum"], version + 1)
    event = OutboxEvent.objects.filter(event_type="tenancy.tenant.modules_changed").get()
    assert event.payload["disabled_modules"] == ["forum"]
    # Nothing to change: no new version, no event.
    assert switch(off=["forum"]).version == version + 1
    assert OutboxEvent.objects.filter(event_type="tenancy.tenant.modules_changed").count() == 1


def test_the_command_shows_and_switches_modules(switch, acme):
    out = StringIO()
    call_command("tenant_modules", "acme", "--off", "forum", "--off", "shop", stdout=out)
    lines = dict(line.split()[::-1] for line in out.getvalue().splitlines())
    assert lines == {"blog": "on", "forum": "off", "pages": "on", "shop": "off"}
    acme.refresh_from_db()
    assert acme.disabled_modules == ["forum", "shop"]
    with pytest.raises(CommandError, match="no tenant"):
        call_command("tenant_modules", "nobody", stdout=StringIO())


def test_an_operator_switches_modules_in_the_public_admin(operator_client, acme):
    from tests.tenancy.test_operator_admin import _change

    page = operator_client.get(f"{TENANTS}{acme.pk}/change/").content.decode()
    assert re.findall(r'name="modules_on" value="(\w+)"[^>]*checked', page) == [
        "blog", "forum", "pages", "shop",
    ]  # fmt: skip
    response = _change(operator_client, acme, modules_on=["blog", "pages"])
    assert response.status_code == 302
    acme.refresh_from_db()
    assert acme.disabled_modules == ["forum", "shop"]


def test_a_module_check_costs_no_query_on_a_warm_request(
    switch, acme_client, django_assert_num_queries
):
    switch(off=["forum"])
    acme_client.get("/api/v1/forum/topics/")  # warms the tenant cache
    with django_assert_num_queries(0):
        response = acme_client.get("/api/v1/forum/topics/")
    assert response.status_code == 404
    assert json.loads(response.content)["status"] == 404


def test_site_search_leaves_out_modules_that_are_off(switch, acme_client):
    groups = [g["name"] for g in acme_client.get("/search/?q=anything").context["groups"]]
    assert groups == ["products", "posts", "pages"]
    switch(off=["shop", "blog"])
    response = acme_client.get("/search/?q=anything")
    assert [g["name"] for g in response.context["groups"]] == ["pages"]
    # Asking for a kind of a module that is off searches everything that is on.
    response = acme_client.get("/search/?q=anything&kind=posts")
    assert response.context["kind"] is None


def test_the_not_found_page_offers_the_blog_only_while_it_is_on(switch, acme_client):
    assert 'href="/blog/"' in acme_client.get("/no-such-page/").content.decode()
    switch(off=["blog"])
    response = acme_client.get("/blog/")
    assert response.status_code == 404
    assert 'href="/blog/"' not in response.content.decode()
