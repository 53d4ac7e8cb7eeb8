"""The forum in Chromium, as its people use it: a member logs in and starts a topic in the
moderated category, another member replies, and the moderator approves both in the admin's
queue; until then nobody else sees them. axe-core audits the forum's pages."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django_tenants.utils import schema_context
from selenium.webdriver.common.by import By

from apps.forum.models import Reply, Topic
from apps.storefront.demo_forum import moderator_login
from apps.storefront.demo_orders import customer_logins

from .conftest import TENANT, Browser, Site, log_in
from .test_accessibility import assert_accessible

pytestmark = pytest.mark.browser

TITLE = "Hello from the browser"


def _member_log_in(browser: Browser, site: Site, login: tuple[str, str], next_path: str) -> None:
    """The storefront's login form, then back to ``next_path``."""
    browser.reset()
    browser.go(site.url(f"/account/login/?next={next_path}"))
    browser.visible("input[name=email]").send_keys(login[0])
    browser.find("input[name=password]").send_keys(login[1])
    browser.find("main form button[type=submit]").click()
    browser.wait_for_url(lambda url: next_path in url and "login" not in url, next_path)


def _topic_path(browser: Browser) -> str:
    return re.sub(r"^https?://[^/]+", "", browser.driver.current_url).split("#")[0]


@pytest.fixture
def cleanup(live_db):
    yield
    with schema_context(TENANT):
        Topic.objects.filter(title=TITLE).delete()


def test_start_a_topic_reply_and_the_moderator_approves(
    browser: Browser, site: Site, relay, cleanup
):
    lena, other = customer_logins(TENANT)[:2]

    # A member starts a topic in the moderated category: it waits, seen only by its author.
    _member_log_in(browser, site, lena, "/forum/c/introductions/new/")
    assert_accessible(browser, "the new topic form")
    browser.visible("input[name=title]").send_keys(TITLE)
    browser.find("textarea[name=body]").send_keys("I hike in the **Alps**. Hello, everyone!")
    browser.find("main form button[name=preview]").click()
    assert browser.visible(".forum-preview strong").text == "Alps"
    browser.find_all("main form button[type=submit]")[-1].click()
    browser.wait_for_url(lambda url: "/forum/t/" in url, "the new topic's page")
    topic_path = _topic_path(browser)
    assert browser.visible(".forum-topic h1").text == TITLE
    assert "Awaiting approval" in browser.find(".forum-topic__header").text
    assert_accessible(browser, "a topic page")

    browser.reset()
    browser.go(site.url(topic_path))
    assert "Hello from the browser" not in browser.find("main").text  # a visitor: not found

    # Another member does not see it yet.
    _member_log_in(browser, site, other, "/forum/")
    browser.go(site.url(topic_path))
    assert TITLE not in browser.find("main").text

    # The moderator approves the topic in the queue, with a reason.
    relay()
    moderator = moderator_login(TENANT)
    browser.reset()
    log_in(browser, site.url("/admin/login/"), username=moderator[0], password=moderator[1])
    browser.go(site.url("/admin/forum/moderation/"))
    assert_accessible(browser, "the moderation queue")
    row = browser.driver.find_element(
        By.XPATH, f"//label[strong[normalize-space()='{TITLE}']]/ancestor::tr"
    )
    row.find_element(By.CSS_SELECTOR, "input[type=checkbox]").click()
    browser.find("select[name=action] option[value=approve]").click()
    browser.find("#forum-queue [name=reason]").send_keys("Welcome!")
    browser.find("#forum-queue input[type=submit]").click()
    browser.visible("ul.messagelist li")
    assert TITLE not in browser.find("#pending-topics + *").text

    # Now the other member sees it and replies; the reply waits for the moderator in turn.
    _member_log_in(browser, site, other, topic_path)
    assert browser.visible(".forum-topic h1").text == TITLE
    browser.find("#reply-form textarea[name=body]").send_keys("Welcome, fellow hiker!")
    browser.find_all("#reply-form button[type=submit]")[-1].click()
    browser.wait_for_url(lambda url: "#reply-" in url or topic_path in url, "the topic again")
    reply = browser.visible(".forum-reply:last-of-type")
    assert "Welcome, fellow hiker!" in reply.text and "Awaiting approval" in reply.text

    relay()
    browser.reset()
    log_in(browser, site.url("/admin/login/"), username=moderator[0], password=moderator[1])
    browser.go(site.url("/admin/forum/moderation/"))
    with schema_context(TENANT):
        reply_id = Reply.objects.get(body="Welcome, fellow hiker!").pk
    browser.find(f"input[name=replies][value='{reply_id}']").click()
    browser.find("select[name=action] option[value=approve]").click()
    browser.find("#forum-queue input[type=submit]").click()
    browser.visible("ul.messagelist li")

    # Everyone sees both now, the topic on its category's page with its reply counted.
    relay()
    browser.reset()
    browser.go(site.url(topic_path))
    assert browser.visible(".forum-topic h1").text == TITLE
    assert "Welcome, fellow hiker!" in browser.find("main").text
    assert "Awaiting approval" not in browser.find("main").text
    browser.go(site.url("/forum/c/introductions/"))
    assert TITLE in browser.find("main").text
    assert_accessible(browser, "a category page")
    with schema_context(TENANT):
        topic = Topic.objects.get(title=TITLE)
        log = list(topic.moderation_log.values_list("action", "reason"))
        author = get_user_model().objects.get(username=lena[0])
    assert ("approve", "Welcome!") in log
    assert topic.author_id == author.pk
