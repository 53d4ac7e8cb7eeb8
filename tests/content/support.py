"""Helpers of the renditions tests: uploads of real images, and the renditions handler run as
the relay runs it (inside a test transaction the relay itself cannot)."""

from __future__ import annotations

import io
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context
from PIL import Image

from apps.content import services
from apps.content.models import Media
from apps.events.envelope import StoredEvent
from apps.events.models import OutboxEvent
from apps.events.registry import subscriber

UPLOADED = "content.media.uploaded"
RENDITIONS_MADE = "content.media.renditions_made"


def image_bytes(size: tuple[int, int], image_format: str = "PNG", **save) -> bytes:
    buffer = io.BytesIO()
    mode = "RGB" if image_format != "GIF" else "P"
    Image.new(mode, size, "teal").save(buffer, image_format, **save)
    return buffer.getvalue()


def upload(
    size: tuple[int, int] = (1000, 600), image_format: str = "PNG", *, name: str = "", **save
) -> Media:
    """An image uploaded through content's service, in the active tenant."""
    extension = {"JPEG": "jpg"}.get(image_format, image_format.lower())
    data = image_bytes(size, image_format, **save)
    return services.media_upload(
        file=SimpleUploadedFile(name or f"picture.{extension}", data), alt_text={"en": "Teal"}
    )


def deliver_uploads(schema: str = "acme") -> None:
    """Hand every upload event of ``schema`` to the subscriber the relay would run."""
    handler = subscriber("content.renditions")
    assert handler is not None and UPLOADED in handler.event_types
    rows = OutboxEvent.objects.filter(schema_name=schema, event_type=UPLOADED).order_by("position")
    with schema_context(schema):
        for row in rows.values():
            handler.func(StoredEvent.from_row(row))


def events(event_type: str, schema: str = "acme") -> list[OutboxEvent]:
    return list(
        OutboxEvent.objects.filter(schema_name=schema, event_type=event_type).order_by("position")
    )


def opened(root: Path, schema: str, name: str) -> Image.Image:
    """The stored file ``name`` of ``schema``, decoded (the test's own read, not the storage's)."""
    image = Image.open(root / schema / name)
    image.load()
    return image
