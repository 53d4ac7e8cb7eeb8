"""axe-core on the main pages, at desktop and phone widths: no serious or critical violation.

Every violation axe finds is named in the failure message, the minor ones too, so that a
fix can take them along.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import ADMIN_PASSWORD, TEST_TENANTS

from .conftest import Browser, Site, log_in

pytestmark = pytest.mark.browser

BLOCKING = {"serious", "critical"}

SITE_PAGES = {
    "home": "/",
    "post": "/blog/hello-world/",
    "blog index": "/blog/",
    "search results": "/blog/search/?q=guide",
    "site search": "/search/?q=tent",
    "page": "/about/team/",
    "404": "/no-such-page/",
    "admin login": "/admin/login/",
}


def assert_accessible(browser: Browser, what: str) -> None:
    violations: list[dict[str, Any]] = browser.axe_violations()
    blocking = [violation for violation in violations if violation["impact"] in BLOCKING]
    listed = "; ".join(
        f"{violation['id']} ({violation['impact']}) at {', '.join(violation['targets'])}"
        for violation in violations
    )
    assert not blocking, f"{what}: axe-core finds {listed}"


@pytest.mark.parametrize("path", SITE_PAGES.values(), ids=SITE_PAGES.keys())
def test_the_sites_main_pages(browser: Browser, site: Site, viewport, path: str):
    browser.go(site.url(path))
    browser.visible("main, #content")
    assert_accessible(browser, path)


def test_the_sites_menu_when_open_on_a_phone(browser: Browser, site: Site):
    browser.viewport(390, 844)
    browser.go(site.url("/"))
    browser.click("header details.nav-toggle > summary")
    browser.click("header .menu__sub > summary")
    browser.visible("header .menu__list--2 a")
    assert_accessible(browser, "the open menu")


def test_the_admins_list_of_posts(browser: Browser, site: Site, viewport):
    log_in(browser, site.url("/admin/"), username=TEST_TENANTS["acme"][1], password=ADMIN_PASSWORD)
    browser.go(site.url("/admin/blog/post/"))
    browser.visible("#result_list")
    assert_accessible(browser, "the posts' changelist")


def test_the_operators_admin(browser: Browser, site: Site, viewport, operator):
    username, password = operator
    log_in(browser, site.public_url("/admin/"), username=username, password=password)
    browser.visible("#content-main")
    assert_accessible(browser, "the operators' admin index")
