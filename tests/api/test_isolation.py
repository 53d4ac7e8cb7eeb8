"""What one tenant has is unreachable through another tenant's API."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from apps.content import services
from apps.content.models import Media, Node

from .conftest import assert_problem, in_schema, make_node, upload_media

pytestmark = pytest.mark.django_db

JSON = "application/json"


def test_a_node_of_acme_is_404_through_globex(acme_api, globex_api):
    node = make_node("acme", title="Acme only")
    in_schema("acme", services.node_publish, node_id=node.pk)
    assert acme_api.get(f"/api/v1/posts/{node.pk}/").status_code == 200
    for path in (f"/api/v1/posts/{node.pk}/", f"/api/v1/nodes/{node.pk}/"):
        assert_problem(globex_api.get(path), 404)
    assert_problem(
        globex_api.patch(f"/api/v1/posts/{node.pk}/", {"position": 1}, content_type=JSON), 404
    )
    assert_problem(globex_api.post(f"/api/v1/posts/{node.pk}/unpublish/"), 404)
    assert_problem(
        globex_api.put(
            f"/api/v1/posts/{node.pk}/translations/en/", {"title": "x"}, content_type=JSON
        ),
        404,
    )
    assert_problem(globex_api.delete(f"/api/v1/posts/{node.pk}/"), 404)
    assert globex_api.get("/api/v1/posts/").json()["results"] == []
    with schema_context("acme"):
        node.refresh_from_db()
        assert node.status == "published"
        assert Node.objects.filter(pk=node.pk).exists()


def test_categories_tags_and_media_of_acme_are_404_through_globex(acme_api, globex_api, media_root):
    category = in_schema("acme", services.category_create, name="Acme news")
    tag = in_schema("acme", services.tag_get_or_create, name="Acme tag")
    media = upload_media("acme", en="Acme's picture")
    assert acme_api.get(f"/api/v1/media/{media.pk}/").status_code == 200
    assert_problem(globex_api.get(f"/api/v1/categories/{category.pk}/"), 404)
    assert_problem(globex_api.get(f"/api/v1/tags/{tag.pk}/"), 404)
    assert_problem(globex_api.get(f"/api/v1/media/{media.pk}/"), 404)
    assert globex_api.get("/api/v1/media/").json()["results"] == []
    # a globex node cannot point at acme's category, tag or image
    body = assert_problem(
        globex_api.post(
            "/api/v1/posts/",
            {
                "translations": {"en": {"title": "x"}},
                "category": category.pk,
                "tags": [tag.pk],
                "og_image": str(media.pk),
            },
            content_type=JSON,
        ),
        400,
    )
    assert set(body["errors"]) == {"category", "tags", "og_image"}


def test_media_of_acme_cannot_be_changed_or_deleted_through_globex(
    acme_api, globex_api, media_root
):
    media = upload_media("acme", en="Acme's picture")
    url = f"/api/v1/media/{media.pk}/"
    assert_problem(
        globex_api.patch(url, {"alt_text": {"en": "Taken over"}}, content_type=JSON), 404
    )
    assert_problem(globex_api.delete(url), 404)
    with schema_context("acme"):
        kept = Media.objects.get(pk=media.pk)
        assert kept.alt_text == {"en": "Acme's picture"}
        assert (media_root / "acme" / kept.file.name).exists()
    assert acme_api.get(url).json()["alt_text"] == {"en": "Acme's picture"}


def test_a_media_file_of_acme_is_404_on_globex_host(
    acme_client, globex_client, media_root, settings
):
    settings.DEBUG = True  # uploaded files are served by Django in development only
    media = upload_media("acme", name="secret.png")
    path = f"/media/acme/{media.file.name}"
    with schema_context("acme"):
        assert media.file.url == path
    served = acme_client.get(path)
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    picture = b"".join(served.streaming_content)
    assert picture == (media_root / "acme" / media.file.name).read_bytes()
    assert globex_client.get(path).status_code == 404
    # nor under globex's own prefix: the file is in acme's folder only
    assert globex_client.get(f"/media/globex/{media.file.name}").status_code == 404
    # and climbing out of globex's folder is refused as a suspicious path
    climbing = globex_client.get(f"/media/globex/../acme/{media.file.name}")
    assert climbing.status_code == 400 and picture not in climbing.content


def test_an_acme_session_does_not_authenticate_on_globex(acme_api, globex_client):
    globex_client.cookies["sessionid"] = acme_api.cookies["sessionid"].value
    assert_problem(globex_client.get("/api/v1/posts/"), 401, "not_authenticated")


def test_an_unknown_tenant_is_404(db):
    from django.test import Client

    response = Client(HTTP_HOST="nobody.localhost").get("/api/v1/posts/")
    assert_problem(response, 404)
