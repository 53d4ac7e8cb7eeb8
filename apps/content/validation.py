"""Validation of what editors send that the database cannot check: metadata JSON, uploaded
images (decoded by ``apps.core.images``, shared with commerce)."""

from __future__ import annotations

import json
import re
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext

from apps.core import images as core_images

from .errors import ContentInvalid

METADATA_KEY_RE = re.compile(r"[a-z][a-z0-9_.-]{0,63}")
METADATA_MAX_KEYS = 50
METADATA_MAX_BYTES = 16 * 1024


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
    """The MIME type of an uploaded image (``apps.core.images``), as a content error."""
    try:
        return core_images.validate_image(file)
    except core_images.ImageInvalid as error:
        raise _invalid("file", error.detail) from None
