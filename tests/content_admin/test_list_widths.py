"""The node, media and outbox lists fit a 1280 px window: few, narrow columns.

Each list is checked for its reduced set of columns and, where Chromium is
installed, laid out at 1280 px with the navigation sidebar and the filters open.
"""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.content import services
from apps.events.models import OutboxEvent, OutboxStatus
from tests.browser_width import CHROMIUM, scroll_width
from tests.conftest import as_tenant_admin
from tests.eventapp.services import widget_change

from .conftest import CONTENT, NODES, in_acme, make_node, page
from .test_media_categories_tags import png

LONG_TITLE = "A rather long title for a story about trails, tents and the people who carry them up"
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed")


def columns(content: str) -> list[str]:
    head = content[content.index('id="result_list"') :]
    head = head[: head.index("</thead>")]
    return re.findall(r'<th scope="col" class="[^"]*column-([a-z_]+)', head)


@pytest.fixture
def long_listing(editor, acme_de):
    with schema_context("acme"):
        category = services.category_create(name="Outdoor equipment reviews and field notes")
    for number in range(9):
        node = make_node(
            title=f"{LONG_TITLE} ({number})",
            translations={
                "en": {"title": f"{LONG_TITLE} ({number})"},
                "de": {"title": f"Lang {number}"},
            },
            category_id=category.pk,
            actor=editor,
        )
        if number % 3 == 0:
            in_acme(services.node_publish, node_id=node.pk)
        elif number % 3 == 1:
            publish_at = timezone.now() + timedelta(days=3)
            in_acme(services.node_schedule, node_id=node.pk, publish_at=publish_at)


def test_the_post_list_has_few_columns_and_cut_titles(editor_client, long_listing):
    content = page(editor_client.get(NODES))
    assert columns(content) == ["title", "status_badge", "author_name", "category_name", "updated"]
    # Titles are cut, whole when pointed at; the languages and the preview go under them.
    assert f'title="{LONG_TITLE} (0)">' in content
    assert ">A rather long title for a story about trails, tents and the…</a>" in content
    assert content.count('<div class="list-meta">de en · <a href="/preview/') == 9
    # Status and schedule in one column, dates short.
    assert content.count('<span class="content-badge content-badge--scheduled" title=') == 3
    assert re.search(
        r'<time class="nowrap" datetime="[^"]+" title="[^"]+">\d\d/\d\d/\d{4}</time>', content
    )
    assert 'title="Outdoor equipment reviews and field notes">Outdoor equipment revie…' in content


def test_the_generic_content_list_adds_only_the_kind(acme_client, tmp_path):
    for number in range(5):
        make_node(title=f"{LONG_TITLE} {number}", kind="announcement-of-the-week")
    content = page(as_tenant_admin(acme_client).get(CONTENT))
    assert columns(content) == [
        "title", "kind", "status_badge", "author_name", "category_name", "updated",
    ]  # fmt: skip
    if CHROMIUM is not None:
        assert scroll_width(content, tmp_path) <= 1280


@needs_chromium
def test_the_post_list_fits_1280_px(editor_client, long_listing, tmp_path):
    assert scroll_width(page(editor_client.get(NODES)), tmp_path) <= 1280


@pytest.fixture
def long_media(media_root, editor):
    with schema_context("acme"):
        for number in range(6):
            services.media_upload(
                file=png(f"a-very-long-file-name-from-a-camera-export-{number:04d}-final-v2.png"),
                alt_text={
                    "en": "A teal tent pitched on a ridge at dawn, with fog in the valley below it"
                },
                actor=editor,
            )


def test_the_media_list_has_few_columns(editor_client, long_media):
    content = page(editor_client.get("/admin/content/media/"))
    assert columns(content) == ["thumbnail", "name", "alt_default", "uploaded_by_name", "created"]
    assert '<div class="list-meta">png · ' in content and " · 4x3</div>" in content


@needs_chromium
def test_the_media_list_fits_1280_px(editor_client, long_media, tmp_path):
    assert scroll_width(page(editor_client.get("/admin/content/media/")), tmp_path) <= 1280


@pytest.fixture
def outbox_rows(acme):
    with schema_context("acme"):
        for number in range(8):
            widget_change(widget_id=uuid.uuid4(), note=f"note {number}")
    first = OutboxEvent.objects.order_by("position").values("position")[:4]
    OutboxEvent.objects.filter(position__in=first).update(
        status=OutboxStatus.DISPATCHED, dispatched_at=timezone.now()
    )


def test_the_outbox_list_has_few_columns(operator_client, outbox_rows):
    content = page(operator_client.get("/admin/events/outboxevent/"))
    assert columns(content) == [
        "position", "event_type_breakable", "tenant_slug", "aggregate_short", "occurred",
        "status_and_dispatch",
    ]  # fmt: skip
    event = OutboxEvent.objects.order_by("position").first()
    assert f'<span class="list-code">{event.aggregate_id[:8]}…</span>' in content
    assert f'title="{event.aggregate_type} {event.aggregate_id} v1 (' in content
    assert "testing.<wbr>widget.<wbr>changed" in content
    assert content.count('<div class="list-meta nowrap" title="') == 4  # dispatched: the delay


@needs_chromium
def test_the_outbox_list_fits_1280_px(operator_client, outbox_rows, tmp_path):
    assert scroll_width(page(operator_client.get("/admin/events/outboxevent/")), tmp_path) <= 1280
