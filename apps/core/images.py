"""Validation of uploaded images, shared by every module that takes them (content's media,
commerce's product images).

Pure: it decodes the file and reports, it never stores anything. A module turns
``ImageInvalid`` into its own typed error, so each delivery channel keeps one mapping.
"""

from __future__ import annotations

from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext
from PIL import Image, UnidentifiedImageError

from .errors import ValidationFailed

IMAGE_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}
IMAGE_MAX_BYTES = 10 * 1024 * 1024
IMAGE_MAX_PIXELS = 40_000_000


class ImageInvalid(ValidationFailed):
    """The upload is not an image the platform accepts; the message says why."""

    code = "image_invalid"


def validate_image(file: UploadedFile) -> str:
    """The MIME type of an uploaded image, checked by decoding it (not by its name or header)."""
    if file.size is None or file.size <= 0:
        raise ImageInvalid(gettext("the file is empty"))
    if file.size > IMAGE_MAX_BYTES:
        raise ImageInvalid(
            gettext("at most %(size)s MB") % {"size": IMAGE_MAX_BYTES // (1024 * 1024)}
        )
    try:
        file.seek(0)
        with Image.open(file) as image:
            image_format = image.format
            if image.width * image.height > IMAGE_MAX_PIXELS:
                raise ImageInvalid(gettext("the image has too many pixels"))
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
        raise ImageInvalid(
            gettext("not an image in a supported format (JPEG, PNG, GIF, WebP)")
        ) from None
    finally:
        file.seek(0)
    if image_format not in IMAGE_TYPES:
        raise ImageInvalid(
            gettext("%(format)s images are not accepted (JPEG, PNG, GIF, WebP)")
            % {"format": image_format}
        )
    return IMAGE_TYPES[image_format]


def image_size(file: UploadedFile) -> tuple[int, int]:
    """Width and height of an image that ``validate_image`` accepted."""
    try:
        file.seek(0)
        with Image.open(file) as image:
            return image.width, image.height
    finally:
        file.seek(0)
