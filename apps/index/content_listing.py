"""The content listing projection's rows: built from content's selectors, written with a version guard.

The handler, ``rebuild_projections`` and the consistency check all build rows
with ``expected_rows`` from the current state of a node, so the three agree by
construction. A row is written only if it is not older than the stored one
(``source_version`` is the node's aggregate version).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.db import connection

from apps.content import selectors as content
from apps.content.selectors import NodeStatus
from apps.tenancy.selectors import tenant_list

from .models import ContentListing
from .projections import newest_versions, sources_behind, write_by_locale
from .text import (
    MAX_BODY_TEXT,
    author_display_name,
    excerpt_of_text,
    reading_minutes,
    search_config,
    text_of,
)

CHUNK = 500

# Title weighs most, then the excerpt, then the body; each in the language of the text.
VECTOR_SQL = (
    "setweight(to_tsvector({config}::regconfig, {title}), 'A') || "
    "setweight(to_tsvector({config}::regconfig, {excerpt}), 'B') || "
    "setweight(to_tsvector({config}::regconfig, {body}), 'C')"
)
VECTOR_SOURCE = {"config": "search_config", "title": "title", "excerpt": "excerpt",
                 "body": "body_text"}  # fmt: skip
VECTOR_FROM_COLUMNS = VECTOR_SQL.format(**VECTOR_SOURCE)
# The columns it reads: a row whose values of these did not change keeps its vector.
VECTOR_COLUMNS = tuple(VECTOR_SOURCE.values())

# What a row holds besides its key and the bookkeeping (source_version, indexed_at, vector).
ROW_FIELDS = (
    "kind", "content_locale", "title", "slug", "excerpt", "body_text", "author_id", "author_name",
    "category_id", "category_slug", "category_name", "tag_slugs", "tag_names", "image_id",
    "image_url", "image_width", "image_height", "image_alt", "image_srcset", "published_at",
    "reading_minutes", "search_config",
)  # fmt: skip


@dataclass(frozen=True)
class Locales:
    """The locales the active tenant serves (its default first) and its default."""

    served: tuple[str, ...]
    default: str


def tenant_locales() -> Locales:
    """Read fresh (not from the resolver's cache): a locale change must not race its handler."""
    tenant = tenant_list().filter(schema_name=connection.schema_name).first()
    if tenant is None:
        return Locales(("en",), "en")
    return Locales(tuple(tenant.locales), tenant.default_locale)


def expected_rows(node, locales: Locales) -> dict[str, dict[str, Any]]:
    """The rows ``node`` should have, by locale: none unless it is published."""
    if node is None or node.status != NodeStatus.PUBLISHED or node.published_at is None:
        return {}
    tags = sorted(node.tags.all(), key=lambda tag: tag.slug)
    category = node.category
    image = node.og_image
    srcset = content.og_image_srcset(node) if image else ""
    rows = {}
    for locale in locales.served:
        translation = content.pick_translation(node, locale, locales.default)
        if translation is None:
            continue
        full_text = text_of(translation.body_html)
        body_text = full_text[:MAX_BODY_TEXT]
        rows[locale] = {
            "kind": node.kind,
            "content_locale": translation.locale,
            "title": translation.title,
            "slug": translation.slug,
            "excerpt": excerpt_of_text(translation.excerpt, full_text),
            "body_text": body_text,
            "author_id": node.author_id,
            "author_name": author_display_name(node.author)[:255],
            "category_id": category.pk if category else None,
            "category_slug": category.slug if category else "",
            # Names in the row's locale (the page's), whatever language the post falls back to.
            "category_name": category.name_in(locale) if category else "",
            "tag_slugs": [tag.slug for tag in tags],
            "tag_names": [tag.name_in(locale) for tag in tags],
            "image_id": image.pk if image else None,
            "image_url": image.file.url[:500] if image else "",
            "image_width": image.width if image else None,
            "image_height": image.height if image else None,
            "image_alt": image.alt(translation.locale)[:500] if image else "",
            "image_srcset": srcset,
            "published_at": node.published_at,
            "reading_minutes": reading_minutes(body_text),
            "search_config": search_config(translation.locale),
        }
    return rows


def write(node_id: UUID, version: int | None, rows: dict[str, dict[str, Any]]) -> None:
    """Make the stored rows of ``node_id`` be ``rows`` (unless they already reflect a newer version)."""
    write_many([(node_id, version, rows)])


def write_many(items: list[tuple[UUID, int | None, dict[str, dict[str, Any]]]]) -> None:
    """``write`` for many nodes: one upsert and one delete (``write_by_locale``)."""
    write_by_locale(
        ContentListing, "node_id", items,
        computed={"search_vector": VECTOR_FROM_COLUMNS}, computed_from=VECTOR_COLUMNS,
    )  # fmt: skip


def sync_node(node_id: UUID | str, locales: Locales | None = None) -> None:
    """Bring one node's rows in line with its current state (gone, unpublished: no rows)."""
    sync_nodes([node_id], locales)


def sync_nodes(node_ids: Iterable[UUID | str], locales: Locales | None = None) -> int:
    """``sync_node`` for many nodes, a chunk at a time: per chunk one read of the nodes (with
    what their rows show), one upsert and one delete, however many nodes and locales."""
    ids = list(dict.fromkeys(_uuids(node_ids)))
    if not ids:
        return 0
    locales = locales or tenant_locales()
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        found = {node.pk: node for node in content.nodes().filter(pk__in=chunk)}
        write_many(
            [
                (node.pk, node.version, expected_rows(node, locales))
                if (node := found.get(node_id))
                else (node_id, None, {})
                for node_id in chunk
            ]
        )
    return len(ids)


def nodes_behind(named: Iterable[tuple[UUID | str, int | None]]) -> list[UUID]:
    """Of the nodes that events name with their versions, those whose rows may not show that
    version yet (``sources_behind``): in a backlog, a node's rows are read at its last version
    once, and its older events need no read."""
    by_value = newest_versions(named)  # each id parsed once, however many events name it
    versions = newest_versions(
        (node_id, version) for value, version in by_value.items() for node_id in _uuids([value])
    )
    return sources_behind(ContentListing, "node_id", versions)


def _uuids(values: Iterable[UUID | str]) -> Iterator[UUID]:
    """The values that are node ids (an id that is not a UUID names no node)."""
    for value in values:
        if isinstance(value, UUID):
            yield value
            continue
        with contextlib.suppress(ValueError):
            yield UUID(str(value))


def published_nodes() -> Iterator:
    """Every published node of the active tenant, with what rows need, in chunks."""
    return content.published().order_by("pk").iterator(chunk_size=CHUNK)


def published_count() -> int:
    return content.published().count()


def sync_all() -> int:
    """Every row of the active tenant again (after its locales changed, say)."""
    locales = tenant_locales()
    seen = set()
    for node in published_nodes():
        write(node.pk, node.version, expected_rows(node, locales))
        seen.add(node.pk)
    listed = set(ContentListing.objects.values_list("node_id", flat=True).distinct())
    ContentListing.objects.exclude(locale__in=locales.served).delete()
    sync_nodes(listed - seen, locales)
    return len(seen)
