"""Tenants never see each other's catalog, and the Merchant group (not the Editor) manages it."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django_tenants.utils import schema_context

from apps.commerce import selectors, services
from apps.commerce.services import ProductInput, VariantInput

ACTIONS = ("view", "add", "change", "delete")


def _product_in(schema: str, title: str, sku: str):
    with schema_context(schema):
        product = services.product_create(data=ProductInput(title=title))
        services.variant_create(product_id=product.pk, data=VariantInput(sku=sku))
    return product


def test_a_product_of_acme_is_never_visible_from_globex(acme, globex):
    product = _product_in("acme", "Acme anvil", "ANVIL-1")
    with schema_context("globex"):
        assert selectors.product_get(product.pk) is None
        assert selectors.product_by_handle("acme-anvil") is None
        assert selectors.variant_by_sku("ANVIL-1") is None
        assert not selectors.products().exists()
    with schema_context("acme"):
        assert selectors.product_get(product.pk) == product


def test_the_same_sku_and_handle_in_two_tenants_is_fine(acme, globex):
    acme_product = _product_in("acme", "Anvil", "ANVIL-1")
    globex_product = _product_in("globex", "Anvil", "ANVIL-1")
    assert acme_product.handle == globex_product.handle == "anvil"
    with schema_context("globex"):
        assert selectors.variant_by_sku("ANVIL-1").product_id == globex_product.pk


def test_store_settings_belong_to_one_tenant(acme, globex):
    with schema_context("acme"):
        services.store_settings_update(default_currency="EUR", enabled_currencies=["EUR"])
    with schema_context("globex"):
        assert selectors.store_settings().default_currency == "USD"


def _permissions_of(group: str) -> set[str]:
    with schema_context("acme"):
        return {
            f"{label}.{codename}"
            for label, codename in Group.objects.get(name=group).permissions.values_list(
                "content_type__app_label", "codename"
            )
        }


COMMERCE_MODELS = sorted(
    model._meta.model_name for model in apps.get_app_config("commerce").get_models()
)


@pytest.mark.django_db
@pytest.mark.parametrize("model", COMMERCE_MODELS)
def test_merchant_may_manage_every_commerce_model(model):
    permissions = _permissions_of("Merchant")
    for action in ACTIONS:
        assert f"commerce.{action}_{model}" in permissions


@pytest.mark.django_db
@pytest.mark.parametrize("group", ["Editor", "Moderator"])
def test_other_groups_have_nothing_on_commerce(group):
    assert not any(perm.startswith("commerce.") for perm in _permissions_of(group))


def test_the_catalog_and_inventory_models_are_all_there():
    assert {"product", "variant", "price", "stocklevel", "stockadjustment", "reservation",
            "location", "collection", "category", "storesettings"} <= set(COMMERCE_MODELS)  # fmt: skip
