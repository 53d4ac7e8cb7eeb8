"""``make_renditions``: the renditions existing media lack, per tenant, with progress and a summary."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django_tenants.utils import schema_context

from apps.content import services
from apps.content.models import Rendition
from tests.content.support import RENDITIONS_MADE, events, image_bytes, opened, upload

pytestmark = pytest.mark.usefixtures("media_root")


def _widths(schema: str) -> dict[str, list[int]]:
    """Rendition widths by the media's file name, in ``schema``."""
    with schema_context(schema):
        found: dict[str, list[int]] = {}
        for row in Rendition.objects.select_related("media").order_by("width"):
            found.setdefault(row.media.file.name.rsplit("/", 1)[1], []).append(row.width)
        return found


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("make_renditions", *args, stdout=out)
    return out.getvalue()


def test_it_makes_what_is_missing_for_one_tenant_then_for_all(acme, globex, media_root):
    with schema_context("acme"):
        done = upload((1000, 600), name="done.png")
        services.media_renditions_make(media_id=done.pk)  # made earlier by the handler
        Rendition.objects.filter(media=done, width=640).delete()  # ... one of them since lost
        upload((1300, 800), name="older.png")
        upload((200, 100), name="small.png")
        services.media_upload(file=SimpleUploadedFile("still.gif", image_bytes((900, 600), "GIF")))
    with schema_context("globex"):
        upload((700, 500), name="theirs.png")

    out = _run("--tenant", "acme")
    assert "[1/1] acme [##############################] 4/4" in out
    assert "1 media: GIF images get no renditions" in out
    assert "Made 5 rendition(s) of 2 media (1 complete already, 1 without renditions)" in out
    assert "for 1 tenant(s)" in out and "globex" not in out
    assert _widths("acme") == {"done.png": [320, 640, 960], "older.png": [320, 640, 960, 1280]}
    assert _widths("globex") == {}
    with schema_context("acme"):
        for row in Rendition.objects.all():
            assert opened(media_root, "acme", row.file.name).size == (row.width, row.height)
    assert [e.payload["widths"] for e in events(RENDITIONS_MADE)] == [
        [320, 640, 960],
        [640],
        [320, 640, 960, 1280],
    ]

    out = _run()
    assert _widths("globex") == {"theirs.png": [320, 640]}
    assert f"{'acme':<24}       4 media        0 made        3 complete" in out
    assert f"{'globex':<24}       1 media        2 made" in out
    assert [e.payload["widths"] for e in events(RENDITIONS_MADE, "globex")] == [[320, 640]]
    assert len(events(RENDITIONS_MADE)) == 3  # nothing more for acme


def test_an_unknown_tenant_is_an_error(db):
    with pytest.raises(CommandError, match="no tenant 'nope'"):
        _run("--tenant", "nope")
