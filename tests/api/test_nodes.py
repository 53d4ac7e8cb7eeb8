"""Nodes, posts and pages through the API: CRUD, translations, status actions, lists."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.content import services
from apps.content.models import Node, NodeStatus, NodeTranslation
from apps.events.models import OutboxEvent

from .conftest import assert_problem, in_schema, make_node

pytestmark = pytest.mark.django_db


def _events(node_id) -> list[str]:
    return list(
        OutboxEvent.objects.filter(aggregate_id=str(node_id))
        .order_by("event_id")
        .values_list("event_type", flat=True)
    )


# -- create ---------------------------------------------------------------------------


def test_create_a_post_with_translations_tags_and_category(acme_api, acme_de):
    category = in_schema("acme", services.category_create, name="News")
    tag = in_schema("acme", services.tag_get_or_create, name="Django")
    response = acme_api.post(
        "/api/v1/posts/",
        {
            "translations": {
                "en": {"title": "Hello world", "body": "**Hi**", "excerpt": "First"},
                "de": {"title": "Hallo Welt", "slug": "hallo"},
            },
            "category": category.pk,
            "tags": [tag.pk],
            "metadata": {"reading.minutes": 3},
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == "post"
    assert body["status"] == "draft"
    assert body["category"] == {
        "id": category.pk,
        "slug": "news",
        "name": "News",
        "translations": {},
    }
    assert body["tags"] == [{"id": tag.pk, "slug": "django", "name": "Django", "translations": {}}]
    assert body["metadata"] == {"reading.minutes": 3}
    assert body["author"]["name"] == "Staff writer"  # no name given; never the login email
    assert "admin@acme.test" not in json.dumps(body)
    assert set(body["translations"]) == {"en", "de"}
    assert body["translations"]["en"]["slug"] == "hello-world"
    assert body["translations"]["en"]["body_html"].strip() == "<p><strong>Hi</strong></p>"
    assert body["translations"]["de"]["slug"] == "hallo"
    with schema_context("acme"):
        node = Node.objects.get(pk=body["id"])
        assert node.tags.count() == 1
        assert node.revisions.count() == 1
    assert _events(body["id"])[0] == "content.node.created"


def test_create_through_nodes_takes_any_kind_and_posts_or_pages_fix_theirs(acme_api):
    made = acme_api.post(
        "/api/v1/nodes/",
        {"kind": "recipe", "translations": {"en": {"title": "Soup"}}},
        content_type="application/json",
    )
    assert made.status_code == 201
    assert made.json()["kind"] == "recipe"
    page = acme_api.post(
        "/api/v1/pages/",
        {"translations": {"en": {"title": "About"}}},
        content_type="application/json",
    )
    assert page.json()["kind"] == "page"
    # kind is the endpoint's: posts refuse it as an unknown field
    body = assert_problem(
        acme_api.post(
            "/api/v1/posts/",
            {"kind": "page", "translations": {"en": {"title": "X"}}},
            content_type="application/json",
        ),
        400,
    )
    assert body["errors"] == {"kind": ["Unknown field."]}


# -- read ------------------------------------------------------------------------------


def test_retrieve_a_node_and_only_through_the_endpoint_of_its_kind(acme_api):
    post = make_node(kind="post", title="A post")
    page = make_node(kind="page", title="A page")
    assert acme_api.get(f"/api/v1/posts/{post.pk}/").json()["translations"]["en"]["title"] == (
        "A post"
    )
    assert acme_api.get(f"/api/v1/nodes/{post.pk}/").status_code == 200
    assert acme_api.get(f"/api/v1/pages/{page.pk}/").status_code == 200
    assert_problem(acme_api.get(f"/api/v1/pages/{post.pk}/"), 404, "not_found")
    assert_problem(acme_api.get(f"/api/v1/posts/{page.pk}/"), 404, "not_found")
    assert_problem(acme_api.post(f"/api/v1/pages/{post.pk}/publish/"), 404)


def test_list_is_still_paginated_by_the_deprecated_page_number(acme_api):
    """Cursors are in tests/api/test_pagination.py; ``?page=`` answers as it always did."""
    for number in range(5):
        make_node(title=f"Post {number}")
    first = acme_api.get("/api/v1/posts/?page_size=2&page=1")
    assert first["Deprecation"].startswith("@")
    first = first.json()
    assert first["count"] == 5
    assert len(first["results"]) == 2
    assert first["previous"] is None
    assert "page=2" in first["next"]
    third = acme_api.get("/api/v1/posts/?page_size=2&page=3").json()
    assert len(third["results"]) == 1
    assert third["next"] is None
    seen = [r["id"] for page in (1, 2, 3) for r in _page(acme_api, page)]
    assert len(set(seen)) == 5  # no overlap, nothing skipped
    assert_problem(acme_api.get("/api/v1/posts/?page=4&page_size=2"), 404)


def _page(client, number: int) -> list[dict]:
    return client.get(f"/api/v1/posts/?page_size=2&page={number}").json()["results"]


def test_list_filters_by_status_kind_category_tag_and_locale(acme_api, acme_de):
    news = in_schema("acme", services.category_create, name="News")
    django = in_schema("acme", services.tag_get_or_create, name="Django")
    tagged = make_node(title="Tagged", tag_ids=[django.pk], category_id=news.pk)
    german = make_node(
        title="Both", translations={"en": {"title": "Both"}, "de": {"title": "Beide"}}
    )
    published = make_node(title="Published")
    page = make_node(kind="page", title="Page")
    in_schema("acme", services.node_publish, node_id=published.pk)

    def ids(query: str) -> set[str]:
        response = acme_api.get(f"/api/v1/nodes/?{query}")
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    assert ids("status=published") == {str(published.pk)}
    assert ids("status=draft") == {str(tagged.pk), str(german.pk), str(page.pk)}
    assert ids("kind=page") == {str(page.pk)}
    assert ids("category=news") == {str(tagged.pk)}
    assert ids("tag=django") == {str(tagged.pk)}
    assert ids("locale=de") == {str(german.pk)}
    assert ids("tag=django&status=published") == set()
    assert ids("locale=en&kind=post&status=draft") == {str(tagged.pk), str(german.pk)}
    body = assert_problem(acme_api.get("/api/v1/nodes/?status=gone"), 400, "invalid")
    assert list(body["errors"]) == ["status"]
    assert_problem(acme_api.get("/api/v1/nodes/?parent=not-a-uuid"), 400)
    assert_problem(acme_api.get("/api/v1/nodes/?author=x"), 400)


def test_list_ordering(acme_api):
    low = make_node(title="Low", position=1)
    high = make_node(title="High", position=9)
    unpublished = make_node(title="Never published")
    for node in (low, high):
        in_schema("acme", services.node_publish, node_id=node.pk)

    def order(ordering: str) -> list[str]:
        rows = acme_api.get(f"/api/v1/posts/?ordering={ordering}").json()["results"]
        return [row["id"] for row in rows]

    low, high, unpublished = str(low.pk), str(high.pk), str(unpublished.pk)
    assert order("position") == [unpublished, low, high]
    assert order("-position") == [high, low, unpublished]
    # nodes never published sort last both ways
    assert order("-published_at") == [high, low, unpublished]
    assert order("published_at") == [low, high, unpublished]
    # the default: newest first
    assert order("") == [unpublished, high, low]


# -- update -----------------------------------------------------------------------------


def test_patch_changes_fields_and_merges_translations(acme_api, acme_de):
    node = make_node(
        translations={"en": {"title": "Old", "body": "Keep me", "excerpt": "Short"}},
    )
    tag = in_schema("acme", services.tag_get_or_create, name="Tips")
    response = acme_api.patch(
        f"/api/v1/posts/{node.pk}/",
        {
            "canonical_url": "https://example.com/old",
            "tags": [tag.pk],
            "translations": {"en": {"title": "New"}, "de": {"title": "Neu", "body": "Hallo"}},
        },
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["canonical_url"] == "https://example.com/old"
    assert [t["slug"] for t in body["tags"]] == ["tips"]
    assert body["translations"]["en"]["title"] == "New"
    assert body["translations"]["en"]["body"] == "Keep me"  # not given: kept
    assert body["translations"]["en"]["slug"] == "old"  # URLs stay stable
    assert body["translations"]["de"]["body_html"].strip() == "<p>Hallo</p>"
    assert body["version"] > 1
    assert "content.node.updated" in _events(node.pk)


def test_patch_is_all_or_nothing(acme_api):
    node = make_node(title="Stays")
    before = _events(node.pk)
    response = acme_api.patch(
        f"/api/v1/posts/{node.pk}/",
        {"metadata": {"a": 1}, "translations": {"en": {"title": "Changed"}, "xx": {"title": "X"}}},
        content_type="application/json",
    )
    # the node's fields and its English title were written before the service refused "xx"
    body = assert_problem(response, 400, "content_invalid")
    assert list(body["errors"]) == ["locale"]
    with schema_context("acme"):
        node.refresh_from_db()
        assert node.metadata == {}
        assert node.translations.get().title == "Stays"
    assert _events(node.pk) == before


def test_patch_clears_category_and_tags(acme_api):
    category = in_schema("acme", services.category_create, name="News")
    tag = in_schema("acme", services.tag_get_or_create, name="Old")
    node = make_node(category_id=category.pk, tag_ids=[tag.pk])
    body = acme_api.patch(
        f"/api/v1/posts/{node.pk}/", {"category": None, "tags": []}, content_type="application/json"
    ).json()
    assert body["category"] is None
    assert body["tags"] == []


def test_put_and_delete_one_translation(acme_api, acme_de):
    node = make_node(title="Hello")
    url = f"/api/v1/posts/{node.pk}/translations/de/"
    created = acme_api.put(url, {"title": "Hallo"}, content_type="application/json")
    assert created.status_code == 201, created.content
    assert created.json()["slug"] == "hallo"
    replaced = acme_api.put(
        url,
        {"title": "Hallo", "body": "Text", "body_format": "html"},
        content_type="application/json",
    )
    assert replaced.status_code == 200
    assert replaced.json()["body_format"] == "html"
    assert acme_api.delete(url).status_code == 204
    with schema_context("acme"):
        assert list(NodeTranslation.objects.filter(node=node).values_list("locale", flat=True)) == [
            "en"
        ]
    assert_problem(acme_api.delete(url), 404)
    # the last translation stays
    body = assert_problem(acme_api.delete(f"/api/v1/posts/{node.pk}/translations/en/"), 400)
    assert body["errors"] == {"locale": ["the last translation of a node cannot be deleted"]}
    body = assert_problem(
        acme_api.put(
            f"/api/v1/posts/{node.pk}/translations/fr/",
            {"title": "Bonjour"},
            content_type="application/json",
        ),
        400,
    )
    assert list(body["errors"]) == ["locale"]


# -- delete -------------------------------------------------------------------------------


def test_delete_a_node(acme_api):
    node = make_node()
    assert acme_api.delete(f"/api/v1/posts/{node.pk}/").status_code == 204
    with schema_context("acme"):
        assert not Node.objects.filter(pk=node.pk).exists()
    assert "content.node.deleted" in _events(node.pk)
    assert_problem(acme_api.delete(f"/api/v1/posts/{node.pk}/"), 404)


def test_a_node_with_children_is_not_deleted(acme_api):
    parent = make_node(kind="page", title="About")
    make_node(kind="page", title="Team", parent_id=parent.pk)
    body = assert_problem(acme_api.delete(f"/api/v1/pages/{parent.pk}/"), 400, "content_invalid")
    assert body["errors"] == {"children": ["move or delete the children first"]}


# -- status actions -------------------------------------------------------------------------


def test_publish_unpublish_archive_restore(acme_api):
    node = make_node()
    url = f"/api/v1/posts/{node.pk}"
    published = acme_api.post(f"{url}/publish/")
    assert published.status_code == 200, published.content
    assert published.json()["status"] == "published"
    assert published.json()["published_at"]
    assert acme_api.post(f"{url}/unpublish/").json()["status"] == "draft"
    acme_api.post(f"{url}/publish/")
    assert acme_api.post(f"{url}/archive/").json()["status"] == "archived"
    assert acme_api.post(f"{url}/restore/").json()["status"] == "draft"
    assert _events(node.pk)[-5:] == [
        "content.node.published",
        "content.node.unpublished",
        "content.node.published",
        "content.node.archived",
        "content.node.restored",
    ]


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (NodeStatus.DRAFT, "archive"),
        (NodeStatus.DRAFT, "unpublish"),
        (NodeStatus.DRAFT, "restore"),
        (NodeStatus.PUBLISHED, "publish"),
        (NodeStatus.PUBLISHED, "restore"),
        (NodeStatus.ARCHIVED, "publish"),
        (NodeStatus.ARCHIVED, "unpublish"),
        (NodeStatus.ARCHIVED, "archive"),
    ],
)
def test_an_impossible_transition_is_a_409_and_changes_nothing(acme_api, status, action):
    node = make_node()
    if status != NodeStatus.DRAFT:
        in_schema("acme", services.node_publish, node_id=node.pk)
    if status == NodeStatus.ARCHIVED:
        in_schema("acme", services.node_archive, node_id=node.pk)
    before = _events(node.pk)
    body = assert_problem(acme_api.post(f"/api/v1/posts/{node.pk}/{action}/"), 409)
    assert body["code"] == "invalid_transition"
    assert body["current"] == status
    with schema_context("acme"):
        assert Node.objects.get(pk=node.pk).status == status
    assert _events(node.pk) == before


def test_schedule_and_unschedule_a_draft(acme_api):
    node = make_node()
    when = (timezone.now() + dt.timedelta(days=1)).replace(microsecond=0)
    url = f"/api/v1/posts/{node.pk}/schedule/"
    body = acme_api.post(
        url, {"publish_at": when.isoformat()}, content_type="application/json"
    ).json()
    assert dt.datetime.fromisoformat(body["publish_at"]) == when
    assert (
        acme_api.post(url, {"publish_at": None}, content_type="application/json").json()[
            "publish_at"
        ]
        is None
    )
    past = (timezone.now() - dt.timedelta(days=1)).isoformat()
    body = assert_problem(
        acme_api.post(url, {"publish_at": past}, content_type="application/json"), 400
    )
    assert list(body["errors"]) == ["publish_at"]
    in_schema("acme", services.node_publish, node_id=node.pk)
    assert_problem(
        acme_api.post(url, {"publish_at": when.isoformat()}, content_type="application/json"),
        409,
        "invalid_transition",
    )


def test_nodes_of_other_kinds_move_in_the_tree(acme_api):
    root = make_node(kind="recipe", title="Soups")
    child = make_node(kind="recipe", title="Tomato soup")
    body = acme_api.patch(
        f"/api/v1/nodes/{child.pk}/",
        {"parent": str(root.pk), "position": 2},
        content_type="application/json",
    ).json()
    assert (body["parent"], body["position"]) == (str(root.pk), 2)
    children = acme_api.get(f"/api/v1/nodes/?parent={root.pk}").json()["results"]
    assert [row["id"] for row in children] == [str(child.pk)]
    body = assert_problem(
        acme_api.patch(
            f"/api/v1/nodes/{root.pk}/", {"parent": str(child.pk)}, content_type="application/json"
        ),
        400,
    )
    assert body["errors"] == {"parent": ["a node cannot be its own ancestor"]}
