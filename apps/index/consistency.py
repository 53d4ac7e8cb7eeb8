"""Does a projection match the write model? Compares each listing with its owner's selectors:
``ContentListing`` with content's, ``ProductListing`` with commerce's, the forum's topic rows
and category counters with the forum's."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from apps.forum import selectors as forum

from . import content_listing, forum_listing, product_listing
from .content_listing import ROW_FIELDS, VECTOR_FROM_COLUMNS
from .models import ContentListing, ForumCategoryStats, ForumTopicListing, ProductListing

SAMPLE = 50  # differences kept with their details, per kind of difference


@dataclass
class Difference:
    node_id: str
    locale: str
    problem: str  # "missing", "unexpected", "different" or "vectors"
    fields: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        detail = f" ({', '.join(self.fields)})" if self.fields else ""
        return f"{self.problem:<10} {self.node_id} [{self.locale}]{detail}"


@dataclass
class Report:
    projection: str
    nodes: int = 0
    rows: int = 0
    missing: int = 0
    unexpected: int = 0
    different: int = 0
    vectors: int = 0
    samples: list[Difference] = field(default_factory=list)

    @property
    def differences(self) -> int:
        return self.missing + self.unexpected + self.different + self.vectors

    @property
    def ok(self) -> bool:
        return self.differences == 0

    def _note(self, difference: Difference) -> None:
        setattr(self, difference.problem, getattr(self, difference.problem) + 1)
        if len(self.samples) < SAMPLE * 4:
            self.samples.append(difference)


def _compare(expected: dict[str, Any], row: dict[str, Any]) -> list[str]:
    return [name for name in expected if row.get(name) != expected[name]]


def _note_orphans_and_vectors(report: Report, model, key: str, seen: set, vector_sql: str) -> None:
    """Rows of items the write model no longer lists (not in ``seen``), and rows whose search
    vector does not match their text (``vector_sql`` recomputes it from the row's columns)."""
    orphans = model.objects.exclude(**{f"{key}__in": seen}).values_list(key, "locale")
    for item_id, locale in orphans.iterator(chunk_size=2000):
        report._note(Difference(str(item_id), locale, "unexpected"))
    table = connection.ops.quote_name(model._meta.db_table)
    column = connection.ops.quote_name(model._meta.get_field(key).column)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {column}, locale FROM {table} "  # noqa: S608 -- names from the model
            f"WHERE search_vector IS DISTINCT FROM ({vector_sql})"
        )
        for item_id, locale in cursor.fetchall():
            report._note(Difference(str(item_id), locale, "vectors", ["search_vector"]))


def check_content_listing() -> Report:
    """Compare every row of the active tenant with what its published nodes say it should be.

    Reads the write model through content's selectors, a chunk of nodes at a
    time (a fixed number of queries per chunk), then finds rows of nodes that
    are no longer published and rows whose search vector does not match their text.
    """
    report = Report(projection="content_listing")
    locales = content_listing.tenant_locales()
    columns = ["node_id", "locale", *ROW_FIELDS, "source_version"]
    seen = set()
    chunk = []

    def flush() -> None:
        ids = [node.pk for node in chunk]
        stored: dict[tuple, dict[str, Any]] = {
            (row["node_id"], row["locale"]): row
            for row in ContentListing.objects.filter(node_id__in=ids).values(*columns)
        }
        for node in chunk:
            expected = content_listing.expected_rows(node, locales)
            for locale, values in expected.items():
                row = stored.pop((node.pk, locale), None)
                if row is None:
                    report._note(Difference(str(node.pk), locale, "missing"))
                    continue
                fields = _compare({**values, "source_version": node.version}, row)
                if fields:
                    report._note(Difference(str(node.pk), locale, "different", fields))
            report.rows += len(expected)
        for node_id, locale in stored:
            report._note(Difference(str(node_id), locale, "unexpected"))
        chunk.clear()

    for node in content_listing.published_nodes():
        seen.add(node.pk)
        chunk.append(node)
        report.nodes += 1
        if len(chunk) >= content_listing.CHUNK:
            flush()
    flush()

    _note_orphans_and_vectors(report, ContentListing, "node_id", seen, VECTOR_FROM_COLUMNS)
    return report


def check_product_listing() -> Report:
    """Compare every product listing row of the active tenant with what its active products
    say it should be (through commerce's selectors, a chunk of products at a time), then find
    rows of products no longer active and rows whose search vector does not match their text."""
    report = Report(projection="product_listing")
    locales = content_listing.tenant_locales()
    columns = ["product_id", "locale", *product_listing.ROW_FIELDS, "source_version"]
    seen = set()
    chunk: list[tuple] = []

    def flush() -> None:
        ids = [product.pk for product, _available in chunk]
        stored: dict[tuple, dict[str, Any]] = {
            (row["product_id"], row["locale"]): row
            for row in ProductListing.objects.filter(product_id__in=ids).values(*columns)
        }
        for product, available in chunk:
            expected = product_listing.expected_rows(product, locales, available)
            for locale, values in expected.items():
                row = stored.pop((product.pk, locale), None)
                if row is None:
                    report._note(Difference(str(product.pk), locale, "missing"))
                    continue
                fields = _compare({**values, "source_version": product.version}, row)
                if fields:
                    report._note(Difference(str(product.pk), locale, "different", fields))
            report.rows += len(expected)
        for product_id, locale in stored:
            report._note(Difference(str(product_id), locale, "unexpected"))
        chunk.clear()

    for product, available in product_listing.active_products():
        seen.add(product.pk)
        chunk.append((product, available))
        report.nodes += 1
        if len(chunk) >= product_listing.CHUNK:
            flush()
    flush()

    _note_orphans_and_vectors(
        report, ProductListing, "product_id", seen, product_listing.VECTOR_FROM_COLUMNS
    )
    return report


def check_forum_topics() -> Report:
    """Compare every forum topic row of the active tenant with what its approved topic says it
    should be (through the forum's selectors, a chunk of topics at a time), then find rows of
    topics no longer public and rows whose search vector does not match their text."""
    report = Report(projection="forum_topics")
    columns = ["topic_id", *forum_listing.TOPIC_FIELDS, "source_version"]
    seen: set[int] = set()
    ids = list(forum_listing.public_topic_ids())
    for start in range(0, len(ids), forum_listing.CHUNK):
        chunk = ids[start : start + forum_listing.CHUNK]
        topics = {topic.pk: topic for topic in forum.topics_by_ids(chunk)}
        stored = {
            row["topic_id"]: row
            for row in ForumTopicListing.objects.filter(topic_id__in=chunk).values(*columns)
        }
        for topic_id in chunk:
            topic = topics.get(topic_id)
            expected = forum_listing.expected_topic_row(topic)
            if expected is None:  # gone or no longer public since the ids were read
                continue
            seen.add(topic_id)
            report.nodes += 1
            report.rows += 1
            row = stored.get(topic_id)
            if row is None:
                report._note(Difference(str(topic_id), topic.locale, "missing"))
                continue
            fields = _compare({**expected, "source_version": topic.version}, row)
            if fields:
                report._note(Difference(str(topic_id), topic.locale, "different", fields))

    _note_orphans_and_vectors(
        report, ForumTopicListing, "topic_id", seen, forum_listing.VECTOR_FROM_COLUMNS
    )
    return report


def check_forum_categories() -> Report:
    """Compare each forum category's counters with what its public topics and replies say they
    should be; a category without a row, and a row without a category, are differences."""
    report = Report(projection="forum_categories")
    columns = ["category_id", *forum_listing.CATEGORY_FIELDS]
    stored = {row["category_id"]: row for row in ForumCategoryStats.objects.values(*columns)}
    for category_id in forum_listing.category_ids():
        expected = forum_listing.expected_category_row(category_id)
        if expected is None:  # deleted since the ids were read
            continue
        report.nodes += 1
        report.rows += 1
        row = stored.pop(category_id, None)
        if row is None:
            report._note(Difference(str(category_id), "", "missing"))
            continue
        fields = _compare(expected, row)
        if fields:
            report._note(Difference(str(category_id), "", "different", fields))
    for category_id in stored:
        report._note(Difference(str(category_id), "", "unexpected"))
    return report


CHECKS = {
    "content_listing": check_content_listing,
    "product_listing": check_product_listing,
    "forum_topics": check_forum_topics,
    "forum_categories": check_forum_categories,
}
