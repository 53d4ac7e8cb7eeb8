"""Inputs that once answered 500: each is a clear 4xx now, and nothing is written."""

import json

import pytest
from django_tenants.utils import schema_context
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.api.parsers import MAX_DEPTH, nesting_depth
from apps.content.models import Node
from tests.api.conftest import assert_problem
from tests.conftest import tenant_client

NODE = {"kind": "post", "translations": {"en": {"title": "Nested"}}}


@pytest.fixture
def api(acme_api):
    return acme_api


def _nodes() -> int:
    with schema_context("acme"):
        return Node.objects.count()


@pytest.mark.parametrize(
    "query", ["%00", "boots%00", "-" * 33, "-%20" * 60, "-(" * 40, "%22" * 101, "or%20" * 200]
)
def test_the_blog_search_answers_whatever_a_visitor_types(db, query):
    response = tenant_client("acme").get(f"/blog/search/?q={query}")
    assert response.status_code == 200
    assert b"Traceback" not in response.content


@pytest.mark.parametrize(
    "query", ["%00", "boots%00", "-" * 60, "-%20" * 60, "-(" * 40, "%22" * 101, "or%20" * 200,
              "x" * 50_000, "tent&kind=%00", "tent&kind=posts&page=%00"],
)  # fmt: skip
def test_the_site_search_answers_whatever_a_visitor_types(db, query):
    response = tenant_client("acme").get(f"/search/?q={query}")
    assert response.status_code in (200, 404)
    assert b"Traceback" not in response.content
    if "page=" not in query:
        assert response.status_code == 200


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 1000, 100_000])
def test_a_body_nested_too_deep_is_a_400_problem(api, depth):
    before = _nodes()
    body = "[" * depth + "]" * depth
    response = api.post("/api/v1/nodes/", body, content_type="application/json")
    problem = assert_problem(response, 400, "parse_error")
    assert "nested" in problem["detail"]
    assert _nodes() == before


def test_nesting_within_the_limit_is_still_parsed(api):
    deep = {"x": 1}
    for _ in range(MAX_DEPTH - 4):
        deep = {"x": deep}
    body = {**NODE, "metadata": {"deep": deep}}
    response = api.post("/api/v1/nodes/", json.dumps(body), content_type="application/json")
    assert response.status_code != 500
    assert response["Content-Type"].startswith("application/")


def test_a_body_over_the_size_limit_is_a_413_problem(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    before = _nodes()
    body = {**NODE, "translations": {"en": {"title": "Big", "body": "x" * 20_000}}}
    response = api.post("/api/v1/nodes/", json.dumps(body), content_type="application/json")
    assert_problem(response, 413, "payload_too_large")
    assert _nodes() == before


@pytest.mark.parametrize(
    "body", ["{", "[1,]", "NaN", '{"a": Infinity}', b"\xed\xa0\x80", b"\xff\xfe", "\x00"]
)
def test_malformed_json_is_a_400_problem(api, body):
    response = api.post("/api/v1/nodes/", body, content_type="application/json")
    assert_problem(response, 400, "parse_error")


@settings(max_examples=80, deadline=None)
@given(st.recursive(st.none() | st.integers() | st.text(max_size=5), lambda inner: (
    st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
), max_leaves=40))  # fmt: skip
def test_the_depth_scan_agrees_with_the_document(value):
    def depth(item) -> int:
        if isinstance(item, list):
            return 1 + max((depth(x) for x in item), default=0)
        if isinstance(item, dict):
            return 1 + max((depth(x) for x in item.values()), default=0)
        return 0

    assert nesting_depth(json.dumps(value)) == depth(value)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(alphabet='[]{}",:0\\ ', max_size=3000))
def test_no_body_makes_the_api_fail(api, body):
    response = api.post("/api/v1/nodes/", body, content_type="application/json")
    assert response.status_code < 500
