"""Tax rates, shipping methods with their rates and vouchers with their amounts, written
through the checkout settings' services; refusals on the inline row they name."""

from __future__ import annotations

from decimal import Decimal

from django_tenants.utils import schema_context

from apps.commerce import checkout_settings
from apps.commerce.models import ShippingMethod, TaxRate, Voucher

from .conftest import ADMIN, errors_of, events, form_data


def test_a_tax_rate_is_set_and_a_bad_rate_refused(merchant_client):
    add = merchant_client.get(f"{ADMIN}taxrate/add/")
    refused = merchant_client.post(
        f"{ADMIN}taxrate/add/", form_data(add, country="DE", rate="1.5", name="VAT")
    )
    assert "rate" in errors_of(refused)
    response = merchant_client.post(
        f"{ADMIN}taxrate/add/", form_data(add, country="DE", rate="0.19", name="VAT")
    )
    assert response.status_code == 302, errors_of(response)
    with schema_context("acme"):
        assert TaxRate.objects.get().rate == Decimal("0.19")
    assert len(events("commerce.tax_rate.set", "DE")) == 1


def test_a_shipping_method_is_saved_with_its_rates_and_a_bad_rate_shows_on_its_row(
    merchant_client,
):
    with schema_context("acme"):
        zone = checkout_settings.shipping_zone_save(name="EU", countries=["DE", "FR"])
    add = merchant_client.get(f"{ADMIN}shippingmethod/add/")
    data = form_data(add, zone=str(zone.pk), name="Standard", name_de="Standardversand")
    data.update({"rates-0-currency": "XYZ", "rates-0-price": "4.90", "rates-0-free_over": ""})
    refused = merchant_client.post(f"{ADMIN}shippingmethod/add/", data)
    assert refused.status_code == 200
    assert "rates-0-currency" in errors_of(refused)
    data["rates-0-currency"] = "EUR"
    response = merchant_client.post(f"{ADMIN}shippingmethod/add/", data)
    assert response.status_code == 302, errors_of(response)
    with schema_context("acme"):
        method = ShippingMethod.objects.get()
        assert method.name_translations == {"de": "Standardversand"}
        assert list(method.rates.values_list("currency", "price")) == [("EUR", Decimal("4.90"))]


def test_a_voucher_is_saved_upper_case_with_its_amounts(merchant_client):
    add = merchant_client.get(f"{ADMIN}voucher/add/")
    data = form_data(add, code="spring", kind="fixed", active="on")
    data.update(
        {"amounts-0-currency": "EUR", "amounts-0-amount": "5", "amounts-0-min_subtotal": "20"}
    )
    response = merchant_client.post(f"{ADMIN}voucher/add/", data)
    assert response.status_code == 302, errors_of(response)
    with schema_context("acme"):
        voucher = Voucher.objects.get()
        assert voucher.code == "SPRING"
        assert list(voucher.amounts.values_list("currency", "amount", "min_subtotal")) == [
            ("EUR", Decimal("5.0000"), Decimal("20.0000"))
        ]
    change = merchant_client.get(f"{ADMIN}voucher/{voucher.pk}/change/")
    assert change.status_code == 200


def test_a_fixed_voucher_without_an_amount_is_refused(merchant_client):
    add = merchant_client.get(f"{ADMIN}voucher/add/")
    response = merchant_client.post(
        f"{ADMIN}voucher/add/", form_data(add, code="EMPTY", kind="fixed", active="on")
    )
    assert response.status_code == 200
    assert errors_of(response)
    with schema_context("acme"):
        assert not Voucher.objects.exists()
