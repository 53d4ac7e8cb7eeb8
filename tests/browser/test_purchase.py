"""The whole purchase in Chromium: from the shop's listing to the confirmation, paid with the
test card through the fake gateway, then the order in the merchant's admin with its timeline.
axe-core audits the cart, the review and the payment step at both widths."""

from __future__ import annotations

import re

import pytest
from selenium.webdriver.support.expected_conditions import staleness_of
from selenium.webdriver.support.ui import Select

from tests.conftest import ADMIN_PASSWORD, TEST_TENANTS

from .conftest import DESKTOP, MOBILE, Browser, Site, log_in
from .test_accessibility import assert_accessible

pytestmark = pytest.mark.browser

PRODUCT = "/shop/ridgeline-2-tent/"
GERMAN_ADDRESS = {
    "name": "Erika Mustermann",
    "street": "Heidestraße 17",
    "postal_code": "51147",
    "city": "Köln",
}


def _submit(browser: Browser, form_css: str, path: str) -> None:
    """Press the form's last button (its main one) and wait for the page behind ``path``."""
    browser.find_all(f"{form_css} button[type=submit]")[-1].click()
    browser.wait_for_url(lambda url: path in url, f"the page at {path}")


def _audit(browser: Browser, what: str, width: int) -> None:
    """axe-core finds nothing serious, and the page does not scroll sideways."""
    assert_accessible(browser, what)
    page_width = browser.script("return document.documentElement.scrollWidth")
    assert page_width <= width, f"{what}: the page is {page_width} px wide in a {width} px window"


def _to_payment(browser: Browser, site: Site, *, width: int) -> None:
    """Listing, product, variant, cart, then every checkout step up to the payment page;
    the cart, the review and the payment step audited at the window's ``width``."""
    browser.go(site.url("/shop/"))
    browser.click(f'main a[href="{PRODUCT}"]')
    browser.wait_for_url(lambda url: PRODUCT in url, "the tent's page")
    Select(browser.visible('select[data-option="Colour"]')).select_by_value("Sand")
    browser.wait_for_url(lambda url: "variant=" in url, "the Sand variant chosen")
    browser.click("form.add-to-cart button[type=submit]")
    browser.visible(".mini-cart__count")
    browser.click("a.mini-cart")
    browser.wait_for_url(lambda url: url.endswith("/cart/"), "the cart")
    line = browser.visible(".cart-line")
    assert "Ridgeline 2 tent" in line.text and "Sand" in line.text
    _audit(browser, "the cart", width)

    browser.click(".cart__summary a.button")
    browser.visible("input[name=email]").send_keys("erika@example.com")
    _submit(browser, ".checkout form", "/checkout/address/")
    country = browser.visible("select[name=country]")
    Select(country).select_by_value("DE")
    browser.click("button[name=refresh]")  # the fields a German address has
    # The page comes again: fields found before it has would be the old page's, and what is
    # typed into them would be lost with it.
    browser.wait(staleness_of(country), "the address form again")
    browser.wait(lambda driver: browser.find_all("input[name=postal_code]"), "the DE fields")
    for name, value in GERMAN_ADDRESS.items():
        field = browser.find(f"input[name={name}]")
        field.clear()
        field.send_keys(value)
    _submit(browser, ".checkout form", "/checkout/shipping/")
    browser.click("input[name=shipping_method]")
    _submit(browser, ".checkout form", "/checkout/review/")
    review = browser.visible(".checkout-summary").text
    assert "Erika Mustermann" in review and "51147 Köln" in review
    _audit(browser, "the review step", width)

    browser.click('form[action^="/checkout/payment/"] button[type=submit]')
    browser.visible("form.payment-form")
    assert "4242 4242 4242 4242" in browser.find(".test-cards").text
    _audit(browser, "the payment step", width)


def test_a_shopper_pays_by_card_and_the_merchant_sees_the_order(browser: Browser, site: Site):
    _to_payment(browser, site, width=DESKTOP[0])
    browser.click("input[name=provider][value=test_card]")
    for name, value in (("card_number", "4242 4242 4242 4242"), ("card_expiry_month", "12"),
                        ("card_expiry_year", "2099"), ("card_cvc", "123")):  # fmt: skip
        browser.find(f"input[name={name}]").send_keys(value)
    browser.find("form.payment-form button[type=submit]").click()
    browser.wait_for_url(lambda url: url.endswith("/checkout/complete/"), "the confirmation")
    confirmation = browser.visible(".order-number").text
    number = re.fullmatch(r"Your order number is (\d+)\.", confirmation)
    assert number, confirmation
    assert "Your payment was received." in browser.find("main").text

    # The merchant finds the order by its number, and its timeline tells the story.
    admin = TEST_TENANTS["acme"][1]
    log_in(browser, site.url("/admin/"), username=admin, password=ADMIN_PASSWORD)
    browser.go(site.url(f"/admin/commerce/order/?q={number[1]}"))
    browser.click("#result_list a.list-title")
    events = browser.visible(".order-timeline")
    kinds = [item.text for item in events.find_elements("css selector", ".order-event-type")]
    assert kinds == ["Placed", "Marked as paid"]
    assert f"#{number[1]}" in browser.find("#content").text


def test_the_checkout_is_accessible_on_a_phone(browser: Browser, site: Site):
    browser.viewport(*MOBILE)
    _to_payment(browser, site, width=MOBILE[0])
