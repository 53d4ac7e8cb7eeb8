"""The admin's longest lists fit a 1280 px window: the posts (and other nodes), the media and
the outbox.

Each list is opened after logging in through the admin's form, with the admin's
scripts running and the navigation sidebar as a person first sees it (open), its
filters beside it, and many rows of long text: titles in two languages, scheduled
posts, long file names and alt texts, outbox rows with the longest event types,
pending and dispatched. The page must not scroll sideways, and the results table
must stay inside its box: the admin lets ``.results`` scroll on its own, so a table
too wide for it would not widen the page and only the box shows the overflow.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.blog import services as blog
from apps.content import services as content
from apps.events.admin import OutboxEventAdmin
from apps.events.models import OutboxEvent, OutboxStatus
from apps.storefront.demo import demo_authors, demo_png
from tests.conftest import ADMIN_PASSWORD, TEST_TENANTS

from .conftest import DESKTOP, TENANT, Browser, Site, log_in

pytestmark = pytest.mark.browser

LONG_TITLE = "A rather long title for a story about trails, tents and the people who carry them up"
LONG_TITLE_DE = (
    "Ein recht langer Titel für eine Geschichte über Wege, Zelte und die Leute, die sie tragen"
)
LONG_ALT = "A teal tent pitched on a ridge at dawn, with fog in the valley below it and a trail"
POSTS = 30
UPLOADS = 12
# A kind no wrapper module owns: listed under "Content", with a column for the kind.
OTHER_KIND = "announcement-of-the-week"
OTHER_NODES = 8
LONGEST_EVENT_TYPE = "content.media.renditions_made"

# What the page and the results table measure, laid out with the page's own scripts.
MEASURE = """
const table = document.getElementById("result_list");
const box = document.querySelector("#changelist .results");
const main = document.getElementById("main");
const sheets = [...document.styleSheets].filter(
  (sheet) => sheet.href && sheet.href.endsWith("/css/admin-lists.css"));
return {
  innerWidth: window.innerWidth,
  clientWidth: document.documentElement.clientWidth,
  scrollWidth: document.documentElement.scrollWidth,
  tableRight: table.getBoundingClientRect().right,
  boxRight: box.getBoundingClientRect().right,
  boxScrollWidth: box.scrollWidth,
  boxClientWidth: box.clientWidth,
  rows: table.tBodies[0].rows.length,
  sidebarOpen: main.classList.contains("shifted"),
  filtersShown: !!document.getElementById("changelist-filter"),
  listStylesLoaded: sheets.length === 1 && sheets[0].cssRules.length > 0,
};
"""


def upload(number: int) -> SimpleUploadedFile:
    name = f"a-very-long-file-name-from-a-camera-export-{number:04d}-final-v2.png"
    image = demo_png(number, palette=("#0b3d2e", "#8fd19e"), size=(800, 600))
    return SimpleUploadedFile(name, image, content_type="image/png")


@pytest.fixture
def busy_tenant(site: Site, relay: Callable[[], None]) -> Iterator[None]:
    """acme with many long posts and uploads, committed; its outbox partly delivered.

    What the first writes published is delivered, as a worker would (the uploads'
    renditions are made then); the edits after that wait in the outbox.
    """
    made: dict[str, list] = {"posts": [], "nodes": [], "media": [], "tags": [], "categories": []}
    try:
        with schema_context(TENANT):
            write_long_content(made)
        relay()
        with schema_context(TENANT):
            for number, post in enumerate(made["posts"][::4]):
                blog.post_translation_upsert(
                    post_id=post.pk,
                    data=content.TranslationInput(
                        locale="en", title=f"{LONG_TITLE} {4 * number} (edited)"
                    ),
                )
        yield
    finally:
        with schema_context(TENANT):
            for post in made["posts"]:
                blog.post_delete(post_id=post.pk)
            for node in made["nodes"]:
                content.node_delete(node_id=node.pk)
            for item in made["media"]:
                content.media_delete(media_id=item.pk)
            for tag in made["tags"]:
                content.tag_delete(tag_id=tag.pk)
            for category in made["categories"]:
                content.category_delete(category_id=category.pk)
        relay()  # the index forgets the posts before the next test reads the site


def write_long_content(made: dict[str, list]) -> None:
    """Posts, uploads, tags and a category with long names, by the demo's authors."""
    authors = demo_authors(TENANT)
    category = content.category_create(
        name="Outdoor equipment reviews and field notes",
        translations={"de": {"name": "Testberichte und Notizen zur Outdoor-Ausrüstung"}},
    )
    made["categories"].append(category)
    for name in ("Long-distance hiking in the mountains", "Gear"):
        made["tags"].append(content.tag_get_or_create(name=name))
    for number in range(UPLOADS):
        made["media"].append(
            content.media_upload(
                file=upload(number),
                alt_text={"en": LONG_ALT, "de": f"Ein Zelt auf einem Grat ({number})"},
                actor=authors[number % len(authors)],
            )
        )
    for number in range(POSTS):
        translations = [content.TranslationInput(locale="en", title=f"{LONG_TITLE} {number}")]
        if number % 2 == 0:
            translations.append(
                content.TranslationInput(locale="de", title=f"{LONG_TITLE_DE} {number}")
            )
        post = blog.post_create(
            translations=translations,
            category_id=category.pk,
            tag_ids=[tag.pk for tag in made["tags"]],
            og_image_id=made["media"][number % UPLOADS].pk,
            actor=authors[number % len(authors)],
        )
        made["posts"].append(post)
        if number % 3 == 0:
            blog.post_publish(post_id=post.pk, actor=authors[0])
        elif number % 3 == 1:
            blog.post_schedule(
                post_id=post.pk,
                publish_at=timezone.now() + timedelta(days=number),
                actor=authors[0],
            )
    for number in range(OTHER_NODES):
        made["nodes"].append(
            content.node_create(
                data=content.NodeInput(
                    kind=OTHER_KIND,
                    translations=[
                        content.TranslationInput(locale="en", title=f"{LONG_TITLE} {number}"),
                        content.TranslationInput(locale="de", title=f"{LONG_TITLE_DE} {number}"),
                    ],
                    category_id=category.pk,
                ),
                actor=authors[number % len(authors)],
            )
        )


def measure(browser: Browser, url: str) -> dict[str, Any]:
    """Open ``url`` at 1280x900 with the sidebar as the admin first shows it; the measures."""
    browser.viewport(*DESKTOP)
    browser.script("window.localStorage.clear()")  # the sidebar's state, kept per origin
    browser.go(url)
    browser.visible("#result_list")
    browser.driver.execute_async_script(
        "const done = arguments[arguments.length - 1]; document.fonts.ready.then(() => done());"
    )
    return browser.script(MEASURE)


def assert_fits(measures: dict[str, Any], *, rows: int) -> None:
    assert measures["innerWidth"] == DESKTOP[0]
    assert measures["listStylesLoaded"], "the list's stylesheet did not load"
    assert measures["sidebarOpen"] and measures["filtersShown"], measures
    assert measures["rows"] >= rows, measures
    assert measures["scrollWidth"] <= measures["innerWidth"], measures
    assert measures["scrollWidth"] <= measures["clientWidth"], measures
    assert measures["tableRight"] <= measures["boxRight"] + 0.5, measures
    assert measures["boxScrollWidth"] <= measures["boxClientWidth"], measures


def texts(browser: Browser, css: str) -> list[str]:
    """The text of each element ``css`` (wrapped lines joined)."""
    return browser.script(
        "return [...document.querySelectorAll(arguments[0])].map((e) => e.textContent.trim())",
        css,
    )


def editor_logs_in(browser: Browser, site: Site) -> None:
    """acme's administrator through the admin's login form, as ``test_paths``' editor."""
    log_in(browser, site.url("/admin/"), username=TEST_TENANTS[TENANT][1], password=ADMIN_PASSWORD)


def test_the_post_list_fits_1280_px(browser: Browser, site: Site, busy_tenant):
    editor_logs_in(browser, site)
    assert_fits(measure(browser, site.url("/admin/blog/post/")), rows=POSTS)
    assert len(texts(browser, "#result_list .content-badge--scheduled")) == POSTS // 3


def test_the_list_of_other_kinds_fits_1280_px(browser: Browser, site: Site, busy_tenant):
    editor_logs_in(browser, site)
    assert_fits(measure(browser, site.url("/admin/content/node/")), rows=OTHER_NODES)
    assert texts(browser, "#result_list td.field-kind").count(OTHER_KIND) == OTHER_NODES


def test_the_media_list_fits_1280_px(browser: Browser, site: Site, busy_tenant):
    editor_logs_in(browser, site)
    assert_fits(measure(browser, site.url("/admin/content/media/")), rows=UPLOADS)
    alt_texts = texts(browser, "#result_list td.field-alt_default")
    assert sum(text.startswith(LONG_ALT[:40]) for text in alt_texts) == UPLOADS


def test_the_outbox_list_fits_1280_px(browser: Browser, site: Site, busy_tenant, operator):
    rows = OutboxEvent.objects.count()
    assert OutboxEvent.objects.filter(status=OutboxStatus.DISPATCHED).count() > 2 * UPLOADS
    assert OutboxEvent.objects.filter(status=OutboxStatus.PENDING).exists()
    assert OutboxEvent.objects.filter(event_type=LONGEST_EVENT_TYPE).count() == UPLOADS
    username, password = operator
    log_in(browser, site.public_url("/admin/"), username=username, password=password)
    shown = min(rows, OutboxEventAdmin.list_per_page)
    assert_fits(measure(browser, site.public_url("/admin/events/outboxevent/")), rows=shown)
    event_types = texts(browser, "#result_list td.field-event_type_breakable")
    assert event_types.count(LONGEST_EVENT_TYPE) == UPLOADS
