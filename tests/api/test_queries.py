"""List endpoints cost a bounded number of queries, whatever the page size."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from apps.content import services
from apps.pages import services as pages

from .conftest import in_schema, login_as, make_node

pytestmark = pytest.mark.django_db

# session + user + the user's and groups' permissions + count + rows + tags + translations
MAX_QUERIES = 8


@pytest.fixture
def fifty_posts(acme_de) -> None:
    category = in_schema("acme", services.category_create, name="News")
    tags = [in_schema("acme", services.tag_get_or_create, name=f"Tag {n}") for n in range(3)]
    for number in range(50):
        make_node(
            title=f"Post {number}",
            translations={"en": {"title": f"Post {number}"}, "de": {"title": f"Beitrag {number}"}},
            category_id=category.pk,
            tag_ids=[tag.pk for tag in tags[: number % 4]],
        )


@pytest.fixture
def fifty_pages(acme_de) -> None:
    with schema_context("acme"):
        for number in range(50):
            pages.page_create(
                data=pages.PageInput(
                    translations=[
                        services.TranslationInput(locale="en", title=f"Page {number}"),
                        services.TranslationInput(locale="de", title=f"Seite {number}"),
                    ],
                    blocks={"en": [{"type": "hero", "title": f"Page {number}"}]},
                )
            )


def _count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(queries)


@pytest.mark.parametrize("endpoint", ["nodes", "posts"])
def test_node_lists_are_bounded(acme_client, fifty_posts, endpoint, django_assert_max_num_queries):
    # An editor, not a superuser: permission checks cost queries too.
    login_as(acme_client, "acme", email="editor@acme.test", groups=["Editor"])
    acme_client.get(f"/api/v1/{endpoint}/")  # warm the tenant caches
    for size in (5, 50):
        with django_assert_max_num_queries(MAX_QUERIES):
            response = acme_client.get(f"/api/v1/{endpoint}/?page_size={size}&tag=tag-0&locale=de")
        assert len(response.json()["results"]) == min(size, 37)
    assert _count(acme_client, f"/api/v1/{endpoint}/?page_size=5") == _count(
        acme_client, f"/api/v1/{endpoint}/?page_size=50"
    )


def test_page_lists_are_bounded(acme_client, fifty_pages, django_assert_max_num_queries):
    login_as(acme_client, "acme", email="editor@acme.test", groups=["Editor"])
    acme_client.get("/api/v1/pages/")
    for size in (5, 50):
        with django_assert_max_num_queries(MAX_QUERIES):
            response = acme_client.get(f"/api/v1/pages/?page_size={size}&locale=de")
        results = response.json()["results"]
        assert len(results) == size
        assert all(page["layout"]["blocks"]["en"] for page in results)
    assert _count(acme_client, "/api/v1/pages/?page_size=5") == _count(
        acme_client, "/api/v1/pages/?page_size=50"
    )


@pytest.mark.parametrize("endpoint", ["categories", "tags", "media"])
def test_other_lists_are_bounded(acme_api, fifty_posts, endpoint, django_assert_max_num_queries):
    acme_api.get(f"/api/v1/{endpoint}/")
    for size in (5, 50):
        with django_assert_max_num_queries(MAX_QUERIES):
            assert acme_api.get(f"/api/v1/{endpoint}/?page_size={size}").status_code == 200
