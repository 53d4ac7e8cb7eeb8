"""The kernel's image validation, shared by content's media and commerce's product images."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from apps.core import images
from apps.core.images import ImageInvalid, image_size, validate_image


def _upload(image_format: str, size=(5, 4), name="picture") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, "navy").save(buffer, image_format)
    return SimpleUploadedFile(name, buffer.getvalue())


@pytest.mark.parametrize(
    ("image_format", "mime"),
    [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("GIF", "image/gif"), ("WEBP", "image/webp")],
)
def test_the_type_comes_from_the_pixels_not_the_name(image_format, mime):
    upload = _upload(image_format, name="misleading.txt")
    assert validate_image(upload) == mime
    assert upload.tell() == 0  # left ready to be stored
    assert image_size(upload) == (5, 4)


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("empty.png", b""), "the file is empty"),
        (SimpleUploadedFile("shell.png", b"<?php echo 1; ?>"), "not an image in a supported"),
        (_upload("BMP"), "BMP images are not accepted"),
        (_upload("TIFF"), "TIFF images are not accepted"),
    ],
)
def test_what_is_refused_says_why(upload, message):
    with pytest.raises(ImageInvalid, match=message) as caught:
        validate_image(upload)
    assert caught.value.status == 422


def test_size_and_pixel_limits(monkeypatch):
    monkeypatch.setattr(images, "IMAGE_MAX_BYTES", 1024 * 1024)
    with pytest.raises(ImageInvalid, match="at most 1 MB"):
        validate_image(SimpleUploadedFile("big.png", b"\0" * (1024 * 1024 + 1)))
    monkeypatch.undo()
    monkeypatch.setattr(images, "IMAGE_MAX_PIXELS", 5 * 4 - 1)
    with pytest.raises(ImageInvalid, match="too many pixels"):
        validate_image(_upload("PNG"))
