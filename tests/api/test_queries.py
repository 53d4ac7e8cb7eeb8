"""List endpoints cost the same number of queries whatever the page size, on every page.

The fixtures are large enough for the claim to mean something: every list has
60 rows, so a page of 50 holds ten times the rows of a page of 5, and every
post has an author, a category under a parent, four tags, two translations and
an image, so a query per row or per relation would show as a different count.
"""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from apps.content import services
from apps.pages import services as pages
from tests.factories import UserFactory

from .conftest import login_as, png

pytestmark = pytest.mark.django_db

ROWS = 60
SIZES = (5, 50)
# For an editor: session, user, the user's permissions, the groups' permissions,
# then rows (with author, category and image joined), tags, translations.
NODE_LIST_QUERIES = 7
# For the tenant's administrator (a superuser: no permission query): session,
# user, rows.
OTHER_LIST_QUERIES = 3


@pytest.fixture
def catalog(acme_de, media_root) -> dict[str, list]:
    """60 of each: categories (in 5 sections), tags, images with German and English alt text."""
    with schema_context("acme"):
        sections = [services.category_create(name=f"Section {n}") for n in range(5)]
        categories = sections + [
            services.category_create(name=f"Category {n}", parent_id=sections[n % 5].pk)
            for n in range(ROWS - len(sections))
        ]
        tags = [services.tag_get_or_create(name=f"Tag {n}") for n in range(ROWS)]
        media = [
            services.media_upload(
                file=png(f"picture-{n}.png"), alt_text={"en": f"Picture {n}", "de": f"Bild {n}"}
            )
            for n in range(ROWS)
        ]
    return {"categories": categories, "tags": tags, "media": media}


@pytest.fixture
def posts(catalog) -> None:
    """60 posts, each in English and German, with tag 0 and three more, by one of 6 authors."""
    tags, media = catalog["tags"], catalog["media"]
    with schema_context("acme"):
        authors = [
            UserFactory(email=f"author{n}@acme.test", first_name=f"Author {n}") for n in range(6)
        ]
        for number in range(ROWS):
            services.node_create(
                data=services.NodeInput(
                    kind="post",
                    translations=[
                        services.TranslationInput("en", f"Post {number}"),
                        services.TranslationInput("de", f"Beitrag {number}"),
                    ],
                    category_id=catalog["categories"][number].pk,
                    tag_ids=[tags[0].pk]
                    + [tags[1 + (number + k) % (ROWS - 1)].pk for k in range(3)],
                    og_image_id=media[number].pk,
                ),
                actor=authors[number % len(authors)],
            )


@pytest.fixture
def page_tree(catalog) -> None:
    """60 pages in English and German, each showing three images."""
    media = catalog["media"]
    with schema_context("acme"):
        for number in range(ROWS):
            pictures = [
                {"type": "image", "media_id": str(media[(number + k) % ROWS].pk)} for k in range(3)
            ]
            pages.page_create(
                data=pages.PageInput(
                    translations=[
                        services.TranslationInput(locale="en", title=f"Page {number}"),
                        services.TranslationInput(locale="de", title=f"Seite {number}"),
                    ],
                    blocks={"en": [{"type": "hero", "title": f"Page {number}"}, *pictures]},
                )
            )


@pytest.mark.parametrize("endpoint", ["nodes", "posts"])
def test_node_lists_cost_the_same_for_5_and_50_rows(
    acme_client, posts, endpoint, django_assert_num_queries
):
    # An editor, not a superuser: permission checks cost queries too.
    login_as(acme_client, "acme", email="editor@acme.test", groups=["Editor"])
    acme_client.get(f"/api/v1/{endpoint}/")  # warm the tenant caches
    for size in SIZES:
        url, seen = f"/api/v1/{endpoint}/?page_size={size}&tag=tag-0&locale=de", set()
        while url:  # every page, the first (no cursor) and those after a cursor
            with django_assert_num_queries(NODE_LIST_QUERIES):
                response = acme_client.get(url)
            body = response.json()
            assert len(body["results"]) == min(size, ROWS - len(seen))
            for row in body["results"]:
                assert row["author"]["name"].startswith("Author ")
                assert row["category"] is not None and row["og_image"] is not None
                assert len(row["tags"]) == 4 and set(row["translations"]) == {"en", "de"}
            seen |= {row["id"] for row in body["results"]}
            url = body["next"]
        assert len(seen) == ROWS


def test_page_lists_cost_the_same_for_5_and_50_rows(
    acme_client, page_tree, django_assert_num_queries
):
    login_as(acme_client, "acme", email="editor@acme.test", groups=["Editor"])
    acme_client.get("/api/v1/pages/")
    for size in SIZES:
        with django_assert_num_queries(NODE_LIST_QUERIES):
            response = acme_client.get(f"/api/v1/pages/?page_size={size}&locale=de")
        results = response.json()["results"]
        assert len(results) == size
        for page in results:
            assert len(page["layout"]["blocks"]["en"]) == 4
            assert set(page["translations"]) == {"en", "de"}


@pytest.mark.parametrize("endpoint", ["categories", "tags", "media"])
def test_other_lists_cost_the_same_for_5_and_50_rows(
    acme_api, catalog, endpoint, django_assert_num_queries
):
    acme_api.get(f"/api/v1/{endpoint}/")
    for size in SIZES:
        url, seen = f"/api/v1/{endpoint}/?page_size={size}", set()
        while url:
            with django_assert_num_queries(OTHER_LIST_QUERIES):
                response = acme_api.get(url)
            body = response.json()
            assert len(body["results"]) == min(size, ROWS - len(seen))
            seen |= {row["id"] for row in body["results"]}
            url = body["next"]
        assert len(seen) == ROWS
