"""What one tenant has is unreachable through another tenant's API."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from apps.content import services
from apps.content.models import Node

from .conftest import assert_problem, in_schema, make_node

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
    assert globex_api.get("/api/v1/posts/").json()["count"] == 0
    with schema_context("acme"):
        node.refresh_from_db()
        assert node.status == "published"
        assert Node.objects.filter(pk=node.pk).exists()


def test_categories_tags_and_media_of_acme_are_404_through_globex(acme_api, globex_api):
    category = in_schema("acme", services.category_create, name="Acme news")
    tag = in_schema("acme", services.tag_get_or_create, name="Acme tag")
    assert_problem(globex_api.get(f"/api/v1/categories/{category.pk}/"), 404)
    assert_problem(globex_api.get(f"/api/v1/tags/{tag.pk}/"), 404)
    # a globex node cannot point at acme's category or tag
    body = assert_problem(
        globex_api.post(
            "/api/v1/posts/",
            {"translations": {"en": {"title": "x"}}, "category": category.pk, "tags": [tag.pk]},
            content_type=JSON,
        ),
        400,
    )
    assert set(body["errors"]) == {"category", "tags"}


def test_an_acme_session_does_not_authenticate_on_globex(acme_api, globex_client):
    globex_client.cookies["sessionid"] = acme_api.cookies["sessionid"].value
    assert_problem(globex_client.get("/api/v1/posts/"), 403, "not_authenticated")


def test_an_unknown_tenant_is_404(db):
    from django.test import Client

    response = Client(HTTP_HOST="nobody.localhost").get("/api/v1/posts/")
    assert_problem(response, 404)
