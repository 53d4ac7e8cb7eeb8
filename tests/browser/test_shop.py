"""The shop in a browser: choosing a variant on a product's page (with and without scripts),
and axe-core on the listing and a product's page."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from django_tenants.utils import schema_context
from selenium.webdriver.support.ui import Select

from apps.commerce import selectors as shop
from apps.commerce import services as commerce
from apps.commerce.services import ProductInput, VariantInput

from .conftest import TENANT, Browser, Site
from .test_accessibility import assert_accessible

pytestmark = pytest.mark.browser

HANDLE = "browser-jacket"
# (size, colour, price, compare-at, units): M/Red, L/Blue and S/Blue do not exist.
VARIANTS = (
    ("S", "Red", "100.00", None, 8),
    ("M", "Blue", "120.00", "150.00", 0),
    ("L", "Red", "130.00", None, 2),
)


@pytest.fixture
def jacket(site: Site, relay) -> Iterator[dict[str, str]]:
    """An active product with three of the six size and colour combinations, committed."""
    with schema_context(TENANT):
        location = shop.locations().first()
        made = commerce.product_create(data=ProductInput(title="Browser jacket", handle=HANDLE))
        commerce.option_create(product_id=made.pk, name="Size", values=["S", "M", "L"])
        commerce.option_create(product_id=made.pk, name="Colour", values=["Red", "Blue"])
        ids = {}
        for position, (size, colour, price, compare_at, units) in enumerate(VARIANTS):
            variant = commerce.variant_create(
                product_id=made.pk,
                data=VariantInput(
                    sku=f"BJ-{size}-{colour}", options={"Size": size, "Colour": colour},
                    position=position, low_stock_threshold=3,
                ),
            )  # fmt: skip
            currency = shop.store_settings().default_currency
            commerce.price_set(
                variant_id=variant.pk, currency=currency, amount=Decimal(price),
                compare_at_amount=compare_at,
            )  # fmt: skip
            if units:
                commerce.stock_set(variant_id=variant.pk, location_id=location.pk, on_hand=units)
            ids[f"{size}/{colour}"] = str(variant.pk)
        commerce.product_transition(product_id=made.pk, action="activate")
    relay()
    yield ids
    with schema_context(TENANT):
        commerce.product_transition(product_id=made.pk, action="draft")
        commerce.product_delete(product_id=made.pk)
    relay()


def _text(browser: Browser, css: str) -> str:
    element = browser.find(css)
    return element.text if element.is_displayed() else ""


def _disabled(select: Select) -> list[str]:
    return [option.get_attribute("value") for option in select.options if not option.is_enabled()]


def test_choosing_a_variant_updates_price_and_stock(browser: Browser, site: Site, jacket):
    browser.go(site.url(f"/shop/{HANDLE}/"))
    size = Select(browser.visible('select[data-option="Size"]'))
    colour = Select(browser.visible('select[data-option="Colour"]'))
    # With scripts, one select per option; the plain list of variants is hidden.
    assert not browser.find("[data-variant-field]").is_displayed()
    assert size.first_selected_option.text == "S" and colour.first_selected_option.text == "Red"
    assert _text(browser, "[data-price]") == "€100.00"
    assert _text(browser, "[data-stock]") == "In stock"
    assert _text(browser, "[data-compare-at]") == ""
    # Options are chosen in order: every size, and the colours that size comes in.
    assert _disabled(size) == []
    assert _disabled(colour) == ["Blue"]  # S comes in red only

    # M comes in blue only: the colour follows, and so does the page, without a reload.
    size.select_by_value("M")
    browser.wait(lambda _driver: _text(browser, "[data-price]") == "€120.00", "the M price")
    assert colour.first_selected_option.text == "Blue"
    assert _disabled(colour) == ["Red"]
    assert _text(browser, "[data-compare-at]") == "€150.00"
    assert _text(browser, "[data-stock]") == "Out of stock"
    assert _text(browser, "[data-sku]") == "BJ-M-Blue"
    assert browser.driver.current_url.endswith(f"variant={jacket['M/Blue']}")

    size.select_by_value("L")
    browser.wait(lambda _driver: _text(browser, "[data-price]") == "€130.00", "the L price")
    assert colour.first_selected_option.text == "Red"
    assert _text(browser, "[data-compare-at]") == ""
    assert _text(browser, "[data-stock]") == "Only 2 left"
    assert_accessible(browser, "a product's page after choosing a variant")


def test_without_scripts_the_variant_list_works(browser: Browser, site: Site, jacket):
    browser.javascript(enabled=False)
    browser.go(site.url(f"/shop/{HANDLE}/?lang=de"))
    assert not browser.find('select[data-option="Size"]').is_displayed()
    variant = Select(browser.visible("select[name=variant]"))
    assert [option.text.split(" \u2013 ")[0] for option in variant.options] == [
        "S / Red", "M / Blue", "L / Red",
    ]  # fmt: skip
    variant.select_by_value(jacket["L/Red"])
    browser.click("[data-variant-submit]")
    browser.wait_for_url(lambda url: jacket["L/Red"] in url, "the chosen variant's page")
    # (WebDriver reads the non-breaking space Babel puts before the sign as a plain one.)
    assert browser.find("[data-price]").text == "130,00 €"
    assert browser.find("[data-stock]").text == "Nur noch 2 vorrätig"


@pytest.mark.parametrize(
    "path", ["/shop/", "/shop/?opt=Size:M&sort=price_asc", "/shop/ridgeline-2-tent/"]
)
def test_the_shops_pages_are_accessible(browser: Browser, site: Site, viewport, path: str):
    browser.go(site.url(path))
    browser.visible("main")
    assert_accessible(browser, path)
