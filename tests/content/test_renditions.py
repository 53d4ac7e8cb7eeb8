"""Renditions of uploaded images: made by the outbox handler, idempotent, bounded, deleted with
their media. Every file is opened with Pillow from the tenant's media folder."""

from __future__ import annotations

import io
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context
from PIL import Image, PngImagePlugin

from apps.content import renditions, services
from apps.content.events import MediaRenditionsMade
from apps.content.models import Rendition
from apps.events.errors import EventValidationError
from tests.content.support import RENDITIONS_MADE, deliver_uploads, events, opened, upload

pytestmark = pytest.mark.usefixtures("media_root")

RED, BLUE = (220, 20, 20), (20, 20, 220)


@pytest.fixture
def acme_schema(acme):
    with schema_context("acme"):
        yield


def _rows(media) -> list[Rendition]:
    return list(Rendition.objects.filter(media=media).order_by("width"))


@pytest.mark.parametrize(
    ("size", "widths"),
    [
        ((1000, 600), [320, 640, 960]),
        ((1920, 1080), [320, 640, 960, 1280]),
        ((2400, 1000), [320, 640, 960, 1280, 1920]),
        ((321, 200), [320]),
        ((320, 200), []),
        ((120, 90), []),
    ],
)
def test_the_handler_makes_every_width_narrower_than_the_original(
    acme_schema, media_root, size, widths
):
    media = upload(size)
    assert _rows(media) == []  # the upload itself resizes nothing
    assert not (media_root / "acme" / "renditions").exists()
    deliver_uploads()
    rows = _rows(media)
    assert [row.width for row in rows] == widths
    for row in rows:
        image = opened(media_root, "acme", row.file.name)
        expected_height = round(size[1] * row.width / size[0])
        assert (image.format, image.size) == ("PNG", (row.width, expected_height))
        assert row.height == expected_height and row.width < size[0]
        assert row.size == (media_root / "acme" / row.file.name).stat().st_size
        assert row.file.name.startswith("renditions/") and row.file.name.endswith(".png")
    made = events(RENDITIONS_MADE)
    assert [(e.aggregate_id, e.payload["widths"]) for e in made] == (
        [(str(media.pk), widths)] if widths else []
    )


@pytest.mark.parametrize(
    ("image_format", "extension"), [("JPEG", ".jpg"), ("PNG", ".png"), ("WEBP", ".webp")]
)
def test_a_rendition_keeps_the_format_of_its_original(
    acme_schema, media_root, image_format, extension
):
    media = upload((700, 500), image_format)
    deliver_uploads()
    rows = _rows(media)
    assert [row.width for row in rows] == [320, 640]
    for row in rows:
        assert row.file.name.endswith(extension)
        image = opened(media_root, "acme", row.file.name)
        assert (image.format, image.size) == (image_format, (row.width, row.height))


def _photo_with_metadata() -> bytes:
    """A 1200x800 JPEG, red on the left and blue on the right, to be shown rotated (EXIF 6),
    carrying a camera, an artist, GPS coordinates and a comment."""
    image = Image.new("RGB", (1200, 800), BLUE)
    image.paste(RED, (0, 0, 600, 800))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    exif[0x010F] = "Acme Camera"
    exif[0x013B] = "Jane Photographer"
    exif[0x8825] = {1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 36.0)}
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif, comment=b"shot at home", quality=95)
    return buffer.getvalue()


def test_a_jpeg_is_turned_upright_and_loses_its_metadata(acme_schema, media_root):
    media = services.media_upload(file=SimpleUploadedFile("photo.jpg", _photo_with_metadata()))
    assert (media.content_type, media.width, media.height) == ("image/jpeg", 1200, 800)
    deliver_uploads()
    rows = _rows(media)
    # Shown upright it is 800 wide: renditions narrower than that, portrait.
    assert [(row.width, row.height) for row in rows] == [(320, 480), (640, 960)]
    for row in rows:
        image = opened(media_root, "acme", row.file.name)
        assert image.format == "JPEG" and image.size == (row.width, row.height)
        assert len(image.getexif()) == 0
        assert not {"exif", "comment", "xmp"} & set(image.info)
        # Turned clockwise: the left (red) half is now on top, the blue one below.
        top = image.getpixel((row.width // 2, row.height // 8))
        bottom = image.getpixel((row.width // 2, row.height * 7 // 8))
        assert top[0] > 180 and top[2] < 80, top
        assert bottom[2] > 180 and bottom[0] < 80, bottom


def test_a_png_keeps_its_transparency_and_loses_its_text(acme_schema, media_root):
    image = Image.new("RGBA", (600, 400), (0, 128, 128, 0))
    image.paste((255, 0, 0, 255), (0, 0, 300, 400))
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Jane Photographer")
    buffer = io.BytesIO()
    image.save(buffer, "PNG", pnginfo=info)
    media = services.media_upload(file=SimpleUploadedFile("clear.png", buffer.getvalue()))
    deliver_uploads()
    [row] = _rows(media)
    rendition = opened(media_root, "acme", row.file.name)
    assert (rendition.format, rendition.mode, rendition.size) == ("PNG", "RGBA", (320, 213))
    assert rendition.getpixel((300, 90))[3] == 0 and rendition.getpixel((10, 90))[3] == 255
    assert "Author" not in rendition.info and not rendition.text


def test_redelivery_makes_nothing_twice(acme_schema, media_root):
    media = upload((1000, 600))
    deliver_uploads()
    first = _rows(media)
    stamps = {
        row.file.name: (media_root / "acme" / row.file.name).stat().st_mtime_ns for row in first
    }
    deliver_uploads()  # the same event again, as after a crash before the acknowledgement
    assert services.media_renditions_make(media_id=media.pk) == services.RenditionsOutcome(
        kept=(320, 640, 960)
    )
    again = _rows(media)
    assert [(row.pk, row.width, row.file.name) for row in again] == [
        (row.pk, row.width, row.file.name) for row in first
    ]
    assert {name: (media_root / "acme" / name).stat().st_mtime_ns for name in stamps} == stamps
    assert sorted(p.name for p in (media_root / "acme" / "renditions").rglob("*.png")) == sorted(
        name.rsplit("/", 1)[1] for name in stamps
    )
    assert len(events(RENDITIONS_MADE)) == 1


def test_a_missing_width_is_made_alone(acme_schema, media_root):
    media = upload((1000, 600))
    deliver_uploads()
    lost = Rendition.objects.get(media=media, width=640)
    lost.delete()
    outcome = services.media_renditions_make(media_id=media.pk)
    assert (outcome.made, outcome.kept) == ((640,), (320, 960))
    assert [row.width for row in _rows(media)] == [320, 640, 960]
    assert [e.payload["widths"] for e in events(RENDITIONS_MADE)] == [[320, 640, 960], [640]]


def test_the_leftover_of_a_rolled_back_attempt_is_replaced_not_copied(acme_schema, media_root):
    media = upload((600, 400))
    name = services.rendition_name(media, 320)
    leftover = media_root / "acme" / name
    leftover.parent.mkdir(parents=True)
    leftover.write_bytes(b"half a file")
    deliver_uploads()
    [row] = _rows(media)
    assert row.file.name == name
    assert opened(media_root, "acme", name).size == (320, 213)
    assert [p.name for p in leftover.parent.iterdir()] == [leftover.name]


def _animated_png() -> bytes:
    frames = [Image.new("RGB", (800, 600), color) for color in ("red", "blue")]
    buffer = io.BytesIO()
    frames[0].save(buffer, "PNG", save_all=True, append_images=frames[1:], duration=100)
    return buffer.getvalue()


def _gif() -> bytes:
    buffer = io.BytesIO()
    Image.new("P", (800, 600), 3).save(buffer, "GIF")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("moving.gif", _gif(), "GIF images get no renditions"),
        ("moving.png", _animated_png(), "animated images get no renditions"),
    ],
)
def test_gifs_and_animations_keep_the_original_alone(acme_schema, media_root, name, data, reason):
    media = services.media_upload(file=SimpleUploadedFile(name, data))
    deliver_uploads()
    assert _rows(media) == [] and events(RENDITIONS_MADE) == []
    assert services.media_renditions_make(media_id=media.pk).skipped == reason


def test_the_pixel_bound_is_checked_before_decoding(acme_schema, media_root, monkeypatch):
    media = upload((1000, 600))
    # An original above the bound (uploaded before it was lowered, or imported) is not decoded.
    monkeypatch.setattr(renditions, "IMAGE_MAX_PIXELS", 1000 * 600 - 1)
    assert services.media_renditions_make(media_id=media.pk).skipped == (
        "the image has too many pixels"
    )
    assert _rows(media) == []


def test_a_lost_original_or_a_deleted_media_gets_none(acme_schema, media_root):
    media = upload((1000, 600))
    (media_root / "acme" / media.file.name).unlink()
    assert services.media_renditions_make(media_id=media.pk).skipped == "the file is missing"
    assert services.media_renditions_make(media_id=uuid.uuid4()).skipped == "deleted"
    assert _rows(media) == [] and events(RENDITIONS_MADE) == []


def test_deleting_media_deletes_its_renditions_files(
    acme_schema, media_root, django_capture_on_commit_callbacks
):
    media = upload((1000, 600))
    keep = upload((1000, 600), name="other.png")
    deliver_uploads()
    names = [row.file.name for row in _rows(media)]
    # A file an attempt left behind when its transaction rolled back goes too.
    orphan = media_root / "acme" / services.rendition_name(media, 1280)
    orphan.write_bytes(b"orphan")
    assert len(names) == 3 and all((media_root / "acme" / name).exists() for name in names)
    with django_capture_on_commit_callbacks(execute=True):
        services.media_delete(media_id=media.pk)
    assert not Rendition.objects.filter(media_id=media.pk).exists()
    assert not any((media_root / "acme" / name).exists() for name in names)
    assert not orphan.exists() and not (media_root / "acme" / media.file.name).exists()
    # Another media's renditions stay.
    assert [row.width for row in _rows(keep)] == [320, 640, 960]
    assert all((media_root / "acme" / row.file.name).exists() for row in _rows(keep))


def test_the_event_names_at_least_one_positive_width():
    media_id = uuid.uuid4()
    assert MediaRenditionsMade(media_id=media_id, widths=[320]).widths == [320]
    for widths in ([], [0], [-320]):
        with pytest.raises(EventValidationError):
            MediaRenditionsMade(media_id=media_id, widths=widths)
