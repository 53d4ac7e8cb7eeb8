"""Media: multipart upload with alt text per locale, alt text changes, deletion."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context

from apps.content.models import Media

from .conftest import assert_problem, png

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _uploads_in_tmp(media_root) -> None:
    """Every test of this module uploads into its own folder (``media_root``, conftest)."""


def test_upload_an_image_with_alt_text_per_locale(acme_api, acme_de, media_root):
    response = acme_api.post(
        "/api/v1/media/",
        {"file": png(), "alt_text.en": "A red dot", "alt_text.de": "Ein roter Punkt"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["content_type"] == "image/png"
    assert (body["width"], body["height"]) == (3, 2)
    assert body["alt_text"] == {"en": "A red dot", "de": "Ein roter Punkt"}
    assert body["url"].startswith("http://acme.localhost/media/acme/media/")
    assert list(media_root.glob("acme/media/*/*/*.png"))
    assert acme_api.get(f"/api/v1/media/{body['id']}/").json()["alt_text"]["de"] == (
        "Ein roter Punkt"
    )
    assert len(acme_api.get("/api/v1/media/").json()["results"]) == 1


def test_alt_text_may_come_as_one_json_field(acme_api):
    response = acme_api.post(
        "/api/v1/media/", {"file": png(), "alt_text": json.dumps({"en": "A dot"})}
    )
    assert response.status_code == 201, response.content
    assert response.json()["alt_text"] == {"en": "A dot"}


def test_change_alt_text_and_delete(acme_api, media_root):
    media = acme_api.post("/api/v1/media/", {"file": png(), "alt_text.en": "Old"}).json()
    changed = acme_api.patch(
        f"/api/v1/media/{media['id']}/",
        {"alt_text": {"en": "New"}},
        content_type="application/json",
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["alt_text"] == {"en": "New"}
    assert acme_api.delete(f"/api/v1/media/{media['id']}/").status_code == 204
    with schema_context("acme"):
        assert not Media.objects.exists()
    assert_problem(acme_api.get(f"/api/v1/media/{media['id']}/"), 404)


def test_upload_errors(acme_api):
    body = assert_problem(acme_api.post("/api/v1/media/", {"alt_text.en": "x"}), 400, "invalid")
    assert body["errors"] == {"file": ["No file was submitted."]}
    not_an_image = SimpleUploadedFile("evil.png", b"<script>alert(1)</script>", "image/png")
    body = assert_problem(acme_api.post("/api/v1/media/", {"file": not_an_image}), 400)
    assert body["code"] == "content_invalid"
    assert list(body["errors"]) == ["file"]
    body = assert_problem(
        acme_api.post("/api/v1/media/", {"file": png(), "alt_text.fr": "Un point"}), 400
    )
    assert body["errors"] == {"alt_text": ["locales not enabled: fr"]}
    body = assert_problem(
        acme_api.post("/api/v1/media/", {"file": png(), "alt_text": "{oops"}), 400
    )
    assert list(body["errors"]) == ["alt_text"]
    body = assert_problem(acme_api.post("/api/v1/media/", {"file": png(), "caption": "x"}), 400)
    assert body["errors"] == {"caption": ["Unknown field."]}
    with schema_context("acme"):
        assert not Media.objects.exists()
