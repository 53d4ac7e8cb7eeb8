"""Validation of what editors send that the database cannot check: metadata JSON, uploaded images."""

from __future__ import annotations

import json
import re
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext
from PIL import Image, UnidentifiedImageError

from .errors import ContentInvalid

METADATA_KEY_RE = re.compile(r"[a-z][a-z0-9_.-]{0,63}")
METADATA_MAX_KEYS = 50
METADATA_MAX_BYTES = 16 * 1024
IMAGE_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}
IMAGE_MAX_BYTES = 10 * 1024 * 1024
IMAGE_MAX_PIXELS = 40_000_000


def _invalid(field: str, message: str) -> ContentInvalid:
    return ContentInvalid({field: message})


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def validate_metadata(metadata: Any) -> dict[str, Any]:
    """A flat JSON object: slug-like keys, scalar or list-of-scalar values, 16 kB at most."""
    if metadata in (None, ""):
        return {}
    if not isinstance(metadata, dict):
        raise _invalid("metadata", gettext("must be a JSON object"))
    if len(metadata) > METADATA_MAX_KEYS:
        raise _invalid("metadata", gettext("at most %(count)s keys") % {"count": METADATA_MAX_KEYS})
    for key, value in metadata.items():
        if not isinstance(key, str) or not METADATA_KEY_RE.fullmatch(key):
            raise _invalid(
                "metadata",
                gettext("key %(key)s: lowercase letters, digits, '_', '.', '-' (64 max)")
                % {"key": repr(key)},
            )
        if not (
            _scalar(value) or (isinstance(value, list) and all(_scalar(item) for item in value))
        ):
            raise _invalid(
                "metadata",
                gettext("key %(key)s: values are strings, numbers, booleans or lists of them")
                % {"key": repr(key)},
            )
    if "\\u0000" in json.dumps(metadata):
        raise _invalid("metadata", gettext("must not contain NUL characters"))
    if len(json.dumps(metadata)) > METADATA_MAX_BYTES:
        raise _invalid("metadata", gettext("at most 16 kB"))
    return metadata


def validate_image(file: UploadedFile) -> str:
    """The MIME type of an uploaded image, checked by decoding it (not by its name or header)."""
    if file.size is None or file.size <= 0:
        raise _invalid("file", gettext("the file is empty"))
    if file.size > IMAGE_MAX_BYTES:
        raise _invalid(
            "file", gettext("at most %(size)s MB") % {"size": IMAGE_MAX_BYTES // (1024 * 1024)}
        )
    try:
        file.seek(0)
        with Image.open(file) as image:
            image_format = image.format
            if image.width * image.height > IMAGE_MAX_PIXELS:
                raise _invalid("file", gettext("the image has too many pixels"))
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
        raise _invalid(
            "file", gettext("not an image in a supported format (JPEG, PNG, GIF, WebP)")
        ) from None
    finally:
        file.seek(0)
    if image_format not in IMAGE_TYPES:
        raise _invalid(
            "file",
            gettext("%(format)s images are not accepted (JPEG, PNG, GIF, WebP)")
            % {"format": image_format},
        )
    return IMAGE_TYPES[image_format]
