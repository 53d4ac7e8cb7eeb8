"""Browser tests: Debian's Chromium driven by Debian's chromedriver against the live server.

What a person sees (menus that open, pages that read in the right language, an
admin that works) is checked in a real browser, and axe-core audits the main
pages. Nothing is downloaded at run time: the browser and the driver are the
system's (``scripts/system-packages.sh``, run by ``make install``), axe-core is
the pinned npm package (``npm ci``, also ``make install``). The browser talks
only to the live server on 127.0.0.1, so the suite runs in ``make test-embedded``'s
loopback-only network namespace too.

One browser serves the whole run. The site (the demo's pages, menus and posts in
English and German) is made once for this folder, committed so that the live
server's threads see it, and removed afterwards.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import override_settings
from django_tenants.utils import schema_context
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from apps.commerce.payments import fake_gateway
from apps.events.relay import drain
from apps.storefront.demo import seed_site
from apps.tenancy.models import Tenant
from apps.tenancy.resolver import tenant_cache
from tests.conftest import empty_outbox
from tests.storefront.demo_support import wipe_demo

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
AXE_JS = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"

FAILURE_SHOTS = Path(settings.BASE_DIR) / ".data" / "browser-failures"

DESKTOP = (1280, 900)
MOBILE = (390, 844)
WAIT_SECONDS = 10

TENANT = "acme"


# -- what the suite needs from the system ------------------------------------------------


def _missing_tools() -> list[str]:
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not os.access(path, os.X_OK)]
    if not AXE_JS.is_file():
        missing.append(str(AXE_JS))
    return missing


@pytest.fixture(scope="session")
def _browser_tools() -> None:
    """Fail in CI (a browser suite that silently skips proves nothing), skip elsewhere."""
    missing = _missing_tools()
    if not missing:
        return
    message = (
        f"browser tests need {', '.join(missing)}: `make install` installs Chromium and "
        "chromedriver (scripts/system-packages.sh, as root) and axe-core (npm ci)"
    )
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """A failed browser test leaves a screenshot of what the browser showed, and says where."""
    outcome = yield
    report = outcome.get_result()
    browser = getattr(item, "funcargs", {}).get("browser")
    if report.when != "call" or not report.failed or browser is None:
        return
    FAILURE_SHOTS.mkdir(parents=True, exist_ok=True)
    shot = FAILURE_SHOTS / (re.sub(r"[^A-Za-z0-9_.-]+", "_", item.nodeid) + ".png")
    browser.driver.save_screenshot(str(shot))
    report.sections.append(("browser", f"at {browser.driver.current_url}; screenshot {shot}"))


# -- the browser ---------------------------------------------------------------------------


class Browser:
    """A thin layer over Selenium's driver: viewport, waits, JavaScript on/off, axe-core."""

    def __init__(self, driver) -> None:
        self.driver = driver
        self._axe_source: str | None = None

    def viewport(self, width: int, height: int) -> None:
        self.driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
        )

    def javascript(self, *, enabled: bool) -> None:
        """Turn the pages' scripts off or on (WebDriver's own still run)."""
        self.driver.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": not enabled})

    def reset(self) -> None:
        """A fresh visitor: no cookies on any host, scripts on, a desktop window."""
        self.driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
        # Smooth scrolling would move a link on after WebDriver scrolled it into view.
        self.driver.execute_cdp_cmd(
            "Emulation.setEmulatedMedia",
            {"features": [{"name": "prefers-reduced-motion", "value": "reduce"}]},
        )
        self.javascript(enabled=True)
        self.viewport(*DESKTOP)

    def go(self, url: str) -> None:
        self.driver.get(url)

    def wait(self, condition: Callable[[Any], Any], message: str = "") -> Any:
        return WebDriverWait(self.driver, WAIT_SECONDS).until(condition, message)

    def wait_for_url(self, predicate: Callable[[str], bool], message: str = "") -> str:
        self.wait(lambda driver: predicate(driver.current_url), message)
        return self.driver.current_url

    def find(self, css: str):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def find_all(self, css: str) -> list:
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def visible(self, css: str):
        return self.wait(ec.visibility_of_element_located((By.CSS_SELECTOR, css)), css)

    def click(self, css: str) -> None:
        self.wait(ec.element_to_be_clickable((By.CSS_SELECTOR, css)), css).click()

    def script(self, source: str, *args: Any) -> Any:
        return self.driver.execute_script(source, *args)

    def axe_violations(self) -> list[dict[str, Any]]:
        """axe-core's violations on the current page (every rule axe runs by default)."""
        if self._axe_source is None:
            self._axe_source = AXE_JS.read_text(encoding="utf-8")
        self.driver.execute_script(self._axe_source)
        result = self.driver.execute_async_script(
            """
            const done = arguments[arguments.length - 1];
            axe.run(document, {resultTypes: ["violations"]}).then(
              (r) => done(r.violations.map((v) => ({
                id: v.id, impact: v.impact,
                targets: v.nodes.slice(0, 3).map((n) => n.target.join(" ")),
              }))),
              (e) => done({error: String(e)}),
            );
            """
        )
        assert not isinstance(result, dict), f"axe-core failed: {result}"
        return result


@pytest.fixture(scope="session")
def _chromium(_browser_tools) -> Iterator[Browser]:
    # Selenium Manager (which downloads drivers and browsers) must never run: the
    # driver's path is given, and offline mode forbids it all the same.
    os.environ["SE_OFFLINE"] = "true"
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",  # tests run as root in CI
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-extensions",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--disable-features=Translate,OptimizationHints,MediaRouter",
        "--lang=en-US",
        f"--window-size={DESKTOP[0]},{DESKTOP[1]}",
    ):
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"intl.accept_languages": "en-US,en"})
    service = Service(executable_path=str(CHROMEDRIVER), log_output=subprocess.DEVNULL)
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(30)
    try:
        yield Browser(driver)
    finally:
        driver.quit()


@pytest.fixture
def browser(_chromium: Browser, site: Site) -> Browser:
    _chromium.reset()
    return _chromium


# -- the live site -------------------------------------------------------------------------


@pytest.fixture
def transactional_db(live_db) -> None:
    """What pytest-django's ``live_server`` asks for, without its flush afterwards.

    A transactional test ends by emptying every table of the public schema, and
    with them the session's test tenants. The live server needs committed data all
    the same: ``site_data`` makes it, and takes it away after the last browser test.
    """


@dataclass(frozen=True)
class Site:
    port: int
    tenant: str = TENANT

    def url(self, path: str = "/") -> str:
        """``path`` on the tenant's own host (``acme.localhost`` resolves to 127.0.0.1)."""
        return f"http://{self.tenant}.localhost:{self.port}{path}"

    def public_url(self, path: str = "/") -> str:
        """``path`` on the platform's public host, where the operators' admin is."""
        return f"http://localhost:{self.port}{path}"


def _wipe_site() -> None:
    """The demo and what the tests added to it (carts, checkouts, orders, payments, the
    demo's customers and writers) gone, so that later test modules start clean."""
    empty_outbox()
    wipe_demo(TENANT)


def _forget_tenants() -> None:
    tenant_cache.clear_local()
    redis.Redis.from_url(settings.REDIS_URL).flushdb()


@pytest.fixture(scope="package")
def site_data(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[None]:
    """acme in English and German with the demo's pages, menus, posts and shop (with its
    shipping and tax settings, customers and orders), committed.

    The relay delivers the events (as a worker would), so the content listing and
    the pages' snapshot are current before any page is opened.
    """
    media = tmp_path_factory.mktemp("browser-media")
    uploads = override_settings(
        MEDIA_ROOT=str(media), MULTITENANT_RELATIVE_MEDIA_ROOT="%s", SERVE_MEDIA=True
    )
    with django_db_blocker.unblock():
        tenant = Tenant.objects.get(slug=TENANT)
        saved = {"enabled_locales": tenant.enabled_locales, "default_locale": tenant.default_locale}
        _wipe_site()
        Tenant.objects.filter(pk=tenant.pk).update(
            enabled_locales=["en", "de"], default_locale="en"
        )
        _forget_tenants()
        uploads.enable()
        try:
            with schema_context(TENANT):
                seed_site(slug=TENANT, name=tenant.name)
            drain()
            empty_outbox()
            yield
        finally:
            uploads.disable()
            connection.set_schema_to_public()
            _wipe_site()
            Tenant.objects.filter(pk=tenant.pk).update(**saved)
            _forget_tenants()


@pytest.fixture(scope="package")
def card_gateway() -> Iterator[fake_gateway.GatewayServer]:
    """The fake card gateway, in a thread; the live server (in this process) pays through it."""
    server, thread = fake_gateway.start(slow_seconds=settings.TEST_CARD_GATEWAY_SLOW_SECONDS)
    pointed = override_settings(
        TEST_CARD_GATEWAY_URL=f"http://127.0.0.1:{server.server_address[1]}"
    )
    pointed.enable()
    try:
        yield server
    finally:
        pointed.disable()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def _live_connections_closed(django_db_setup, django_db_blocker) -> Iterator[None]:
    """After the live server stops, close the database sessions its threads left open.

    A request thread keeps its connection while the browser keeps the socket alive,
    and the server's threads are not joined when it stops: without this, dropping
    the test database at the end of a ``--create-db`` run fails while they linger.
    """
    yield
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture
def site(site_data, card_gateway, _live_connections_closed, live_server) -> Site:
    return Site(port=live_server.thread.port)


@pytest.fixture
def relay(live_db) -> Callable[[], None]:
    """Deliver what the live server's writes published, as a Celery worker would."""

    def run() -> None:
        drain()

    return run


@pytest.fixture(params=[DESKTOP, MOBILE], ids=["desktop", "mobile"])
def viewport(request, browser: Browser) -> tuple[int, int]:
    browser.viewport(*request.param)
    return request.param


def log_in(browser: Browser, login_url: str, *, username: str, password: str) -> None:
    """Sign in through the admin's login form, as a person would."""
    browser.go(login_url)
    browser.visible("input[name=username]").send_keys(username)
    browser.find("input[name=password]").send_keys(password)
    browser.find("form#login-form [type=submit]").click()
    browser.wait(
        lambda driver: not driver.find_elements(By.CSS_SELECTOR, "form#login-form"),
        "the login form is still there",
    )


OPERATOR = ("browser-operator", "pw-operator-12345")


@pytest.fixture
def operator(live_db) -> Iterator[tuple[str, str]]:
    """A platform operator (a superuser of the public schema), committed for the live server."""
    username, password = OPERATOR
    connection.set_schema_to_public()
    _delete_operator(username)
    get_user_model().objects.create_superuser(username, "operator@platform.test", password)
    yield OPERATOR
    connection.set_schema_to_public()
    _delete_operator(username)


def _delete_operator(username: str) -> None:
    # The ORM's cascade would visit tables of the tenant apps, which public does not have.
    with connection.cursor() as cursor:
        for statement in (
            "DELETE FROM django_admin_log WHERE user_id IN (SELECT id FROM auth_user WHERE username = %s)",
            "DELETE FROM auth_user_groups WHERE user_id IN (SELECT id FROM auth_user WHERE username = %s)",
            "DELETE FROM auth_user_user_permissions WHERE user_id IN (SELECT id FROM auth_user WHERE username = %s)",
            "DELETE FROM auth_user WHERE username = %s",
        ):
            cursor.execute(statement, [username])
