"""Full-text search: ranking, per-locale configurations, highlighting that cannot inject markup."""

import pytest

from apps.index import selectors
from tests.index.support import post, project


def _titles(page):
    return [hit.title for hit in page.object_list]


def test_a_match_in_the_title_ranks_above_one_in_the_body(acme_schema):
    post("Gardening notes", "Today I repaired my bicycle in the garden shed.")
    post("Bicycle maintenance", "Chains and gears need oil.")
    post("Cooking", "Nothing about two wheels here.")
    project()
    page = selectors.search(query="bicycle", locale="en")
    assert _titles(page) == ["Bicycle maintenance", "Gardening notes"]
    assert page.object_list[0].rank > page.object_list[1].rank


def test_english_stemming_and_web_search_syntax(acme_schema):
    post("Running shoes", "I was running every morning.")
    post("Swimming", "Pools and running water.")
    project()
    assert set(_titles(selectors.search(query="runs", locale="en"))) == {
        "Running shoes", "Swimming",
    }  # fmt: skip
    assert _titles(selectors.search(query="runs -pools", locale="en")) == ["Running shoes"]
    assert _titles(selectors.search(query='"running shoes"', locale="en")) == ["Running shoes"]


def test_each_locale_searches_its_own_language(acme_schema, acme_en_de):
    post(
        "Bicycles", "Bicycles are fast.",
        more={"de": {"title": "Fahrräder", "body": "Mit dem Fahrrad fahren ist schön."}},
    )  # fmt: skip
    post("Only English", "A bicycle story without translation.")
    project()
    german = selectors.search(query="Fahrrad", locale="de")
    assert _titles(german) == ["Fahrräder"]  # German stemming: Fahrräder ~ Fahrrad
    assert selectors.search(query="Fahrrad", locale="en").paginator.count == 0
    # The German listing shows the English post (no German translation): its English text is found.
    assert _titles(selectors.search(query="story", locale="de")) == ["Only English"]


def test_snippets_and_titles_are_escaped_and_highlighted(acme_schema):
    post(
        "<img src=x onerror=alert(1)> bicycle",
        "Tom & Jerry: 1 < 2, a bicycle and `<b>code</b>` <script>alert(2)</script>",
    )
    project()
    hit = selectors.search(query="bicycle", locale="en").object_list[0]
    assert "<img" not in hit.title_html and "&lt;img" in hit.title_html
    assert "<mark>bicycle</mark>" in hit.title_html
    assert "<mark>bicycle</mark>" in hit.snippet_html
    assert "<b>" not in hit.snippet_html and "<script" not in hit.snippet_html
    assert "1 &lt; 2" in hit.snippet_html


def test_search_pages(acme_schema):
    for n in range(7):
        post(f"Kettle {n}", "kettle")
    project()
    second = selectors.search(query="kettle", locale="en", page=2, per_page=5)
    assert (second.paginator.count, len(second.object_list), second.number) == (7, 2, 2)


@pytest.mark.parametrize("query", ["", "   ", "the", "!!!", "&|:*()", "a" * 5000, "' OR 1=1 --"])
def test_odd_queries_find_nothing_and_never_fail(acme_schema, query):
    post("Something", "the text")
    project()
    assert selectors.search(query=query, locale="en").paginator.count == 0


def test_drafts_are_not_found(acme_schema):
    post("Secret bicycle", publish=False)
    project()
    assert selectors.search(query="bicycle", locale="en").paginator.count == 0


def test_a_post_of_one_tenant_is_never_found_from_the_other(db):
    from django_tenants.utils import schema_context

    with schema_context("acme"):
        post("Acme bicycle", "Acme only")
    project("acme")
    with schema_context("globex"):
        assert selectors.search(query="bicycle", locale="en").paginator.count == 0
        assert selectors.listing(kind="post", locale="en").paginator.count == 0
    with schema_context("acme"):
        assert selectors.search(query="bicycle", locale="en").paginator.count == 1
