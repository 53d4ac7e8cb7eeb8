"""Full-text search: ranking, per-locale configurations, highlighting that cannot inject markup."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.index import selectors
from tests.index.support import NEWEST_FIRST, post, project, tied_posts


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


def test_results_of_equal_rank_come_newest_first(acme_schema):
    tied_posts()
    project()
    page = selectors.search(query="kettle", locale="en")
    assert _titles(page) == ["Kettle, kettle Sunday", *NEWEST_FIRST]
    ranks = [hit.rank for hit in page.object_list]
    assert ranks[0] > ranks[1] and len(set(ranks[1:])) == 1  # the six tie exactly
    dates = [hit.published_at for hit in page.object_list[1:]]
    assert dates == sorted(dates, reverse=True)


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


HOSTILE = [
    "\x00", "boots\x00", "-" * 33, "-" * 400, "- " * 60, "-(" * 40, "!(" * 50, "(" * 300,
    '"' * 101, "or " * 200, "-x " * 100, "a-" * 500, "\u202e\ufeff\x1b[31m", "x" * 10_000,
]  # fmt: skip


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_queries_never_reach_the_database_unparsable(acme_schema, query):
    post("Boots", "walking boots")
    project()
    cleaned = selectors.clean_query(query)
    assert "\x00" not in cleaned and len(cleaned) <= selectors.MAX_QUERY_LENGTH
    selectors.search(query=query, locale="en")  # raises on a query PostgreSQL refuses


def test_web_search_syntax_survives_the_cleaning(acme_schema):
    post("Walking boots", "boots for walking")
    post("Running shoes", "shoes for running")
    project()

    def titles(query: str) -> set[str]:
        return {hit.title for hit in selectors.search(query=query, locale="en").object_list}

    assert titles("boots or shoes") == {"Walking boots", "Running shoes"}
    assert titles('"walking boots"') == {"Walking boots"}
    assert titles("-boots") == {"Running shoes"}  # everything without the word
    assert titles("running -boots") == {"Running shoes"}
    assert titles("boots\x00") == {"Walking boots"}


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.text(alphabet=st.sampled_from("-()!&|:*\"' \x00\t<>ab"), max_size=300)
    | st.text(max_size=200)
)
def test_no_query_makes_the_search_fail(acme_schema, query):
    selectors.search(query=query, locale="en")
