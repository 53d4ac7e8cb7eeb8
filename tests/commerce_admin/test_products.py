"""Merchants edit products, options, variants, prices and translations through the services."""

from __future__ import annotations

import re
from decimal import Decimal

from django_tenants.utils import schema_context

from apps.commerce import services
from apps.commerce.models import Price, Product, ProductStatus, ProductTranslation, Variant

from .conftest import (
    PRODUCTS,
    add_inline,
    errors_of,
    events,
    form_data,
    make_product,
    make_variant,
    messages_of,
    page,
    product_url,
)

VARIANT = {
    "sku": "",
    "barcode": "",
    "weight_grams": "",
    "position": "0",
    "inventory_policy": "deny",
    "tracked": "on",
    "low_stock_threshold": "0",
    "price_USD": "",
    "compare_at_USD": "",
    "price_EUR": "",
    "compare_at_EUR": "",
}


def test_a_merchant_adds_a_product_with_a_priced_variant(merchant_client, shop):
    add = merchant_client.get(f"{PRODUCTS}add/")
    data = form_data(add, title="Linen shirt", vendor="Acme Mills")
    add_inline(data, "variants", **{**VARIANT, "sku": "LIN-S", "price_USD": "19.90"})

    response = merchant_client.post(f"{PRODUCTS}add/", data)

    assert response.status_code == 302, errors_of(response)
    with schema_context("acme"):
        product = Product.objects.get(handle="linen-shirt")
        assert product.vendor == "Acme Mills"
        variant = Variant.objects.get(product=product)
        assert variant.sku == "LIN-S"
        assert Price.objects.get(variant=variant, currency="USD").amount == Decimal("19.90")
    assert len(events("commerce.product.created", product.pk)) == 1
    assert [e.payload["sku"] for e in events("commerce.variant.created", product.pk)] == ["LIN-S"]
    assert len(events("commerce.price.set", product.pk)) == 1


def test_a_merchant_changes_a_product_and_adds_an_option(merchant_client, shop):
    product = make_product("Linen shirt")
    make_variant(product, "LIN-1", price="10")
    data = form_data(merchant_client.get(product_url(product)), title="Linen shirt, washed")
    add_inline(data, "options", name="Size", values="S, M, L")

    response = merchant_client.post(product_url(product), data)

    assert response.status_code == 302, errors_of(response)
    with schema_context("acme"):
        product.refresh_from_db()
        assert product.title == "Linen shirt, washed"
        option = product.options.get()
        assert [v.value for v in option.values.all()] == ["S", "M", "L"]
    assert events("commerce.product.updated", product.pk)
    # The variant's option field is offered on the next visit, with its value chosen.
    form = merchant_client.get(product_url(product)).context["inline_admin_formsets"][1]
    assert form.formset.forms[0][f"option_{option.pk}"].value() == "S"


def test_a_compare_at_price_not_higher_is_refused_on_its_field(merchant_client, shop):
    product = make_product()
    data = form_data(merchant_client.get(product_url(product)))
    add_inline(
        data, "variants", **{**VARIANT, "sku": "CMP-1", "price_USD": "20", "compare_at_USD": "15"}
    )

    response = merchant_client.post(product_url(product), data)

    errors = errors_of(response)
    assert "must be higher than the price" in str(errors["variants-0-compare_at_USD"])
    with schema_context("acme"):
        assert not Variant.objects.filter(sku="CMP-1").exists()  # the whole save rolled back
        assert not Price.objects.exists()
    assert not events("commerce.variant.created", product.pk)


def test_a_duplicate_sku_is_refused_on_its_field(merchant_client, shop):
    make_variant(make_product("Other"), "TAKEN")
    product = make_product()
    data = form_data(merchant_client.get(product_url(product)), title="Renamed")
    add_inline(data, "variants", **{**VARIANT, "sku": "TAKEN"})

    response = merchant_client.post(product_url(product), data)

    assert "variants-0-sku" in errors_of(response)
    with schema_context("acme"):
        product.refresh_from_db()
        assert product.title == "Linen shirt"
        assert Variant.objects.filter(sku="TAKEN").count() == 1


def test_a_duplicate_sku_changed_on_a_stored_variant_is_refused(merchant_client, shop):
    make_variant(make_product("Other"), "TAKEN")
    product = make_product()
    make_variant(product, "MINE")
    data = form_data(merchant_client.get(product_url(product)), **{"variants-0-sku": "TAKEN"})

    response = merchant_client.post(product_url(product), data)

    assert "variants-0-sku" in errors_of(response)
    with schema_context("acme"):
        assert Variant.objects.filter(product=product).get().sku == "MINE"


def test_a_translation_is_written_for_another_enabled_locale(merchant_client, shop, acme_de):
    product = make_product()
    data = form_data(merchant_client.get(product_url(product)))
    add_inline(
        data,
        "translations",
        locale="de",
        title="Leinenhemd",
        description_format="markdown",
        description="",
        seo_title="",
        seo_description="",
    )

    response = merchant_client.post(product_url(product), data)

    assert response.status_code == 302, errors_of(response)
    with schema_context("acme"):
        assert ProductTranslation.objects.get(product=product, locale="de").title == "Leinenhemd"


def test_the_translation_inline_offers_only_other_enabled_locales(merchant_client, acme_de):
    product = make_product()
    response = merchant_client.get(product_url(product))
    (inline,) = [
        i for i in response.context["inline_admin_formsets"] if i.formset.prefix == "translations"
    ]
    assert inline.formset.max_num == 1
    assert [code for code, _ in inline.formset.empty_form.fields["locale"].choices] == ["de"]


def test_activating_an_unpriced_product_is_refused_and_reported(merchant_client, shop):
    product = make_product()
    response = merchant_client.post(product_url(product, "transition/activate/"), follow=True)

    (message,) = messages_of(response)
    assert "Linen shirt" in message and "USD" in message
    assert message.startswith("“Linen shirt” was not activated")
    with schema_context("acme"):
        product.refresh_from_db()
    assert product.status == ProductStatus.DRAFT
    assert not events("commerce.product.activated", product.pk)


def test_the_change_form_offers_the_transitions_of_the_status(merchant_client, shop):
    product = make_product()
    make_variant(product, price="5")
    content = page(merchant_client.get(product_url(product)))
    assert "transition/activate/" in content and "transition/archive/" not in content

    response = merchant_client.post(product_url(product, "transition/activate/"), follow=True)

    assert response.status_code == 200
    assert messages_of(response) == ["Activated 1 product: “Linen shirt”."]
    with schema_context("acme"):
        product.refresh_from_db()
    assert product.status == ProductStatus.ACTIVE
    assert len(events("commerce.product.activated", product.pk)) == 1
    content = page(merchant_client.get(product_url(product)))
    assert "transition/archive/" in content and "transition/activate/" not in content


def test_an_unknown_transition_is_404(merchant_client):
    product = make_product()
    assert merchant_client.post(product_url(product, "transition/publish/")).status_code == 404
    assert merchant_client.get(product_url(product, "transition/activate/")).status_code == 405


def test_bulk_activation_reports_done_and_refused(merchant_client, shop):
    priced = make_product("Priced")
    make_variant(priced, price="5")
    unpriced = make_product("Unpriced")

    response = merchant_client.post(
        PRODUCTS,
        {"action": "activate_selected", "_selected_action": [priced.pk, unpriced.pk]},
        follow=True,
    )

    done, refused = messages_of(response)
    assert "“Priced”" in done and "Unpriced" not in done
    assert "“Unpriced”" in refused and "USD" in refused
    with schema_context("acme"):
        assert Product.objects.get(pk=priced.pk).status == ProductStatus.ACTIVE
        assert Product.objects.get(pk=unpriced.pk).status == ProductStatus.DRAFT


def test_the_bulk_actions_are_those_of_the_transition_table(merchant_client):
    make_product()
    actions = merchant_client.get(PRODUCTS).context["action_form"].fields["action"].choices
    assert [name for name, _ in actions if name] == [
        "activate_selected",
        "archive_selected",
        "draft_selected",
        "export_catalog_csv",
        "delete_selected",
    ]


def test_deleting_an_active_product_is_refused(merchant_client, shop):
    product = make_product()
    make_variant(product, price="5")
    merchant_client.post(product_url(product, "transition/activate/"))

    response = merchant_client.post(product_url(product, "delete/"), {"post": "yes"}, follow=True)

    message = messages_of(response)[-1]
    assert "active product cannot be deleted" in message
    with schema_context("acme"):
        assert Product.objects.filter(pk=product.pk).exists()
    assert not events("commerce.product.deleted", product.pk)


def test_bulk_delete_deletes_drafts_and_reports_active_ones(merchant_client, shop):
    draft = make_product("Draft one")
    active = make_product("Active one")
    make_variant(active, price="5")
    merchant_client.post(product_url(active, "transition/activate/"))

    response = merchant_client.post(
        PRODUCTS,
        {"action": "delete_selected", "_selected_action": [draft.pk, active.pk], "post": "yes"},
        follow=True,
    )

    deleted, refused = messages_of(response)[-2:]
    assert "“Draft one”" in deleted
    assert "“Active one”" in refused
    with schema_context("acme"):
        assert list(Product.objects.values_list("title", flat=True)) == ["Active one"]
    assert len(events("commerce.product.deleted", draft.pk)) == 1


def test_no_uuid_in_breadcrumbs_title_or_messages(merchant_client, shop):
    product = make_product()
    make_variant(product, price="5")
    content = page(merchant_client.get(product_url(product)))
    breadcrumbs = content.split('<div class="breadcrumbs">', 1)[1].split("</div>", 1)[0]
    assert "Linen shirt" in breadcrumbs and str(product.pk) not in breadcrumbs
    title = content.split("<title>", 1)[1].split("</title>", 1)[0]
    assert str(product.pk) not in title

    data = form_data(merchant_client.get(product_url(product)), title="Linen shirt II")
    response = merchant_client.post(product_url(product), data, follow=True)
    (message,) = [re.sub(r"<[^>]+>", "", text) for text in messages_of(response)]
    assert "Linen shirt II" in message and str(product.pk) not in message
    response = merchant_client.post(product_url(product, "transition/activate/"), follow=True)
    assert all(str(product.pk) not in message for message in messages_of(response))


def active_product():
    product = make_product()
    variant = make_variant(product, "ONLY", price="5")
    with schema_context("acme"):
        services.product_transition(product_id=product.pk, action="activate")
    return product, variant


def test_deleting_an_active_product_s_last_priced_variant_is_refused(merchant_client, shop):
    product, variant = active_product()
    data = form_data(merchant_client.get(product_url(product)), **{"variants-0-DELETE": "on"})

    response = merchant_client.post(product_url(product), data)

    (error,) = errors_of(response)["__all__"]
    assert error.startswith("ONLY: ") and "priced in USD" in error
    with schema_context("acme"):
        assert Variant.objects.filter(pk=variant.pk).exists()
    assert not events("commerce.variant.deleted", product.pk)


def test_clearing_an_active_product_s_last_price_is_refused_on_the_price(merchant_client, shop):
    product, variant = active_product()
    data = form_data(merchant_client.get(product_url(product)), **{"variants-0-price_USD": ""})

    response = merchant_client.post(product_url(product), data)

    assert "priced in USD" in str(errors_of(response)["variants-0-price_USD"])
    with schema_context("acme"):
        assert Price.objects.filter(variant=variant, currency="USD").exists()


def test_a_price_is_changed_and_a_compare_at_price_added(merchant_client, shop):
    product = make_product()
    variant = make_variant(product, "ONE", price="5")
    data = form_data(
        merchant_client.get(product_url(product)),
        **{
            "variants-0-price_USD": "4.50",
            "variants-0-compare_at_USD": "6",
            "variants-0-price_EUR": "4",
        },
    )

    response = merchant_client.post(product_url(product), data)

    assert response.status_code == 302, errors_of(response)
    with schema_context("acme"):
        prices = {
            p.currency: (p.amount, p.compare_at_amount)
            for p in Price.objects.filter(variant=variant)
        }
    assert prices == {"USD": (Decimal("4.50"), Decimal("6")), "EUR": (Decimal("4"), None)}
    assert len(events("commerce.price.set", product.pk)) == 3


def test_the_whole_form_is_one_product_save(merchant_client, shop, monkeypatch):
    product = make_product()
    with schema_context("acme"):
        size = services.option_create(product_id=product.pk, name="Size", values=["S", "M"])
        variant = services.variant_create(
            product_id=product.pk, data=services.VariantInput(sku="ONE", options={"Size": "S"})
        )
        services.price_set(variant_id=variant.pk, currency="USD", amount="5")
    calls = []
    for name in dir(services):
        function = getattr(services, name)
        if callable(function) and name.split("_")[0] in {"product", "option", "variant", "price"}:
            monkeypatch.setattr(services, name, _recorded(calls, name, function))
    data = form_data(
        merchant_client.get(product_url(product)),
        title="Renamed",
        **{"variants-0-price_USD": "6", "variants-0-barcode": "123"},
    )
    add_inline(
        data, "variants", **{**VARIANT, "sku": "TWO", "price_EUR": "4", f"option_{size.pk}": "M"}
    )
    add_inline(data, "options", name="Colour", values="Red, Blue")

    response = merchant_client.post(product_url(product), data)

    assert response.status_code == 302, errors_of(response)
    assert calls == ["product_save"]
    assert len(events("commerce.variant.created", product.pk)) == 2  # (ONE's too)
    assert len(events("commerce.price.set", product.pk)) == 3
    with schema_context("acme"):
        assert Variant.objects.get(sku="TWO").choices.get(option=size).value.value == "M"


def _recorded(calls, name, function):
    def recorded(*args, **kwargs):
        calls.append(name)
        return function(*args, **kwargs)

    return recorded


def test_a_refusal_lands_on_the_inline_form_and_field_it_names(merchant_client, shop):
    product = make_product()
    with schema_context("acme"):
        services.option_create(product_id=product.pk, name="Size", values=["S", "M", "L"])
    with schema_context("acme"):
        for sku, size in (("S-1", "S"), ("M-1", "M")):
            services.variant_create(
                product_id=product.pk, data=services.VariantInput(sku=sku, options={"Size": size})
            )
    data = form_data(
        merchant_client.get(product_url(product)),
        title="Renamed",
        **{
            "variants-0-barcode": "111",  # valid, changed
            "variants-1-price_EUR": "4",
            "variants-1-compare_at_EUR": "3",  # refused
        },
    )

    response = merchant_client.post(product_url(product), data)

    errors = errors_of(response)
    assert set(errors) == {"__all__", "variants-1-compare_at_EUR"}
    assert "must be higher" in str(errors["variants-1-compare_at_EUR"])
    with schema_context("acme"):
        product.refresh_from_db()
        assert product.title == "Linen shirt"
        assert Variant.objects.get(sku="S-1").barcode == ""
        assert not Price.objects.filter(currency="EUR").exists()

    data = form_data(
        merchant_client.get(product_url(product)),
        **{"options-0-values": "S, M, L, S", "variants-1-sku": "M-2"},
    )
    errors = errors_of(merchant_client.post(product_url(product), data))
    assert set(errors) == {"__all__", "options-0-values"}
    assert "given twice" in str(errors["options-0-values"])
    with schema_context("acme"):
        assert Variant.objects.filter(sku="M-1").exists()
