"""Listings, month archives, neighbours and search over the content listing."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.index import selectors
from apps.index.errors import PageNotFound
from tests.index.support import author, category, post, project

BASE = datetime(2025, 1, 10, 9, 0, tzinfo=UTC)


def _posts(count, **kwargs):
    return [
        post(f"Post number {n}", f"Body {n}", published_at=BASE + timedelta(days=n), **kwargs)
        for n in range(count)
    ]


def test_listing_is_newest_first_and_paginated(acme_schema):
    nodes = _posts(12)
    project()
    first = selectors.listing(kind="post", locale="en", per_page=5)
    assert [row.node_id for row in first.object_list] == [n.pk for n in reversed(nodes)][:5]
    assert (first.paginator.count, first.paginator.num_pages, first.has_next()) == (12, 3, True)
    last = selectors.listing(kind="post", locale="en", page=3, per_page=5)
    assert [row.node_id for row in last.object_list] == [nodes[1].pk, nodes[0].pk]
    for bad in (4, 0, "x", "-1"):
        with pytest.raises(PageNotFound):
            selectors.listing(kind="post", locale="en", page=bad, per_page=5)


def test_an_empty_listing_has_one_empty_page(acme_schema):
    page = selectors.listing(kind="post", locale="en")
    assert (page.number, list(page.object_list), page.paginator.count) == (1, [], 0)


@pytest.mark.parametrize("count", [3, 40])
def test_a_listing_page_costs_two_queries_whatever_its_size(acme_schema, count):
    _posts(count, tags=("a", "b", "c"), category=category("Cat"), by=author())
    project()
    selectors.listing(kind="post", locale="en")  # the schema's search_path is set once, before
    with CaptureQueriesContext(connection) as queries:
        page = selectors.listing(kind="post", locale="en", per_page=50)
        assert len(page.object_list) == count
        for row in page.object_list:
            assert row.title and row.tags and row.category_name and row.author_name
    assert len(queries) == 2


def test_filters(acme_schema):
    news, misc = category("News"), category("Misc")
    ada, bob = author("Ada"), author("Bob", "Builder")
    a = post(
        "A",
        published_at=datetime(2024, 12, 31, 23, 59, tzinfo=UTC),
        category=news,
        by=ada,
        tags=("x",),
    )
    b = post(
        "B",
        published_at=datetime(2025, 1, 1, 0, 0, tzinfo=UTC),
        category=misc,
        by=bob,
        tags=("x", "y"),
    )
    c = post("C", published_at=datetime(2025, 2, 3, tzinfo=UTC), category=news, by=bob)
    post("Today")  # published now, outside the months above
    project()

    def ids(**filters):
        page = selectors.listing(kind="post", locale="en", **filters)
        return {row.node_id for row in page.object_list}

    assert ids(category="news") == {a.pk, c.pk}
    assert ids(tag="x") == {a.pk, b.pk}
    assert ids(tag="y") == {b.pk}
    assert ids(author_id=bob.pk) == {b.pk, c.pk}
    assert ids(year=2025, month=1) == {b.pk}
    assert ids(year=2024, month=12) == {a.pk}
    assert ids(year=2025) == {b.pk, c.pk}
    assert ids(category="nope") == set()
    assert selectors.listing(kind="page", locale="en").paginator.count == 0
    with pytest.raises(PageNotFound):
        selectors.listing(kind="post", locale="en", year=2025, month=13)


def test_months_and_neighbours(acme_schema):
    jan1 = post("Jan 1", published_at=datetime(2025, 1, 5, tzinfo=UTC))
    jan2 = post("Jan 2", published_at=datetime(2025, 1, 20, tzinfo=UTC))
    mar = post("Mar", published_at=datetime(2025, 3, 1, tzinfo=UTC))
    project()
    months = selectors.months(kind="post", locale="en")
    assert [(m.year, m.month, m.count) for m in months] == [(2025, 3, 1), (2025, 1, 2)]
    older, newer = selectors.neighbours(
        kind="post", locale="en", node_id=jan2.pk, published_at=jan2.published_at
    )
    assert (older.node_id, newer.node_id) == (jan1.pk, mar.pk)
    older, newer = selectors.neighbours(
        kind="post", locale="en", node_id=mar.pk, published_at=mar.published_at
    )
    assert (older.node_id, newer) == (jan2.pk, None)


def test_neighbours_of_posts_published_at_the_same_instant_follow_listing_order(acme_schema):
    same = datetime(2025, 5, 5, tzinfo=UTC)
    nodes = [post(f"Twin {n}", published_at=same) for n in range(3)]
    project()
    order = [row.node_id for row in selectors.listing(kind="post", locale="en").object_list]
    assert sorted(order) == sorted(n.pk for n in nodes)
    middle = order[1]
    older, newer = selectors.neighbours(kind="post", locale="en", node_id=middle, published_at=same)
    assert (newer.node_id, older.node_id) == (order[0], order[2])
