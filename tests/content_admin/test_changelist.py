"""The node list: columns, filters, search, the schedule shown clearly, bounded queries."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.content import services

from .conftest import NODES, in_acme, make_node, page


def results(content: str) -> str:
    start = content.find('id="result_list"')
    if start < 0:
        assert "0 posts" in content, "neither a list nor an empty result"
        return ""
    return content[start : content.find("</table>", start)]


def make_listing(count: int, author) -> None:
    with schema_context("acme"):
        category = services.category_create(name="News")
        tags = [services.tag_get_or_create(name=f"tag {i}") for i in range(3)]
    for i in range(count):
        node = make_node(
            title=f"Story {i}",
            category_id=category.pk,
            tag_ids=[tag.pk for tag in tags],
            actor=author,
        )
        if i % 3 == 0:
            in_acme(services.node_publish, node_id=node.pk)


def test_the_list_shows_titles_status_and_authors(editor_client, editor):
    make_listing(2, editor)
    table = results(page(editor_client.get(NODES)))

    assert "Story 0" in table and "Story 1" in table
    assert "content-badge--published" in table and "content-badge--draft" in table
    assert "editor@acme.test" in table
    assert "News" in table
    assert table.count('href="/preview/') == 2


def test_the_list_runs_the_same_queries_for_3_or_30_nodes(editor_client, editor):
    def queries() -> int:
        with CaptureQueriesContext(connection) as context:
            page(editor_client.get(NODES))
        # (Creating nodes in between switched the connection's schema: a request sets it back.)
        return len([q for q in context.captured_queries if not q["sql"].startswith("SET ")])

    make_listing(3, editor)
    queries()  # warm the tenant caches
    few = queries()
    for i in range(27):
        make_node(title=f"Another {i}", actor=editor)

    many = queries()

    assert many == few, f"{few} queries for 3 nodes, {many} for 30"
    assert many <= 15


def test_the_title_is_in_the_default_locale(editor_client, acme_de):
    make_node(translations={"de": {"title": "Nur Deutsch"}})
    make_node(translations={"en": {"title": "English"}, "de": {"title": "Deutsch"}})

    table = results(page(editor_client.get(NODES)))

    assert ">English<" in table and ">Deutsch<" not in table
    assert "Nur Deutsch" in table  # no English title: another language's
    assert "de en" in table


def test_scheduled_drafts_are_shown_and_filtered(editor_client):
    when = timezone.now() + timedelta(days=3)
    scheduled = make_node(title="Later")
    in_acme(services.node_schedule, node_id=scheduled.pk, publish_at=when)
    make_node(title="Unscheduled")

    content = page(editor_client.get(NODES))
    assert "scheduled " in results(content)  # "scheduled 12/09/2026", in the status column
    assert "content-badge--scheduled" in results(content)

    only = results(page(editor_client.get(NODES, {"scheduled": "yes"})))
    assert "Later" in only and "Unscheduled" not in only
    others = results(page(editor_client.get(NODES, {"scheduled": "no"})))
    assert "Unscheduled" in others and "Later" not in others


def test_filters_by_status_kind_category_tag_and_author(editor_client, editor):
    make_listing(3, editor)
    make_node(title="A page", kind="page")
    with schema_context("acme"):
        tag = services.tag_get_or_create(name="tag 1")
        category = services.category_create(name="Other")
    make_node(title="Elsewhere", category_id=category.pk)

    def titles(**params) -> set[str]:
        table = results(page(editor_client.get(NODES, params)))
        return {
            title
            for title in ("Story 0", "Story 1", "Story 2", "A page", "Elsewhere")
            if f">{title}<" in table
        }

    assert titles(status__exact="published") == {"Story 0"}
    # Posts only: the page is under "Pages", and a kind is never a filter of one kind's list.
    assert "A page" not in titles()
    assert titles(category__id__exact=category.pk) == {"Elsewhere"}
    assert titles(tags__id__exact=tag.pk) == {"Story 0", "Story 1", "Story 2"}
    assert titles(author__id__exact=editor.pk) == {"Story 0", "Story 1", "Story 2"}


def test_search_by_title_slug_or_id(editor_client):
    first = make_node(translations={"en": {"title": "Bicycles", "slug": "two-wheels"}})
    make_node(title="Cars")

    def found(term: str) -> set[str]:
        table = results(page(editor_client.get(NODES, {"q": term})))
        return {title for title in ("Bicycles", "Cars") if f">{title}<" in table}

    assert found("bicyc") == {"Bicycles"}
    assert found("two-wheels") == {"Bicycles"}
    assert found(str(first.pk)) == {"Bicycles"}
    assert found("nothing like it") == set()
