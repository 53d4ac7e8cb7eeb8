"""A Moderator (apps/tenancy/roles.py: views content, changes none of it) may read pages and media
through the API and gets 403 on every write, with nothing written."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context
from PIL import Image

from apps.content import services as content
from apps.content.models import Media, Node, NodeStatus
from apps.content.services import TranslationInput
from apps.events.models import OutboxEvent
from apps.pages import services as pages
from apps.pages.models import PageLayout

from .conftest import assert_problem, login_as

JSON = "application/json"


def png() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (3, 2), "red").save(buffer, "PNG")
    return SimpleUploadedFile("dot.png", buffer.getvalue(), content_type="image/png")


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    # Resets the tenant storage's cached root (it only listens to this setting).
    settings.MULTITENANT_RELATIVE_MEDIA_ROOT = "%s"
    return tmp_path


@pytest.fixture
def moderator(acme_client) -> Client:
    login_as(acme_client, "acme", email="moderator@acme.test", groups=["Moderator"])
    return acme_client


@pytest.fixture
def existing(acme_de, media_root) -> dict[str, Any]:
    """A draft page (English and German) with its layout and a medium in acme, made by the services."""
    with schema_context("acme"):
        layout = pages.page_create(
            data=pages.PageInput(
                translations=[
                    TranslationInput(locale="en", title="About"),
                    TranslationInput(locale="de", title="Über uns"),
                ]
            )
        )
        media = content.media_upload(file=png(), alt_text={"en": "A red dot"})
    return {"page": layout.node_id, "media": media.pk}


def _state() -> dict[str, Any]:
    """Everything a write could have changed, to compare before and after."""
    with schema_context("acme"):
        return {
            "nodes": sorted(Node.objects.values_list("pk", "status", "version", "publish_at")),
            "translations": sorted(
                Node.objects.values_list("translations__locale", "translations__title")
            ),
            "layouts": sorted(PageLayout.objects.values_list("pk", "template", "version")),
            "media": sorted(Media.objects.values_list("pk", "alt_text")),
            "events": OutboxEvent.objects.count(),
        }


# (method, URL, keyword arguments of the client call); {page} and {media} name the fixtures'.
WRITES = [
    ("post", "/api/v1/pages/", {"data": {"translations": {"en": {"title": "Mine"}}}}),
    ("patch", "/api/v1/pages/{page}/", {"data": {"template": "landing"}}),
    ("patch", "/api/v1/pages/{page}/", {"data": {"translations": {"en": {"title": "Taken"}}}}),
    ("delete", "/api/v1/pages/{page}/", {}),
    ("post", "/api/v1/pages/{page}/publish/", {}),
    ("post", "/api/v1/pages/{page}/schedule/", {"data": {"publish_at": "tomorrow"}}),
    ("put", "/api/v1/pages/{page}/translations/en/", {"data": {"title": "Renamed"}}),
    ("delete", "/api/v1/pages/{page}/translations/de/", {}),
    ("post", "/api/v1/media/", {"multipart": True}),
    ("patch", "/api/v1/media/{media}/", {"data": {"alt_text": {"en": "Mine now"}}}),
    ("delete", "/api/v1/media/{media}/", {}),
]


def _call(client: Client, method: str, url: str, *, data=None, multipart=False):
    if multipart:
        return client.post(url, {"file": png(), "alt_text.en": "Mine"})
    if data and data.get("publish_at") == "tomorrow":
        data = {"publish_at": (timezone.now() + timedelta(days=1)).isoformat()}
    if data is None:
        return getattr(client, method)(url)
    return getattr(client, method)(url, data, content_type=JSON)


def test_a_moderator_reads_pages_and_media(moderator, existing):
    listed = moderator.get("/api/v1/pages/")
    assert listed.status_code == 200
    assert [page["id"] for page in listed.json()["results"]] == [str(existing["page"])]
    page = moderator.get(f"/api/v1/pages/{existing['page']}/")
    assert page.status_code == 200 and page.json()["status"] == NodeStatus.DRAFT
    medium = moderator.get(f"/api/v1/media/{existing['media']}/")
    assert medium.status_code == 200 and medium.json()["alt_text"] == {"en": "A red dot"}


@pytest.mark.parametrize(
    ("method", "url", "kwargs"), WRITES, ids=[f"{m.upper()} {u}" for m, u, _ in WRITES]
)
def test_a_moderator_cannot_write_pages_or_media(moderator, existing, method, url, kwargs):
    before = _state()
    response = _call(moderator, method, url.format(**existing), **kwargs)
    assert_problem(response, 403, "permission_denied")
    assert _state() == before
