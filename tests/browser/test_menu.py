"""The header's menu: folded behind a toggle on a phone, opened by click, keyboard and without
JavaScript; always shown on a wide screen, where its sub-menu is not open until asked for."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.keys import Keys

from .conftest import DESKTOP, MOBILE, Browser, Site

pytestmark = pytest.mark.browser

TOGGLE = "header details.nav-toggle > summary"
TOP_LINKS = "header .menu--header .menu__list--1 > .menu__item > a"
SUB_TOGGLE = "header .menu--header .menu__sub > summary"
SUB_LINKS = "header .menu--header .menu__list--2 a"
MAX_CLOSED_HEADER_PX = 80
TABLET = (700, 1000)  # still below the breakpoint (48rem)


def shown(browser: Browser, css: str) -> list[bool]:
    return [element.is_displayed() for element in browser.find_all(css)]


def header_height(browser: Browser) -> float:
    return browser.script("return document.querySelector('header').getBoundingClientRect().height")


def is_open(browser: Browser, css: str) -> bool:
    return browser.script("return document.querySelector(arguments[0]).open", css)


def focus_by_tab(browser: Browser, css: str, *, limit: int = 20) -> None:
    """Press Tab from the top of the page until ``css`` has the focus (as a keyboard user does)."""
    target = browser.find(css)
    body = browser.find("body")
    body.click()
    for _ in range(limit):
        browser.driver.switch_to.active_element.send_keys(Keys.TAB)
        if browser.driver.switch_to.active_element == target:
            return
    pytest.fail(f"{css} is not reached with {limit} presses of Tab")


@pytest.mark.parametrize("size", [MOBILE, TABLET], ids=["phone", "tablet"])
def test_on_a_narrow_screen_the_menu_is_folded_behind_a_toggle_that_opens_on_click(
    browser: Browser, site: Site, size: tuple[int, int]
):
    browser.viewport(*size)
    browser.go(site.url("/"))
    toggle = browser.visible(TOGGLE)
    assert toggle.accessible_name  # a name for screen readers, though only an icon shows
    assert shown(browser, TOP_LINKS) == [False] * 5
    assert header_height(browser) <= MAX_CLOSED_HEADER_PX

    toggle.click()
    browser.wait(lambda _: all(shown(browser, TOP_LINKS)), "the menu's links do not show")
    assert header_height(browser) <= MAX_CLOSED_HEADER_PX  # the menu opens below, over the page
    # The sub-menu (About: the team, the history) stays folded until its own toggle is used.
    assert shown(browser, SUB_LINKS) == [False, False]
    browser.click(SUB_TOGGLE)
    browser.wait(lambda _: all(shown(browser, SUB_LINKS)), "the sub-menu does not open")

    toggle.click()
    browser.wait(lambda _: not any(shown(browser, TOP_LINKS)), "the menu does not close")


def test_on_a_phone_the_menu_opens_from_the_keyboard(browser: Browser, site: Site):
    browser.viewport(*MOBILE)
    browser.go(site.url("/"))
    focus_by_tab(browser, TOGGLE)
    active = browser.driver.switch_to.active_element
    assert browser.script(
        "const s = getComputedStyle(arguments[0]); return s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0",
        active,
    ), "the focused toggle shows no focus ring"

    active.send_keys(Keys.ENTER)
    browser.wait(lambda _: all(shown(browser, TOP_LINKS)), "Enter does not open the menu")
    active.send_keys(Keys.SPACE)
    browser.wait(lambda _: not any(shown(browser, TOP_LINKS)), "Space does not close the menu")
    active.send_keys(Keys.SPACE)
    browser.wait(lambda _: all(shown(browser, TOP_LINKS)), "Space does not open the menu")

    # Tab goes on into the menu: its links, then the sub-menu's toggle, which Enter opens.
    focus_by_tab(browser, SUB_TOGGLE)
    browser.driver.switch_to.active_element.send_keys(Keys.ENTER)
    browser.wait(lambda _: all(shown(browser, SUB_LINKS)), "Enter does not open the sub-menu")
    browser.driver.switch_to.active_element.send_keys(Keys.TAB)
    assert browser.driver.switch_to.active_element == browser.find_all(SUB_LINKS)[0]


def test_without_javascript_the_menu_still_opens(browser: Browser, site: Site):
    browser.javascript(enabled=False)
    browser.viewport(*MOBILE)
    browser.go(site.url("/"))
    browser.click(TOGGLE)
    browser.wait(lambda _: all(shown(browser, TOP_LINKS)), "the menu does not open without JS")
    browser.click(SUB_TOGGLE)
    browser.wait(lambda _: all(shown(browser, SUB_LINKS)), "the sub-menu does not open without JS")
    browser.find_all(TOP_LINKS)[-1].click()  # Forum
    browser.wait_for_url(lambda url: url.endswith("/forum/"), "the menu's link does not lead on")


def test_without_javascript_a_wide_screen_shows_the_menu(browser: Browser, site: Site):
    browser.javascript(enabled=False)
    browser.viewport(*DESKTOP)
    browser.go(site.url("/"))
    # Scripts are off: nothing opened the <details>; CSS shows its content all the same.
    assert not is_open(browser, "header details.nav-toggle")
    links = browser.find_all(TOP_LINKS)
    hits = [
        browser.script(
            "const r = arguments[0].getBoundingClientRect();"
            "return document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2) === arguments[0]",
            link,
        )
        for link in links
    ]
    assert len(links) == 5 and all(hits), "the menu's links are not on screen"
    assert not browser.find(TOGGLE).is_displayed()


def test_on_a_wide_screen_the_menu_shows_and_its_sub_menu_opens_on_demand(
    browser: Browser, site: Site
):
    browser.viewport(*DESKTOP)
    browser.go(site.url("/"))
    assert not browser.find(TOGGLE).is_displayed()
    assert shown(browser, TOP_LINKS) == [True] * 5
    assert shown(browser, SUB_LINKS) == [False, False]
    focus_by_tab(browser, SUB_TOGGLE)
    browser.driver.switch_to.active_element.send_keys(Keys.ENTER)
    browser.wait(lambda _: all(shown(browser, SUB_LINKS)), "the sub-menu does not open")
    browser.find_all(SUB_LINKS)[0].click()
    browser.wait_for_url(lambda url: url.endswith("/about/team/"), "the sub-menu's link")
    assert (
        browser.find("header .menu--header a[aria-current=page]")
        .get_attribute("href")
        .endswith("/about/team/")
    )
