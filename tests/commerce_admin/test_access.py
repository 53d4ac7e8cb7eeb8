"""Who reaches the commerce admin: Merchants do; Editors and Moderators get 403 everywhere;
another tenant's product is a 404."""

from __future__ import annotations

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from apps.commerce import services

from .conftest import ADMIN, PRODUCTS, login, make_location, make_product, page, product_url


def commerce_urls() -> list[str]:
    product = make_product()
    with schema_context("acme"):
        collection = services.collection_create(title="Summer")
        category = services.category_create(name="Shirts")
    location = make_location()
    return [
        PRODUCTS,
        f"{PRODUCTS}add/",
        product_url(product),
        product_url(product, "delete/"),
        product_url(product, "history/"),
        f"{ADMIN}collection/",
        f"{ADMIN}collection/add/",
        f"{ADMIN}collection/{collection.pk}/change/",
        f"{ADMIN}category/",
        f"{ADMIN}category/add/",
        f"{ADMIN}category/{category.pk}/change/",
        f"{ADMIN}location/",
        f"{ADMIN}location/add/",
        f"{ADMIN}location/{location.pk}/change/",
        f"{ADMIN}stockadjustment/",
        f"{ADMIN}stockadjustment/add/",
        f"{ADMIN}storesettings/1/change/",
    ]


def test_a_merchant_reaches_every_commerce_admin_page(acme_client: Client):
    login(acme_client, email="merchant@acme.test", groups=["Merchant"])
    urls = commerce_urls()
    for url in urls:
        page(acme_client.get(url))
    index = page(acme_client.get("/admin/"))
    assert f'href="{PRODUCTS}"' in index and f'href="{ADMIN}stockadjustment/"' in index
    assert acme_client.get(f"{ADMIN}storesettings/").status_code == 302


@pytest.mark.parametrize("group", ["Editor", "Moderator"])
def test_editors_and_moderators_get_403_on_every_commerce_admin_url(acme_client, group):
    login(acme_client, email=f"{group.lower()}@acme.test", groups=[group])
    urls = commerce_urls()
    for url in urls:
        assert acme_client.get(url).status_code == 403, url
        assert acme_client.post(url, {"title": "x"}).status_code == 403, url
    product = make_product("Other")
    assert acme_client.post(product_url(product, "transition/activate/")).status_code == 403
    assert acme_client.post(PRODUCTS, {"action": "activate_selected"}).status_code == 403
    assert f'href="{PRODUCTS}"' not in page(acme_client.get("/admin/"))


def test_acme_s_product_is_404_in_globex_s_admin(globex_client):
    product = make_product("Acme only")
    login(globex_client, schema="globex", email="merchant@globex.test", groups=["Merchant"])
    for suffix in ("change/", "delete/", "history/"):
        response = globex_client.get(product_url(product, suffix))
        assert response.status_code == 404, suffix
        assert "Acme only" not in response.content.decode()
    response = globex_client.post(product_url(product, "transition/activate/"))
    assert response.status_code == 404
    assert "Acme only" not in page(globex_client.get(PRODUCTS))
