"""What readers, editors and the platform's operators do, walked in Chromium at desktop and
phone widths. Elements are found by role, name and structure, not by their English text."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from selenium.webdriver.common.by import By

from tests.conftest import ADMIN_PASSWORD, TEST_TENANTS

from .conftest import Browser, Site, log_in

pytestmark = pytest.mark.browser


def path_of(url: str) -> str:
    return urlsplit(url).path


def follow(browser: Browser, css: str) -> str:
    """Click the link ``css`` and wait for its page; its path.

    Only the path is compared: a bare link followed by a reader who chose another
    language comes back with ``?lang=`` (the locale rule's redirect).
    """
    link = browser.visible(css)
    target = path_of(link.get_attribute("href"))
    link.click()
    browser.wait_for_url(lambda url: path_of(url) == target, f"{css} does not lead to {target}")
    return target


def open_menu_if_folded(browser: Browser) -> None:
    toggle = browser.find("header details.nav-toggle > summary")
    if toggle.is_displayed() and not browser.script(
        "return arguments[0].parentElement.open", toggle
    ):
        toggle.click()


def heading(browser: Browser) -> str:
    return browser.visible("main h1").text


def test_a_reader_walks_the_site(browser: Browser, site: Site, viewport):
    browser.go(site.url("/"))
    assert browser.script("return document.documentElement.lang") == "en"

    # home -> the blog (its call to action) -> a post, from its card
    follow(browser, "main a[href='/blog/']")
    card = browser.visible("main .post-card__title a")
    title = card.text
    follow(browser, "main .post-card__title a")
    assert heading(browser) == title

    # the post's category, then one of its tags: listings that name it
    category = follow(browser, "main a[href^='/blog/category/']")
    assert category.startswith("/blog/category/")
    assert browser.find_all("main .post-card")
    tag = follow(browser, "main .post-card a[rel=tag]")
    assert tag.startswith("/blog/tag/") and browser.find_all("main .post-card")

    # search the blog for a word of a post's title
    query = browser.visible("form[role=search] input[name=q]")
    query.send_keys("guide")
    query.submit()
    browser.wait_for_url(lambda url: "/search/" in url and "q=guide" in url, "no search")
    results = browser.find_all("main .search-result a")
    assert results and any("guide" in result.text.lower() for result in results)

    # the archive: a month of posts
    browser.go(site.url("/blog/"))
    month = follow(browser, "main .blog-archive a[href^='/blog/archive/']")
    assert month.startswith("/blog/archive/") and browser.find_all("main .post-card")

    # switch to German: the page and its menu speak German
    follow(browser, "header .locale-switcher a[hreflang=de]")
    browser.wait(
        lambda driver: driver.execute_script("return document.documentElement.lang") == "de"
    )
    assert (
        browser.find("header .locale-switcher a[aria-current=true]").get_attribute("hreflang")
        == "de"
    )

    # a page of the menu (About), still in German
    open_menu_if_folded(browser)
    page = follow(browser, "header .menu--header .menu__item--parent > a")
    assert page == "/ueber-uns/" and heading(browser)
    assert browser.script("return document.documentElement.lang") == "de"

    # an address that leads nowhere: the site's own 404 page, with its header and menu
    browser.go(site.url("/no-such-page/"))
    assert browser.visible("main .error-page h1").text
    assert browser.find("main .error-page__code").text == "404"
    assert browser.find_all("header nav.menu--header")


def test_an_editor_writes_previews_and_publishes_a_post(
    browser: Browser, site: Site, viewport, relay: Callable[[], None]
):
    title = f"Notes from the browser at {viewport[0]} px"
    slug = f"notes-from-the-browser-at-{viewport[0]}-px"
    log_in(browser, site.url("/admin/"), username=TEST_TENANTS["acme"][1], password=ADMIN_PASSWORD)
    # The admin's index -> Posts -> Add
    follow(browser, "#content-main a[href$='/admin/blog/post/']")
    assert browser.find_all("#result_list")
    follow(browser, "#content-main a.addlink, .object-tools a.addlink")

    browser.visible("input[name$='-0-title']").send_keys(title)
    browser.find("textarea[name$='-0-body']").send_keys("Written in *Chromium*, word by word.")
    browser.find("input[name=_continue]").click()
    browser.wait_for_url(lambda url: path_of(url).endswith("/change/"), "the draft is not saved")
    assert browser.find_all(".messagelist .success")

    # Preview: the draft as the site will show it, to staff only
    preview = browser.visible(".object-tools a[href*='/preview/']").get_attribute("href")
    change_page = browser.driver.current_url
    browser.go(preview)
    assert heading(browser) == title
    browser.go(site.url(f"/blog/{slug}/"))
    assert browser.find_all("main .error-page"), "a draft must not be on the site"

    # Publish it from its page, then a worker delivers the events
    browser.go(change_page)
    browser.click(".object-tools form[action*='/transition/publish/'] button")
    browser.wait(
        lambda driver: driver.find_elements(By.CSS_SELECTOR, ".messagelist .success"),
        "publishing says nothing",
    )
    relay()

    browser.go(site.url("/blog/"))
    card = browser.wait(
        lambda driver: [
            link
            for link in driver.find_elements(By.CSS_SELECTOR, "main .post-card__title a")
            if link.text == title
        ],
        "the published post is not on the blog",
    )[0]
    card.click()
    browser.wait_for_url(lambda url: path_of(url) == f"/blog/{slug}/")
    assert heading(browser) == title


def test_an_operator_opens_the_tenants(browser: Browser, site: Site, viewport, operator):
    username, password = operator
    log_in(browser, site.public_url("/admin/"), username=username, password=password)
    follow(browser, "#content-main a[href$='/admin/tenancy/tenant/']")
    rows = browser.find_all("#result_list tbody tr")
    assert len(rows) >= 2
    follow(browser, "#result_list a[href*='/admin/tenancy/tenant/'][href$='/change/']")
    assert browser.visible("input[name=name]").get_attribute("value") in {
        name for name, _email in TEST_TENANTS.values()
    }
