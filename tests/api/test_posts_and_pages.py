"""Posts and pages are written through the blog's and the pages' services, with their rules."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from apps.content.models import Node, Tag
from apps.events.models import OutboxEvent
from apps.pages.models import PageLayout

from .conftest import assert_problem, make_node

pytestmark = pytest.mark.django_db

JSON = "application/json"


def test_a_post_may_name_new_tags(acme_api):
    response = acme_api.post(
        "/api/v1/posts/",
        {"translations": {"en": {"title": "Tagged"}}, "tag_names": ["Brand new", "Other"]},
        content_type=JSON,
    )
    assert response.status_code == 201, response.content
    assert sorted(t["slug"] for t in response.json()["tags"]) == ["brand-new", "other"]
    with schema_context("acme"):
        assert Tag.objects.count() == 2


def test_the_blog_refuses_slugs_of_its_own_pages(acme_api):
    body = assert_problem(
        acme_api.post(
            "/api/v1/posts/", {"translations": {"en": {"title": "Feed"}}}, content_type=JSON
        ),
        400,
        "content_invalid",
    )
    assert list(body["errors"]) == ["translations.en.slug"]
    post = make_node(title="Fine")
    body = assert_problem(
        acme_api.patch(
            f"/api/v1/posts/{post.pk}/",
            {"translations": {"en": {"slug": "archive"}}},
            content_type=JSON,
        ),
        400,
    )
    assert list(body["errors"]) == ["translations.en.slug"]


def test_posts_have_no_place_in_the_page_tree(acme_api):
    body = assert_problem(
        acme_api.post(
            "/api/v1/posts/",
            {"translations": {"en": {"title": "x"}}, "position": 3},
            content_type=JSON,
        ),
        400,
    )
    assert body["errors"] == {"position": ["Unknown field."]}


def test_posts_and_pages_are_written_at_their_own_endpoint_not_at_nodes(acme_api):
    body = assert_problem(
        acme_api.post(
            "/api/v1/nodes/",
            {"kind": "post", "translations": {"en": {"title": "x"}}},
            content_type=JSON,
        ),
        400,
    )
    assert body["errors"] == {"kind": ["nodes of kind 'post' are written through /api/v1/posts/"]}
    page = make_node(kind="page", title="About")
    for response in (
        acme_api.patch(f"/api/v1/nodes/{page.pk}/", {"position": 2}, content_type=JSON),
        acme_api.put(
            f"/api/v1/nodes/{page.pk}/translations/en/", {"title": "x"}, content_type=JSON
        ),
        acme_api.delete(f"/api/v1/nodes/{page.pk}/"),
    ):
        assert assert_problem(response, 400)["errors"] == {
            "kind": ["nodes of kind 'page' are written through /api/v1/pages/"]
        }
    # reading and status changes are the same everywhere
    assert acme_api.get(f"/api/v1/nodes/{page.pk}/").status_code == 200
    assert acme_api.post(f"/api/v1/nodes/{page.pk}/publish/").json()["status"] == "published"


HERO = {"type": "hero", "title": "Welcome"}
TEXT = {"type": "rich_text", "body": "Hello **there**"}


def test_create_a_page_with_its_layout(acme_api):
    response = acme_api.post(
        "/api/v1/pages/",
        {
            "translations": {"en": {"title": "Home"}},
            "template": "landing",
            "is_home": True,
            "blocks": {"en": [HERO, TEXT]},
        },
        content_type=JSON,
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == "page"
    assert body["layout"]["template"] == "landing"
    assert body["layout"]["is_home"] is True
    assert [b["type"] for b in body["layout"]["blocks"]["en"]] == ["hero", "rich_text"]
    assert acme_api.get(f"/api/v1/pages/{body['id']}/").json()["layout"] == body["layout"]
    assert OutboxEvent.objects.filter(
        event_type="pages.layout.updated", aggregate_id=body["id"]
    ).exists()


def test_page_rules(acme_api):
    body = assert_problem(
        acme_api.post(
            "/api/v1/pages/", {"translations": {"en": {"title": "Blog"}}}, content_type=JSON
        ),
        400,
        "pages_invalid",
    )
    assert list(body["errors"]) == ["translations.en.slug"]
    post = make_node(kind="post")
    body = assert_problem(
        acme_api.post(
            "/api/v1/pages/",
            {"translations": {"en": {"title": "Child"}}, "parent": str(post.pk)},
            content_type=JSON,
        ),
        400,
    )
    assert body["errors"] == {"parent": ["must be a page"]}
    body = assert_problem(
        acme_api.post(
            "/api/v1/pages/",
            {"translations": {"en": {"title": "Bad"}}, "blocks": {"en": [{"type": "hero"}]}},
            content_type=JSON,
        ),
        400,
        "pages_invalid",
    )
    assert all(name.startswith("blocks.en") for name in body["errors"])
    body = assert_problem(
        acme_api.post(
            "/api/v1/pages/",
            {"translations": {"en": {"title": "Bad"}}, "template": "fancy"},
            content_type=JSON,
        ),
        400,
    )
    assert list(body["errors"]) == ["template"]


def test_change_a_page_and_its_layout_in_one_request(acme_api):
    page = acme_api.post(
        "/api/v1/pages/", {"translations": {"en": {"title": "About"}}}, content_type=JSON
    ).json()
    assert page["layout"]["blocks"] == {}
    response = acme_api.patch(
        f"/api/v1/pages/{page['id']}/",
        {"position": 5, "blocks": {"en": [TEXT]}, "translations": {"en": {"excerpt": "Us"}}},
        content_type=JSON,
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["position"] == 5
    assert body["layout"]["blocks"]["en"][0]["type"] == "rich_text"
    assert body["layout"]["version"] == 2
    assert body["translations"]["en"]["excerpt"] == "Us"
    # a refused layout undoes the rest
    body = assert_problem(
        acme_api.patch(
            f"/api/v1/pages/{page['id']}/",
            {"position": 9, "blocks": {"en": [{"type": "nope"}]}},
            content_type=JSON,
        ),
        400,
    )
    assert acme_api.get(f"/api/v1/pages/{page['id']}/").json()["position"] == 5


def test_delete_a_page_and_its_layout(acme_api):
    page = acme_api.post(
        "/api/v1/pages/",
        {"translations": {"en": {"title": "Gone soon"}}, "blocks": {"en": [HERO]}},
        content_type=JSON,
    ).json()
    assert acme_api.delete(f"/api/v1/pages/{page['id']}/").status_code == 204
    with schema_context("acme"):
        assert not Node.objects.filter(pk=page["id"]).exists()
        assert not PageLayout.objects.filter(node_id=page["id"]).exists()
    types = set(
        OutboxEvent.objects.filter(aggregate_id=page["id"]).values_list("event_type", flat=True)
    )
    assert {"pages.layout.deleted", "content.node.deleted"} <= types
