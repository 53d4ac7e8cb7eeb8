"""Resized copies of uploaded images, for ``srcset``: which widths, and the pixels of each.

No database here: ``services.media_renditions_make`` decides what is missing and
stores what this module makes. A rendition keeps the original's format (JPEG,
PNG or WebP), has its EXIF orientation applied and carries no metadata but its
colour profile (EXIF, GPS, XMP and comments are dropped). GIFs and animated
images get none: the original alone is served.

The work is bounded: an image of more than ``IMAGE_MAX_PIXELS`` (the upload
limit) is refused before it is decoded, whatever Pillow's own decompression
bomb limit says, and a JPEG is decoded at a reduced scale when the largest
rendition needs fewer pixels than it has.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from PIL import Image, ImageOps, UnidentifiedImageError

from apps.core.images import IMAGE_MAX_PIXELS

RENDITION_WIDTHS = (320, 640, 960, 1280, 1920)
# Pillow format -> the file extension of its renditions.
RENDITION_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
JPEG_QUALITY = 82
WEBP_QUALITY = 80
# EXIF orientations that swap width and height (rotated by 90 or 270 degrees).
_TRANSPOSED = {5, 6, 7, 8}
_EXIF_ORIENTATION = 0x0112


class NoRenditions(Exception):
    """The image gets no renditions; ``reason`` says why (shown by ``make_renditions``)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class Original:
    """What the renditions of an image depend on, read from its header alone."""

    format: str
    width: int  # as displayed, EXIF orientation applied
    height: int

    def wanted_widths(self) -> tuple[int, ...]:
        """Every rendition width smaller than the original (the original serves the largest)."""
        return tuple(width for width in RENDITION_WIDTHS if width < self.width)

    def height_at(self, width: int) -> int:
        return max(1, round(self.height * width / self.width))


@dataclass(frozen=True)
class Made:
    width: int
    height: int
    data: bytes


def read_original(file: IO[bytes]) -> Original:
    """The original's format and displayed size, or ``NoRenditions``; nothing is decoded."""
    try:
        file.seek(0)
        with Image.open(file) as image:
            return _original(image)
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
        raise NoRenditions("not a readable image") from None
    finally:
        file.seek(0)


def _original(image: Image.Image) -> Original:
    if image.format not in RENDITION_FORMATS:
        raise NoRenditions(f"{image.format or 'unknown'} images get no renditions")
    if getattr(image, "is_animated", False):
        raise NoRenditions("animated images get no renditions")
    width, height = image.size
    if width * height > IMAGE_MAX_PIXELS:
        raise NoRenditions("the image has too many pixels")
    if image.getexif().get(_EXIF_ORIENTATION) in _TRANSPOSED:
        width, height = height, width
    return Original(image.format, width, height)


def render(file: IO[bytes], widths: list[int] | tuple[int, ...]) -> Iterator[Made]:
    """The renditions of the image in ``file`` at ``widths`` (each smaller than the original)."""
    if not widths:
        return
    try:
        file.seek(0)
        with Image.open(file) as image:
            original = _original(image)
            if any(width >= original.width for width in widths):
                raise ValueError("a rendition is never as wide as its original")
            icc_profile = image.info.get("icc_profile")
            _decode_reduced(image, original, max(widths))
            ImageOps.exif_transpose(image, in_place=True)
            upright = _workable(image, original.format)
            sources = [upright]  # widest first
            for width in sorted(widths, reverse=True):
                # From the narrowest image at least twice as wide: as sharp, and far cheaper
                # than going back to a large original for every width.
                source = next(
                    (larger for larger in reversed(sources) if larger.width >= 2 * width),
                    sources[0],
                )
                resized = source.resize(
                    (width, original.height_at(width)),
                    Image.Resampling.LANCZOS,
                    reducing_gap=3.0,
                )
                sources.append(resized)
                yield Made(width, resized.height, _encode(resized, original.format, icc_profile))
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
        raise NoRenditions("not a readable image") from None
    finally:
        file.seek(0)


def _decode_reduced(image: Image.Image, original: Original, widest: int) -> None:
    """Let a JPEG decoder skip pixels the widest rendition does not need (a cheap 1/2..1/8)."""
    if original.format != "JPEG":
        return
    scale = widest / original.width
    raw_width, raw_height = image.size
    image.draft(image.mode, (math.ceil(raw_width * scale), math.ceil(raw_height * scale)))


def _workable(image: Image.Image, image_format: str) -> Image.Image:
    """``image`` in a mode that resizes smoothly and that its format can store."""
    keeps_alpha = image_format in {"PNG", "WEBP"} and (
        image.mode in {"RGBA", "LA", "PA"} or "transparency" in image.info
    )
    allowed = {"JPEG": {"RGB", "L", "CMYK"}, "PNG": {"RGB", "RGBA", "L", "LA"}}.get(
        image_format, {"RGB", "RGBA"}
    )
    if image.mode in allowed and not (image.mode in {"RGB", "L"} and keeps_alpha):
        return image
    return image.convert("RGBA" if keeps_alpha else "RGB")


def _encode(image: Image.Image, image_format: str, icc_profile: bytes | None) -> bytes:
    # A fresh ``info``: nothing of the original's metadata is carried over by accident.
    image.info = {}
    options: dict = {"icc_profile": icc_profile} if icc_profile else {}
    if image_format == "JPEG":
        options.update(quality=JPEG_QUALITY, optimize=True, progressive=True)
    elif image_format == "PNG":
        # zlib's default level: ``optimize`` would take four times as long for a tenth less.
        options.update(compress_level=6)
    else:
        options.update(quality=WEBP_QUALITY, method=4)
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, **options)
    return buffer.getvalue()
