"""Cursor pagination of the API's lists: every ordering walked both ways against an oracle,
stability under inserts, refused cursors, the deprecated page numbers and the schema.

The fixture is built for ties and empty values: 41 posts over 4 creation times, 3
positions and publication times that are empty for a third of them, so an ordering on
any single field has runs of equal values that only the primary key orders.
"""

from __future__ import annotations

import datetime as dt
from email.utils import parsedate_to_datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from django_tenants.utils import schema_context
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from apps.api.deprecation import PAGE_NUMBERS
from apps.content.models import Node

from .conftest import assert_problem, make_node

pytestmark = pytest.mark.django_db

ROWS = 41
PAGE = 6
BASE = dt.datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=dt.UTC)
ORDERINGS = [
    "created_at",
    "-created_at",
    "position",
    "-position",
    "published_at",
    "-published_at",
    "publish_at",
    "-publish_at,position",
    "position,-published_at",
    "-position,-created_at,published_at",
]


@pytest.fixture
def posts() -> list[str]:
    """41 posts with many equal values and a third of the publication times empty."""
    ids = [str(make_node(title=f"Post {number}").pk) for number in range(ROWS)]
    with schema_context("acme"):
        for number, pk in enumerate(ids):
            Node.objects.filter(pk=pk).update(
                created_at=BASE + dt.timedelta(microseconds=number % 4),
                position=number % 3,
                published_at=None if number % 3 == 0 else BASE + dt.timedelta(days=number % 5),
                publish_at=None if number % 2 else BASE + dt.timedelta(hours=number % 7),
            )
    return ids


def _oracle(ordering: str) -> list[str]:
    """The list's order computed in Python: each field in its direction, empty values last,
    ties by the primary key (as PostgreSQL compares UUIDs: as their text)."""
    fields = ordering.split(",")
    with schema_context("acme"):
        rows = sorted(
            Node.objects.values("pk", *(field.lstrip("-") for field in fields)),
            key=lambda row: str(row["pk"]),
        )
    for field in reversed(fields):
        name = field.lstrip("-")
        present = sorted(
            (row for row in rows if row[name] is not None),
            key=lambda row, name=name: row[name],
            reverse=field.startswith("-"),
        )
        rows = present + [row for row in rows if row[name] is None]
    return [str(row["pk"]) for row in rows]


def _walk(client, url: str, link: str = "next") -> list[list[str]]:
    """The pages met following ``link`` from ``url``, as lists of ids."""
    pages = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content[:500]
        body = response.json()
        assert set(body) == {"next", "previous", "results"}
        pages.append([row["id"] for row in body["results"]])
        url = body[link]
        assert len(pages) <= ROWS, "the links go round in circles"
    return pages


@pytest.mark.parametrize("ordering", ORDERINGS)
def test_every_ordering_is_walked_forwards_and_back_in_the_oracles_order(acme_api, posts, ordering):
    expected = _oracle(ordering)
    pages = _walk(acme_api, f"/api/v1/posts/?ordering={ordering}&page_size={PAGE}")
    assert [pk for page in pages for pk in page] == expected
    assert [len(page) for page in pages] == [PAGE] * (ROWS // PAGE) + [ROWS % PAGE]

    # From the last page back to the first, through the previous links.
    last = acme_api.get(f"/api/v1/posts/?ordering={ordering}&page_size={PAGE}")
    for _ in range(len(pages) - 1):
        last = acme_api.get(last.json()["next"])
    assert last.json()["next"] is None
    back = _walk(acme_api, last.json()["previous"], link="previous")
    assert back == list(reversed(pages[:-1]))
    first = acme_api.get(f"/api/v1/posts/?ordering={ordering}&page_size={PAGE}").json()
    assert first["previous"] is None


def test_rows_inserted_before_the_cursor_neither_repeat_nor_skip_rows(acme_api, posts):
    """New posts come first in the default order (newest first): between two requests they
    shift every later row by their number, which an offset would show as repeats."""
    first = acme_api.get(f"/api/v1/posts/?page_size={PAGE}").json()
    expected = _oracle("-created_at")
    assert [row["id"] for row in first["results"]] == expected[:PAGE]

    inserted = [str(make_node(title=f"Newer {number}").pk) for number in range(4)]
    with schema_context("acme"):
        assert Node.objects.filter(pk__in=inserted, created_at__gt=BASE).count() == 4

    rest = [pk for page in _walk(acme_api, first["next"]) for pk in page]
    assert rest == expected[PAGE:]
    assert not set(rest) & set(inserted)

    # The old page numbers, by contrast, show the shift: page 2 repeats rows of page 1.
    second = acme_api.get(f"/api/v1/posts/?page_size={PAGE}&page=2").json()
    assert {row["id"] for row in second["results"]} & {row["id"] for row in first["results"]}


def test_rows_inserted_and_deleted_around_a_tie_keep_the_walk_exact(acme_api, posts):
    """Ordered by position (14 rows at 0), a row equal to the cursor's value but before it
    by primary key is not served, one after it is, a deleted one is gone."""
    first = acme_api.get(f"/api/v1/posts/?ordering=position&page_size={PAGE}").json()
    served = [row["id"] for row in first["results"]]
    with schema_context("acme"):
        deleted = _oracle("position")[PAGE + 1]
        Node.objects.filter(pk=deleted).delete()
    added = [str(make_node(title=f"Tie {number}").pk) for number in range(6)]
    with schema_context("acme"):
        Node.objects.filter(pk__in=added).update(position=0)
    rest = [pk for page in _walk(acme_api, first["next"]) for pk in page]
    expected = [pk for pk in _oracle("position") if pk not in served]
    cursor_pk = served[-1]
    assert rest == [pk for pk in expected if not (pk in added and pk < cursor_pk)]
    assert deleted not in rest and len(set(rest)) == len(rest)


def test_page_size_defaults_to_20_and_is_capped_at_100(acme_api):
    for number in range(105):
        make_node(title=f"Post {number}")
    assert len(acme_api.get("/api/v1/posts/").json()["results"]) == 20
    for asked in ("0", "-3", "x", "99999999999999999999"):
        assert len(acme_api.get(f"/api/v1/posts/?page_size={asked}").json()["results"]) == 20
    first = acme_api.get("/api/v1/posts/?page_size=1000").json()
    assert len(first["results"]) == 100
    assert parse_qs(urlsplit(first["next"]).query)["page_size"] == ["1000"]
    rest = acme_api.get(first["next"]).json()
    assert len(rest["results"]) == 5 and rest["next"] is None
    assert len({row["id"] for row in first["results"] + rest["results"]}) == 105


def test_an_empty_list_has_no_links(acme_api):
    assert acme_api.get("/api/v1/posts/").json() == {"next": None, "previous": None, "results": []}


def test_lists_of_other_kinds_follow_their_ordering_too(acme_api):
    """Tags: a list with a unique text ordering and an integer primary key."""
    from apps.content import services

    with schema_context("acme"):
        for number in range(13):
            services.tag_get_or_create(name=f"Tag {number:02d}")
    for ordering in ("name", "-name", "-slug"):
        pages = _walk(acme_api, f"/api/v1/tags/?ordering={ordering}&page_size=5")
        names = [
            row["name"]
            for url in [f"/api/v1/tags/?ordering={ordering}&page_size=100"]
            for row in acme_api.get(url).json()["results"]
        ]
        assert names == sorted(names, reverse=ordering.startswith("-"))
        assert [len(page) for page in pages] == [5, 5, 3]


# -- refused cursors ------------------------------------------------------------------------


def _cursor(url: str) -> str:
    return parse_qs(urlsplit(url).query)["cursor"][0]


@pytest.mark.parametrize(
    "cursor",
    ["garbage", "a:b", ":", "%00", "eJwLSS0uUUjLL8pVBAAeJARL:abc", "x" * 5000, "🙂"],
)
def test_a_made_up_cursor_is_a_400(acme_api, posts, cursor):
    body = assert_problem(acme_api.get("/api/v1/posts/", {"cursor": cursor}), 400, "invalid")
    assert "cursor" in body["errors"]


@hsettings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    noise=st.text(max_size=300),
    cut=st.integers(min_value=0, max_value=400),
    splice=st.text(min_size=1, max_size=3),
)
def test_any_cursor_but_the_given_ones_is_a_400(acme_api, posts, noise, cut, splice):
    """Text of any kind, and a real cursor with a few characters changed: 400, never 500."""
    cursor = _cursor(acme_api.get(f"/api/v1/posts/?page_size={PAGE}").json()["next"])
    changed = cursor[:cut] + splice + cursor[cut + len(splice) :]
    for candidate in (noise, changed):
        if candidate in ("", cursor):  # no cursor (the first page), or the cursor itself
            continue
        assert_problem(acme_api.get("/api/v1/posts/", {"cursor": candidate}), 400)


def test_a_changed_cursor_is_a_400(acme_api, posts):
    cursor = _cursor(acme_api.get(f"/api/v1/posts/?page_size={PAGE}").json()["next"])
    value, signature = cursor.rsplit(":", 1)
    for changed in (
        f"{value[:-1]}{'A' if value[-1] != 'A' else 'B'}:{signature}",
        f"{value}:{signature[::-1]}",
        value,
    ):
        body = assert_problem(acme_api.get("/api/v1/posts/", {"cursor": changed}), 400)
        assert "cursor" in body["errors"]


def test_a_cursor_of_another_ordering_or_list_is_a_400(acme_api, posts):
    cursor = _cursor(acme_api.get(f"/api/v1/posts/?page_size={PAGE}").json()["next"])
    body = assert_problem(
        acme_api.get("/api/v1/posts/", {"cursor": cursor, "ordering": "position"}), 400
    )
    assert "ordering" in body["errors"]["cursor"][0]
    # The default ordering spelled out is the same ordering: accepted.
    assert (
        acme_api.get("/api/v1/posts/", {"cursor": cursor, "ordering": "-created_at"}).status_code
        == 200
    )
    body = assert_problem(acme_api.get("/api/v1/nodes/", {"cursor": cursor}), 400)
    assert "another list" in body["errors"]["cursor"][0]


def test_a_cursor_with_a_page_number_is_a_400(acme_api, posts):
    cursor = _cursor(acme_api.get(f"/api/v1/posts/?page_size={PAGE}").json()["next"])
    assert_problem(acme_api.get("/api/v1/posts/", {"cursor": cursor, "page": "2"}), 400)


# -- the deprecated page numbers ------------------------------------------------------------


def test_page_numbers_still_answer_with_count_and_deprecation_headers(acme_api, posts):
    response = acme_api.get(f"/api/v1/posts/?page_size={PAGE}&page=2")
    body = response.json()
    assert body["count"] == ROWS and len(body["results"]) == PAGE
    assert "page=3" in body["next"] and "page=1" not in body["previous"]
    assert response["Deprecation"] == (
        f"@{int(dt.datetime.combine(PAGE_NUMBERS.since, dt.time.min, dt.UTC).timestamp())}"
    )
    assert parsedate_to_datetime(response["Sunset"]).date() == PAGE_NUMBERS.sunset
    assert response["Sunset"].endswith(" GMT")
    assert 'rel="deprecation"' in response["Link"]
    assert response["Link"].startswith("<http://acme.")
    assert_problem(acme_api.get(f"/api/v1/posts/?page_size={PAGE}&page=99"), 404)
    assert_problem(acme_api.get("/api/v1/posts/?page=x"), 404)


def test_cursor_pages_carry_no_deprecation(acme_api, posts):
    response = acme_api.get(f"/api/v1/posts/?page_size={PAGE}")
    assert "Deprecation" not in response and "Sunset" not in response
    assert "count" not in response.json()
    assert "page=" not in response.json()["next"]


def test_the_schema_describes_the_cursor_and_the_deprecated_page(acme_api):
    schema = acme_api.get("/api/v1/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/posts/"]["get"]
    parameters = {parameter["name"]: parameter for parameter in operation["parameters"]}
    assert parameters["cursor"]["schema"]["type"] == "string"
    assert parameters["page"]["deprecated"] is True
    assert parameters["page_size"]["schema"]["maximum"] == 100
    reference = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    paginated = schema["components"]["schemas"][reference.rsplit("/", 1)[1]]
    assert {"next", "previous", "results"} <= set(paginated["required"])
    assert paginated["properties"]["results"]["type"] == "array"


def test_the_oracle_agrees_with_postgresql_on_ties(posts):
    """The oracle's tie-break (the UUID's text) is PostgreSQL's order of UUIDs."""
    with schema_context("acme"):
        database = [str(pk) for pk in Node.objects.order_by("pk").values_list("pk", flat=True)]
    assert database == sorted(database)


@pytest.mark.parametrize("ordering", ["orders_count", "-orders_count", "email", "-date_joined"])
def test_a_list_ordered_by_an_aggregate_is_walked_exactly(acme_client, ordering):
    """Customers by ``orders_count`` (a COUNT: the cursor's condition is a HAVING), in ties."""
    from tests.commerce.order_factories import place
    from tests.factories import UserFactory

    from .conftest import login_as

    with schema_context("acme"):
        buyers = [UserFactory(email=f"buyer{n:02d}@example.test") for n in range(11)]
        for number, buyer in enumerate(buyers):
            for _ in range(number % 3):
                place(customer_id=buyer.pk)
    login_as(acme_client, "acme", email="merchant@acme.test", groups=["Merchant"])
    everything = acme_client.get(f"/api/v1/commerce/customers/?ordering={ordering}&page_size=100")
    expected = [row["id"] for row in everything.json()["results"]]
    assert len(expected) == 11
    name = ordering.lstrip("-")
    values = [row[name] for row in everything.json()["results"]]
    assert values == sorted(values, reverse=ordering.startswith("-"))
    pages = _walk(acme_client, f"/api/v1/commerce/customers/?ordering={ordering}&page_size=4")
    assert [pk for page in pages for pk in page] == expected
    assert [len(page) for page in pages] == [4, 4, 3]
