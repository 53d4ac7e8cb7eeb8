"""Reads of content that other modules (blog, pages, index, api, storefront) may use."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from django.contrib.postgres.expressions import ArraySubquery
from django.core.exceptions import ValidationError
from django.db.models import Min, OuterRef, Prefetch, QuerySet
from django.db.models.functions import JSONObject

from apps.tenancy.selectors import current_locales  # noqa: F401 (re-exported for its users)

from .models import Category, Media, Node, NodeStatus, NodeTranslation, Rendition, Revision, Tag

# Annotations that carry an image's renditions ({"width", "file"} rows, narrowest first) in
# the query that loads the image, so that a ``srcset`` costs no query of its own.
OG_IMAGE_RENDITIONS = "og_image_renditions"
MEDIA_RENDITIONS = "rendition_rows"


def node_kinds() -> list[str]:
    """Every kind some node has, sorted."""
    return sorted(Node.objects.order_by().values_list("kind", flat=True).distinct())


@dataclass(frozen=True)
class NodeView:
    """A node in one locale, ready to render: the translation picked with fallback."""

    node: Node
    translation: NodeTranslation
    locale: str

    @property
    def title(self) -> str:
        return self.translation.title

    @property
    def slug(self) -> str:
        return self.translation.slug

    @property
    def body_html(self) -> str:
        return self.translation.body_html


def nodes(
    *,
    kind: str | None = None,
    status: str | None = None,
    category_slug: str | None = None,
    tag_slug: str | None = None,
    tag_id: int | None = None,
    author_id: int | None = None,
    parent_id: UUID | None = None,
) -> QuerySet[Node]:
    """Nodes with what rendering them needs loaded in a fixed number of queries."""
    # The author's profile (apps.people, below content) holds the name readers see.
    queryset = (
        Node.objects.select_related("author", "author__profile", "category", "og_image")
        .prefetch_related(
            "tags", Prefetch("translations", queryset=NodeTranslation.objects.order_by("locale"))
        )
        .annotate(**{OG_IMAGE_RENDITIONS: _renditions_of("og_image_id")})
    )
    if kind:
        queryset = queryset.filter(kind=kind)
    if status:
        queryset = queryset.filter(status=status)
    if category_slug:
        queryset = queryset.filter(category__slug=category_slug)
    if tag_slug:
        queryset = queryset.filter(tags__slug=tag_slug)
    if tag_id is not None:
        queryset = queryset.filter(tags__pk=tag_id)
    if author_id is not None:
        queryset = queryset.filter(author_id=author_id)
    if parent_id is not None:
        queryset = queryset.filter(parent_id=parent_id)
    return queryset


def published(kind: str | None = None) -> QuerySet[Node]:
    return nodes(kind=kind, status=NodeStatus.PUBLISHED).order_by("-published_at", "-created_at")


def node_ids_tagged(tag_ids: Iterable[int]) -> QuerySet:
    """The ids of the nodes carrying any of ``tag_ids``, each once."""
    tagged = Node.objects.filter(tags__pk__in=list(tag_ids)).order_by()
    return tagged.values_list("pk", flat=True).distinct()


def node_get(node_id: UUID | str) -> Node | None:
    try:
        return nodes().filter(pk=node_id).first()
    except (ValidationError, ValueError):
        return None


def pick_translation(
    node: Node, locale: str, fallback: str | None = None
) -> NodeTranslation | None:
    """The translation in ``locale``, else in ``fallback``, else any (uses prefetched rows)."""
    translations = list(node.translations.all())
    for wanted in (locale, fallback):
        for translation in translations:
            if translation.locale == wanted:
                return translation
    return translations[0] if translations else None


def view(node: Node, locale: str, fallback: str | None = None) -> NodeView | None:
    translation = pick_translation(node, locale, fallback)
    return NodeView(node, translation, translation.locale) if translation else None


def published_by_slug(kind: str, slug: str, locale: str | None = None) -> Node | None:
    """The published node of ``kind`` with ``slug`` (in ``locale`` first, then in any locale)."""
    candidates = published(kind).filter(translations__slug=slug)
    if locale:
        node = candidates.filter(translations__locale=locale).first()
        if node is not None:
            return node
    return candidates.first()


def node_translations(node_id: UUID) -> QuerySet[NodeTranslation]:
    return NodeTranslation.objects.filter(node_id=node_id).order_by("locale")


def node_translation(node_id: UUID, locale: str) -> NodeTranslation | None:
    return NodeTranslation.objects.filter(node_id=node_id, locale=locale).first()


def revisions(node_id: UUID) -> QuerySet[Revision]:
    return Revision.objects.filter(node_id=node_id).select_related("author").order_by("-number")


def categories() -> QuerySet[Category]:
    return Category.objects.select_related("parent").order_by("position", "name")


def category_by_slug(slug: str) -> Category | None:
    return Category.objects.filter(slug=slug).first()


def tags() -> QuerySet[Tag]:
    return Tag.objects.order_by("name")


def tag_by_slug(slug: str) -> Tag | None:
    return Tag.objects.filter(slug=slug).first()


def media(media_id: UUID | str) -> Media | None:
    try:
        return Media.objects.filter(pk=media_id).first()
    except (ValidationError, ValueError):
        return None


def media_list(*, with_renditions: bool = False) -> QuerySet[Media]:
    """Every media, newest first; ``with_renditions`` loads what ``media_srcset`` needs."""
    queryset = Media.objects.order_by("-created_at")
    if with_renditions:
        queryset = queryset.annotate(**{MEDIA_RENDITIONS: _renditions_of("pk")})
    return queryset


def _renditions_of(media_ref: str) -> ArraySubquery:
    return ArraySubquery(
        Rendition.objects.filter(media_id=OuterRef(media_ref))
        .order_by("width")
        .values(row=JSONObject(width="width", file="file"))
    )


def renditions(media_id: UUID | str) -> QuerySet[Rendition]:
    return Rendition.objects.filter(media_id=media_id).order_by("width")


def _srcset(media: Media | None, rows: list[dict] | None) -> str:
    """``"<url> 320w, <url> 640w, <original> 1000w"``; empty until the image has renditions."""
    if media is None or not media.width or not rows:
        return ""
    # Never a rendition as wide as the original: a width named twice makes the srcset invalid.
    narrower = [row for row in rows if row["width"] < media.width]
    if not narrower:
        return ""
    storage = Rendition._meta.get_field("file").storage
    sources = [f"{storage.url(row['file'])} {row['width']}w" for row in narrower]
    return ", ".join([*sources, f"{media.file.url} {media.width}w"])


def media_srcset(media: Media | None) -> str:
    """The ``srcset`` of ``media`` (loaded with ``media_list(with_renditions=True)``, else one query)."""
    if media is None:
        return ""
    rows = getattr(media, MEDIA_RENDITIONS, None)
    if rows is None:
        rows = list(renditions(media.pk).values("width", "file"))
    return _srcset(media, rows)


def og_image_srcset(node: Node) -> str:
    """The ``srcset`` of the node's image (loaded with ``nodes()``, else one query)."""
    if node.og_image_id is None:
        return ""
    rows = getattr(node, OG_IMAGE_RENDITIONS, None)
    if rows is None:
        rows = list(renditions(node.og_image_id).values("width", "file"))
    return _srcset(node.og_image, rows)


def scheduled() -> QuerySet[Node]:
    """Drafts waiting for their publication time, soonest first."""
    return nodes(status=NodeStatus.DRAFT).filter(publish_at__isnull=False).order_by("publish_at")


def next_publication_at() -> datetime | None:
    """The soonest time a draft of the active schema is scheduled for (``None``: none is)."""
    drafts = Node.objects.filter(status=NodeStatus.DRAFT, publish_at__isnull=False)
    return drafts.aggregate(soonest=Min("publish_at"))["soonest"]
