"""Reads of the blog over content's selectors. (Listings and search live on the read side, apps.index.)"""

from __future__ import annotations

from uuid import UUID

from django.db.models import QuerySet

from apps.content import selectors as content
from apps.content.kinds import POST_KIND as KIND
from apps.content.models import Category, Node, Tag
from apps.content.selectors import NodeView


def posts(
    *,
    status: str | None = None,
    category: str | None = None,
    tag: str | None = None,
    author_id: int | None = None,
) -> QuerySet[Node]:
    """Posts of any status (the editors' view), with what rendering them needs prefetched."""
    return content.nodes(
        kind=KIND, status=status, category_slug=category, tag_slug=tag, author_id=author_id
    )


def post_get(post_id: UUID | str) -> Node | None:
    node = content.node_get(post_id)
    return node if node is not None and node.kind == KIND else None


def published_post(*, slug: str, locale: str | None = None) -> Node | None:
    """The published post with ``slug`` (a slug of ``locale`` first). Drafts are never found."""
    return content.published_by_slug(KIND, slug, locale)


def post_view(node: Node, locale: str, fallback: str | None = None) -> NodeView | None:
    """``node`` in ``locale`` (else ``fallback``, else any translation)."""
    return content.view(node, locale, fallback)


def category_by_slug(slug: str) -> Category | None:
    return content.category_by_slug(slug)


def tag_by_slug(slug: str) -> Tag | None:
    return content.tag_by_slug(slug)
