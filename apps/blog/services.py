"""Writes of the blog: posts are content nodes of kind ``post``; every write goes through content's services."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

from django.db import transaction
from django.utils.text import slugify

from apps.content import selectors as content_selectors
from apps.content import services as content
from apps.content.errors import ContentInvalid
from apps.content.models import Node, NodeTranslation
from apps.content.services import NodeInput, TranslationInput

from .errors import PostNotFound

KIND = "post"
# One-segment paths of the blog's own pages (/blog/search/...): a post with such a slug would be hidden.
RESERVED_SLUGS = frozenset({"archive", "feed", "search"})


def _check_slug(translation: TranslationInput) -> None:
    slug = slugify(translation.slug or translation.title)
    if slug in RESERVED_SLUGS:
        raise ContentInvalid(
            {
                f"translations.{translation.locale}.slug": (
                    f"'{slug}' is reserved by the blog's own pages; choose another slug"
                )
            }
        )


def _post(post_id: UUID) -> Node:
    node = content_selectors.node_get(post_id)
    if node is None or node.kind != KIND:
        raise PostNotFound(f"no post {post_id}")
    return node


def _tag_ids(tag_ids: Iterable[int], tag_names: Iterable[str], actor) -> list[int]:
    ids = list(tag_ids)
    for name in tag_names:
        tag = content.tag_get_or_create(name=name, actor=actor)
        if tag.pk not in ids:
            ids.append(tag.pk)
    return ids


def post_create(
    *,
    translations: list[TranslationInput],
    category_id: int | None = None,
    tag_ids: Iterable[int] = (),
    tag_names: Iterable[str] = (),
    metadata: dict[str, Any] | None = None,
    publish_at: datetime | None = None,
    canonical_url: str = "",
    og_image_id: UUID | None = None,
    actor=None,
) -> Node:
    """A new draft post; ``tag_names`` are created as needed, in the same transaction."""
    for translation in translations:
        _check_slug(translation)
    with transaction.atomic():
        return content.node_create(
            data=NodeInput(
                kind=KIND,
                translations=translations,
                category_id=category_id,
                tag_ids=_tag_ids(tag_ids, tag_names, actor),
                metadata=metadata or {},
                publish_at=publish_at,
                canonical_url=canonical_url,
                og_image_id=og_image_id,
            ),
            actor=actor,
        )


POST_FIELDS = content.UPDATABLE - {"parent_id", "position"}


def post_update(*, post_id: UUID, actor=None, message: str = "", **changes: Any) -> Node:
    """Change a post's fields (category, tags, metadata, SEO...); see ``POST_FIELDS``."""
    unknown = set(changes) - POST_FIELDS
    if unknown:
        raise ContentInvalid({name: "cannot be changed on a post" for name in sorted(unknown)})
    _post(post_id)
    return content.node_update(node_id=post_id, actor=actor, message=message, **changes)


def post_translation_upsert(
    *, post_id: UUID, data: TranslationInput, actor=None
) -> NodeTranslation:
    _check_slug(data)
    _post(post_id)
    return content.translation_upsert(node_id=post_id, data=data, actor=actor)


def post_translation_delete(*, post_id: UUID, locale: str, actor=None) -> None:
    _post(post_id)
    content.translation_delete(node_id=post_id, locale=locale, actor=actor)


def post_publish(*, post_id: UUID, actor=None) -> Node:
    _post(post_id)
    return content.node_publish(node_id=post_id, actor=actor)


def post_unpublish(*, post_id: UUID, actor=None) -> Node:
    _post(post_id)
    return content.node_unpublish(node_id=post_id, actor=actor)


def post_archive(*, post_id: UUID, actor=None) -> Node:
    _post(post_id)
    return content.node_archive(node_id=post_id, actor=actor)


def post_restore(*, post_id: UUID, actor=None) -> Node:
    _post(post_id)
    return content.node_restore(node_id=post_id, actor=actor)


def post_schedule(*, post_id: UUID, publish_at: datetime | None, actor=None) -> Node:
    _post(post_id)
    return content.node_schedule(node_id=post_id, publish_at=publish_at, actor=actor)


def post_delete(*, post_id: UUID, actor=None) -> None:
    _post(post_id)
    content.node_delete(node_id=post_id, actor=actor)
