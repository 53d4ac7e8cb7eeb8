"""Writes of the blog: posts are content nodes of kind ``post``; every write goes through content's services.

The blog adds its rules to content's: a post has no place in the page tree, and
slugs the blog's own pages use are refused. They are handed to content's
services as ``rules``, so that they are checked under the node's lock in the
same transaction as the write, whoever calls (admin, API, commands).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from uuid import UUID

from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext

from apps.content import services as content
from apps.content.errors import ContentInvalid, NodeNotFound
from apps.content.kinds import POST_KIND
from apps.content.models import Node, NodeTranslation
from apps.content.services import NodeInput, TranslationInput

from .errors import PostNotFound

KIND = POST_KIND
# One-segment paths of the blog's own pages (/blog/search/...): a post with such a slug would be hidden.
RESERVED_SLUGS = frozenset({"archive", "feed", "search"})
POST_FIELDS = content.UPDATABLE - {"parent_id", "position"}


def _check_slugs(node: Node | None, translations: list[TranslationInput]) -> None:
    """The blog's rule on slugs (content's ``NodeRules``)."""
    for translation in translations:
        slug = slugify(translation.slug or translation.title)
        if slug in RESERVED_SLUGS:
            raise ContentInvalid(
                {
                    f"translations.{translation.locale}.slug": (
                        f"'{slug}' is reserved by the blog's own pages; choose another slug"
                    )
                }
            )


@contextmanager
def _as_post(post_id: UUID) -> Iterator[None]:
    """Content's "no such node (of this kind)" as the blog's "no such post"."""
    try:
        yield
    except NodeNotFound as missing:
        if isinstance(missing, PostNotFound):
            raise
        raise PostNotFound(f"no post {post_id}") from None


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
    _check_slugs(None, translations)  # before any tag is created
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
            rules=_check_slugs,
            actor=actor,
        )


def post_patch(
    *,
    post_id: UUID,
    fields: Mapping[str, Any] | None = None,
    translations: Mapping[str, Mapping[str, Any]] | None = None,
    delete_locales: Iterable[str] = (),
    actor=None,
    message: str = "",
) -> Node:
    """Change a post's fields (``POST_FIELDS``), schedule and translations: one transaction."""
    unknown = set(fields or {}) - POST_FIELDS
    if unknown:
        refusal = gettext("cannot be changed on a post")
        raise ContentInvalid({name: refusal for name in sorted(unknown)})
    with _as_post(post_id):
        return content.node_patch(
            node_id=post_id,
            fields=fields,
            translations=translations,
            delete_locales=delete_locales,
            kind=KIND,
            rules=_check_slugs,
            actor=actor,
            message=message,
        )


def post_update(*, post_id: UUID, actor=None, message: str = "", **changes: Any) -> Node:
    """Change a post's fields (category, tags, metadata, SEO...); see ``POST_FIELDS``."""
    return post_patch(post_id=post_id, fields=changes, actor=actor, message=message)


def post_translation_upsert(
    *, post_id: UUID, data: TranslationInput, actor=None
) -> NodeTranslation:
    values = {name: getattr(data, name) for name in content.TRANSLATION_FIELDS}
    node = post_patch(post_id=post_id, translations={data.locale: values}, actor=actor)
    return node.translations.get(locale=data.locale)


def post_translation_delete(*, post_id: UUID, locale: str, actor=None) -> None:
    post_patch(post_id=post_id, delete_locales=[locale], actor=actor)


def post_transition(*, post_id: UUID, action: str, actor=None) -> Node:
    """``action`` of content's ``NODE_TRANSITIONS`` on a post."""
    with _as_post(post_id):
        return content.node_transition(node_id=post_id, action=action, kind=KIND, actor=actor)


def post_publish(*, post_id: UUID, actor=None) -> Node:
    return post_transition(post_id=post_id, action="publish", actor=actor)


def post_unpublish(*, post_id: UUID, actor=None) -> Node:
    return post_transition(post_id=post_id, action="unpublish", actor=actor)


def post_archive(*, post_id: UUID, actor=None) -> Node:
    return post_transition(post_id=post_id, action="archive", actor=actor)


def post_restore(*, post_id: UUID, actor=None) -> Node:
    return post_transition(post_id=post_id, action="restore", actor=actor)


def post_schedule(*, post_id: UUID, publish_at: datetime | None, actor=None) -> Node:
    with _as_post(post_id):
        return content.node_schedule(node_id=post_id, publish_at=publish_at, kind=KIND, actor=actor)


def post_delete(*, post_id: UUID, actor=None) -> None:
    with _as_post(post_id):
        content.node_delete(node_id=post_id, kind=KIND, actor=actor)
