"""Media, categories and tags in the admin: writes through the services, refusals on the form."""

from __future__ import annotations

import io

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context
from PIL import Image

from apps.content import services
from apps.content.models import Category, Media, Tag

from .conftest import errors_in, events, in_acme, make_node, messages_of, page

MEDIA = "/admin/content/media/"
CATEGORIES = "/admin/content/category/"
TAGS = "/admin/content/tag/"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


def png(name: str = "red.png", size: tuple[int, int] = (4, 3)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, "red").save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


# -- media


def test_a_text_file_named_png_is_refused_on_the_form(editor_client):
    fake = SimpleUploadedFile("photo.png", b"just some text, not an image", "image/png")

    response = editor_client.post(f"{MEDIA}add/", {"file": fake, "alt_en": "A photo"})

    content = page(response)
    assert "not an image in a supported format (JPEG, PNG, GIF, WebP)" in errors_in(content)
    assert in_acme(lambda: Media.objects.count()) == 0
    assert not events("content.media.uploaded")


def test_an_image_is_uploaded_through_the_service_with_alt_text_per_locale(
    editor_client, editor, acme_de
):
    response = editor_client.post(
        f"{MEDIA}add/", {"file": png(), "alt_en": "A red square", "alt_de": "Ein rotes Quadrat"}
    )

    assert response.status_code == 302, errors_in(response.content.decode())
    with schema_context("acme"):
        media = Media.objects.get()
    assert (media.content_type, media.width, media.height) == ("image/png", 4, 3)
    assert media.alt_text == {"en": "A red square", "de": "Ein rotes Quadrat"}
    assert media.uploaded_by_id == editor.pk
    [uploaded] = events("content.media.uploaded", media.pk)
    assert uploaded.payload["content_type"] == "image/png"

    listing = page(editor_client.get(MEDIA))
    assert "A red square" in listing and "4x3" in listing


def test_alt_text_is_changed_through_the_service(editor_client, acme_de):
    with schema_context("acme"):
        media = services.media_upload(file=png(), alt_text={"en": "Old"})
    change = f"{MEDIA}{media.pk}/change/"
    assert 'value="Old"' in page(editor_client.get(change))

    response = editor_client.post(change, {"alt_en": "New", "alt_de": "Neu", "_save": "Save"})

    assert response.status_code == 302, errors_in(response.content.decode())
    assert in_acme(lambda: Media.objects.get(pk=media.pk).alt_text) == {"en": "New", "de": "Neu"}


def test_media_is_deleted_through_the_service(editor_client):
    with schema_context("acme"):
        media = services.media_upload(file=png())

    response = editor_client.post(
        MEDIA,
        {"action": "delete_selected", ACTION_CHECKBOX_NAME: [str(media.pk)], "post": "yes"},
        follow=True,
    )

    assert any(m.startswith("Deleted 1 media") for m in messages_of(response))
    assert in_acme(lambda: Media.objects.count()) == 0
    assert events("content.media.deleted", media.pk)


def test_the_delete_page_lists_the_renditions_that_go_with_the_media(editor_client):
    with schema_context("acme"):
        media = services.media_upload(file=png(size=(700, 400)))
        services.media_renditions_make(media_id=media.pk)

    response = editor_client.post(
        MEDIA, {"action": "delete_selected", ACTION_CHECKBOX_NAME: [str(media.pk)]}
    )

    assert response.status_code == 200
    assert "copy 320 px wide" in page(response) and "copy 640 px wide" in page(response)


# -- categories


def test_a_category_is_created_and_changed_through_the_services(editor_client):
    response = editor_client.post(
        f"{CATEGORIES}add/", {"name": "Travel", "slug": "", "parent": "", "description": ""}
    )
    assert response.status_code == 302, errors_in(response.content.decode())
    with schema_context("acme"):
        travel = Category.objects.get()
    assert travel.slug == "travel"
    assert events("content.category.created")

    response = editor_client.post(
        f"{CATEGORIES}{travel.pk}/change/",
        {"name": "Journeys", "slug": "journeys", "parent": "", "description": "Far away"},
    )

    assert response.status_code == 302, errors_in(response.content.decode())
    with schema_context("acme"):
        travel.refresh_from_db()
    assert (travel.name, travel.slug, travel.description) == ("Journeys", "journeys", "Far away")
    assert events("content.category.updated")


def test_a_category_refused_by_the_service_shows_why(editor_client):
    with schema_context("acme"):
        parent = services.category_create(name="Parent")
        child = services.category_create(name="Child", parent_id=parent.pk)

    # Made its own ancestor: the service refuses, the form says so.
    response = editor_client.post(
        f"{CATEGORIES}{parent.pk}/change/",
        {"name": "Parent", "slug": "parent", "parent": child.pk, "description": ""},
    )

    assert "a category cannot be its own ancestor" in errors_in(page(response))
    assert in_acme(lambda: Category.objects.get(pk=parent.pk).parent_id) is None


def test_a_category_with_subcategories_cannot_be_deleted(editor_client):
    with schema_context("acme"):
        parent = services.category_create(name="Parent")
        services.category_create(name="Child", parent_id=parent.pk)

    response = editor_client.post(f"{CATEGORIES}{parent.pk}/delete/", {"post": "yes"})

    assert "Cannot delete" in page(response)
    assert in_acme(lambda: Category.objects.count()) == 2


def test_deleting_a_category_goes_through_the_service(editor_client):
    with schema_context("acme"):
        category = services.category_create(name="Gone")
    make_node(category_id=category.pk)

    response = editor_client.post(f"{CATEGORIES}{category.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert in_acme(lambda: Category.objects.count()) == 0
    assert events("content.category.deleted")


# -- tags


def test_a_tag_is_created_through_the_service_and_deleted_through_it(editor_client):
    response = editor_client.post(f"{TAGS}add/", {"name": "Summer Trips", "slug": ""})

    assert response.status_code == 302, errors_in(response.content.decode())
    with schema_context("acme"):
        tag = Tag.objects.get()
    assert tag.slug == "summer-trips"
    assert events("content.tag.created")

    response = editor_client.post(
        TAGS,
        {"action": "delete_selected", ACTION_CHECKBOX_NAME: [str(tag.pk)], "post": "yes"},
        follow=True,
    )
    assert "Deleted 1 tag: “Summer Trips”." in messages_of(response)
    assert events("content.tag.deleted")


def test_a_tag_slug_taken_is_shown_on_the_form(editor_client):
    with schema_context("acme"):
        services.tag_get_or_create(name="Summer")

    response = editor_client.post(f"{TAGS}add/", {"name": "Other", "slug": "summer"})

    assert "Tag with this Slug already exists." in errors_in(page(response))
    assert in_acme(lambda: Tag.objects.count()) == 1
