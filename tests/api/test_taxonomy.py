"""Categories and tags through the API."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from apps.content import services
from apps.content.models import Category, Tag
from apps.events.models import OutboxEvent

from .conftest import assert_problem, in_schema, make_node

pytestmark = pytest.mark.django_db

JSON = "application/json"


def test_category_crud(acme_api):
    made = acme_api.post(
        "/api/v1/categories/", {"name": "News", "description": "What happens"}, content_type=JSON
    )
    assert made.status_code == 201, made.content
    news = made.json()
    assert news == {
        "id": news["id"],
        "name": "News",
        "slug": "news",
        "parent": None,
        "position": 0,
        "description": "What happens",
        "translations": {},
    }
    child = acme_api.post(
        "/api/v1/categories/",
        {"name": "Local news", "slug": "local", "parent": news["id"]},
        content_type=JSON,
    ).json()
    assert child["parent"] == news["id"]
    assert acme_api.get(f"/api/v1/categories/{news['id']}/").json()["name"] == "News"
    listed = acme_api.get("/api/v1/categories/").json()
    assert [c["slug"] for c in listed["results"]] == ["local", "news"]
    children = acme_api.get(f"/api/v1/categories/?parent={news['id']}").json()["results"]
    assert [c["slug"] for c in children] == ["local"]

    changed = acme_api.patch(
        f"/api/v1/categories/{news['id']}/", {"name": "World news"}, content_type=JSON
    )
    assert changed.status_code == 200
    assert changed.json()["name"] == "World news"
    assert changed.json()["slug"] == "news"  # not given: kept

    body = assert_problem(acme_api.delete(f"/api/v1/categories/{news['id']}/"), 400)
    assert body["errors"] == {"children": ["delete or move the subcategories first"]}
    assert acme_api.delete(f"/api/v1/categories/{child['id']}/").status_code == 204
    assert acme_api.delete(f"/api/v1/categories/{news['id']}/").status_code == 204
    with schema_context("acme"):
        assert not Category.objects.exists()
    assert OutboxEvent.objects.filter(event_type="content.category.deleted").count() == 2


def test_category_errors(acme_api):
    taken = in_schema("acme", services.category_create, name="News")
    body = assert_problem(
        acme_api.post("/api/v1/categories/", {"name": "News"}, content_type=JSON),
        400,
        "content_invalid",
    )
    assert body["errors"] == {"slug": ["'news' is taken"]}
    body = assert_problem(
        acme_api.post("/api/v1/categories/", {"name": "X", "parent": 999}, content_type=JSON), 400
    )
    assert body["errors"] == {"parent": ["no such category"]}
    body = assert_problem(
        acme_api.patch(f"/api/v1/categories/{taken.pk}/", {"parent": taken.pk}, content_type=JSON),
        400,
    )
    assert body["errors"] == {"parent": ["a category cannot be its own ancestor"]}


def test_a_category_moves_back_to_the_top_level(acme_api):
    news = in_schema("acme", services.category_create, name="News")
    local = in_schema("acme", services.category_create, name="Local", parent_id=news.pk)
    response = acme_api.patch(
        f"/api/v1/categories/{local.pk}/", {"parent": None}, content_type=JSON
    )
    assert response.status_code == 200, response.content
    assert response.json()["parent"] is None
    assert in_schema("acme", lambda: Category.objects.get(pk=local.pk).parent_id) is None


def test_deleting_a_category_leaves_its_nodes_uncategorized(acme_api):
    news = in_schema("acme", services.category_create, name="News")
    node = make_node(category_id=news.pk)
    assert acme_api.delete(f"/api/v1/categories/{news.pk}/").status_code == 204
    assert acme_api.get(f"/api/v1/posts/{node.pk}/").json()["category"] is None


def test_tags(acme_api):
    made = acme_api.post("/api/v1/tags/", {"name": "Django"}, content_type=JSON)
    assert made.status_code == 201
    tag = made.json()
    assert tag == {"id": tag["id"], "slug": "django", "name": "Django", "translations": {}}
    # the same slug again: the existing tag
    again = acme_api.post("/api/v1/tags/", {"name": "django"}, content_type=JSON).json()
    assert again["id"] == tag["id"]
    acme_api.post("/api/v1/tags/", {"name": "Async", "slug": "async-io"}, content_type=JSON)
    listed = acme_api.get("/api/v1/tags/").json()
    assert [t["slug"] for t in listed["results"]] == ["async-io", "django"]
    assert acme_api.get(f"/api/v1/tags/{tag['id']}/").json()["name"] == "Django"
    node = make_node(tag_ids=[tag["id"]])
    assert acme_api.delete(f"/api/v1/tags/{tag['id']}/").status_code == 204
    with schema_context("acme"):
        assert not Tag.objects.filter(pk=tag["id"]).exists()
    assert acme_api.get(f"/api/v1/posts/{node.pk}/").json()["tags"] == []
    body = assert_problem(acme_api.post("/api/v1/tags/", {"name": "!!!"}, content_type=JSON), 400)
    assert body["errors"] == {"slug": ["cannot be empty"]}


# -- names per locale -------------------------------------------------------------


def test_category_names_per_locale(acme_api, acme_de):
    made = acme_api.post(
        "/api/v1/categories/",
        {
            "name": "News",
            "description": "What happens",
            "translations": {"de": {"name": "Neuigkeiten", "description": "Was passiert"}},
        },
        content_type=JSON,
    )
    assert made.status_code == 201, made.content
    news = made.json()
    german = {"de": {"name": "Neuigkeiten", "description": "Was passiert"}}
    assert (news["name"], news["translations"]) == ("News", german)
    assert acme_api.get(f"/api/v1/categories/{news['id']}/").json()["translations"] == german
    listed = acme_api.get("/api/v1/categories/").json()["results"]
    assert [c["translations"] for c in listed] == [german]

    url = f"/api/v1/categories/{news['id']}/"
    changed = acme_api.patch(url, {"translations": {"de": {"name": "Nachrichten"}}}, JSON)
    assert changed.status_code == 200, changed.content
    # Replaced: the German description is gone (the default one shows), the name kept.
    assert changed.json()["translations"] == {"de": {"name": "Nachrichten", "description": ""}}
    assert changed.json()["name"] == "News"
    node = make_node(category_id=news["id"])
    shown = acme_api.get(f"/api/v1/posts/{node.pk}/").json()["category"]
    assert shown["translations"] == {"de": {"name": "Nachrichten", "description": ""}}
    cleared = acme_api.patch(url, {"translations": {}}, content_type=JSON)
    assert cleared.json()["translations"] == {}
    assert OutboxEvent.objects.filter(event_type="content.category.updated").count() == 2


@pytest.mark.parametrize(
    ("translations", "errors"),
    [
        ({"fr": {"name": "Actualités"}}, {"translations.fr": ["'fr' is not enabled for this site (en, de)"]}),
        ({"en": {"name": "News"}}, {"translations.en": ["'en' is the default locale: change the name itself"]}),
        ({"de": {"name": ""}}, {"translations.de.name": ["This field may not be blank."]}),
        ({"de": {"name": "x" * 121}}, {"translations.de.name": ["Ensure this field has no more than 120 characters."]}),
        ({"de": {"description": "Nur"}}, {"translations.de.name": ["This field is required."]}),
        ({"de": {"name": "Neu", "title": "?"}}, {"translations.de.title": ["Unknown field."]}),
        ({"de": {"name": "Neu\u0000"}}, {"translations.de.name": ["Null characters are not allowed."]}),
        (["de"], {"translations": ['Expected a dictionary of items but got type "list".']}),
    ],
)  # fmt: skip
def test_bad_category_names_are_a_problem(acme_api, acme_de, translations, errors):
    body = assert_problem(
        acme_api.post(
            "/api/v1/categories/",
            {"name": "News", "translations": translations},
            content_type=JSON,
        ),
        400,
    )
    assert body["errors"] == errors
    with schema_context("acme"):
        assert not Category.objects.exists()


def test_tag_names_per_locale(acme_api, acme_de):
    made = acme_api.post(
        "/api/v1/tags/",
        {"name": "Outdoors", "translations": {"de": {"name": "Draußen"}}},
        content_type=JSON,
    )
    assert made.status_code == 201, made.content
    tag = made.json()
    assert tag == {
        "id": tag["id"],
        "slug": "outdoors",
        "name": "Outdoors",
        "translations": {"de": {"name": "Draußen"}},
    }
    url = f"/api/v1/tags/{tag['id']}/"
    renamed = acme_api.patch(url, {"name": "Open air"}, content_type=JSON)
    assert renamed.status_code == 200, renamed.content
    # A new name keeps the slug unless one is given (as a category's does).
    assert (renamed.json()["slug"], renamed.json()["translations"]) == (
        "outdoors",
        {"de": {"name": "Draußen"}},
    )
    changed = acme_api.patch(
        url, {"slug": "", "translations": {"de": {"name": "Im Freien"}}}, content_type=JSON
    ).json()
    assert (changed["name"], changed["slug"]) == ("Open air", "open-air")
    assert changed["translations"] == {"de": {"name": "Im Freien"}}
    node = make_node(tag_ids=[tag["id"]])
    shown = acme_api.get(f"/api/v1/posts/{node.pk}/").json()["tags"]
    assert shown[0]["translations"] == {"de": {"name": "Im Freien"}}

    body = assert_problem(
        acme_api.patch(url, {"translations": {"de": {"name": "   "}}}, content_type=JSON), 400
    )
    assert body["errors"] == {"translations.de.name": ["This field may not be blank."]}
    body = assert_problem(
        acme_api.patch(url, {"translations": {"xx": {"name": "?"}}}, content_type=JSON), 400
    )
    assert body["errors"] == {"translations.xx": ["'xx' is not enabled for this site (en, de)"]}
    body = assert_problem(
        acme_api.patch(
            url, {"translations": {"de": {"name": "Team", "description": "?"}}}, content_type=JSON
        ),
        400,
    )
    assert body["errors"] == {"translations.de.description": ["Unknown field."]}
    assert acme_api.get(url).json()["translations"] == {"de": {"name": "Im Freien"}}
    assert_problem(acme_api.patch("/api/v1/tags/999999/", {"name": "x"}, content_type=JSON), 404)
