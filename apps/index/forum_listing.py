"""The forum's read models: a row per public topic with its counters, and per category.

Built from the forum's selectors (the current state, so replays and out-of-order events end
in the same rows) by one ``expected_topic_row`` and one ``expected_category_row``, shared by
the handler, the rebuild and the consistency check.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.utils import timezone

from apps.forum import selectors as forum
from apps.forum.models import Review

from .models import ForumCategoryStats, ForumTopicListing
from .projections import versioned_upsert
from .text import MAX_BODY_TEXT, author_display_name, excerpt_of, search_config, text_of

CHUNK = 200

VECTOR_SQL = (
    "setweight(to_tsvector({config}::regconfig, {title}), 'A') || "
    "setweight(to_tsvector({config}::regconfig, {body}), 'B') || "
    "setweight(to_tsvector({config}::regconfig, {replies}), 'C')"
)
VECTOR_FROM_COLUMNS = VECTOR_SQL.format(
    config="search_config", title="title", body="body_text", replies="replies_text"
)

TOPIC_FIELDS = (
    "category_id", "title", "slug", "excerpt", "body_text", "replies_text", "author_id",
    "author_name", "author_handle", "status", "pinned", "locked", "solution_reply_id",
    "tag_slugs", "tag_names", "reply_count", "last_activity_at", "last_poster_id",
    "last_poster_name", "last_reply_id", "created_at", "locale", "search_config",
)  # fmt: skip
CATEGORY_FIELDS = (
    "topic_count", "reply_count", "last_activity_at", "last_topic_id", "last_topic_title",
    "last_topic_slug", "last_poster_id", "last_poster_name",
)  # fmt: skip


def _handle(user) -> str:
    member = getattr(user, "forum_member", None) if user is not None else None
    return member.handle if member is not None else ""


def _replies_text(topic) -> str:
    """The approved replies' text, oldest first, up to the search's bound."""
    parts, size = [], 0
    for html in forum.replies(topic).values_list("body_html", flat=True).iterator(chunk_size=200):
        text = text_of(html)
        parts.append(text)
        size += len(text) + 1
        if size >= MAX_BODY_TEXT:
            break
    return " ".join(parts)[:MAX_BODY_TEXT]


def expected_topic_row(topic) -> dict[str, Any] | None:
    """The row ``topic`` should have: none unless it is approved."""
    if topic is None or topic.review != Review.APPROVED:
        return None
    counts = forum.topic_counts(topic.pk)
    last = counts["last_reply"]
    poster = last.author if last is not None else topic.author
    tags = sorted(topic.tags.all(), key=lambda tag: tag.slug)
    body_text = text_of(topic.body_html)[:MAX_BODY_TEXT]
    return {
        "category_id": topic.category_id,
        "title": topic.title[:255],
        "slug": topic.slug[:255],
        "excerpt": excerpt_of("", topic.body_html),
        "body_text": body_text,
        "replies_text": _replies_text(topic),
        "author_id": topic.author_id,
        "author_name": author_display_name(topic.author)[:255] if topic.author else "",
        "author_handle": _handle(topic.author),
        "status": topic.status,
        "pinned": topic.pinned,
        "locked": topic.locked,
        "solution_reply_id": topic.solution_id,
        "tag_slugs": [tag.slug for tag in tags],
        "tag_names": [tag.name for tag in tags],
        "reply_count": counts["reply_count"],
        "last_activity_at": last.created_at if last is not None else topic.created_at,
        "last_poster_id": poster.pk if poster is not None else None,
        "last_poster_name": author_display_name(poster)[:255] if poster is not None else "",
        "last_reply_id": last.pk if last is not None else None,
        "created_at": topic.created_at,
        "locale": topic.locale,
        "search_config": search_config(topic.locale),
    }


def write_topic(topic_id: int, version: int | None, row: dict[str, Any] | None) -> None:
    if row is None:
        ForumTopicListing.objects.filter(topic_id=topic_id).delete()
        return
    versioned_upsert(
        ForumTopicListing,
        key={"topic_id": topic_id},
        version=version,
        values={**row, "indexed_at": timezone.now()},
        computed={"search_vector": VECTOR_FROM_COLUMNS},
        replace_equal=True,
    )


def sync_topics(topic_ids: Iterable[int]) -> int:
    """Bring the rows of ``topic_ids`` in line with their topics, a chunk at a time."""
    ids = list(dict.fromkeys(int(topic_id) for topic_id in topic_ids))
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        found = {topic.pk: topic for topic in forum.topics_by_ids(chunk)}
        for topic_id in chunk:
            topic = found.get(topic_id)
            write_topic(topic_id, topic.version if topic else None, expected_topic_row(topic))
    return len(ids)


def expected_category_row(category_id: int) -> dict[str, Any] | None:
    """The counters of ``category_id``: none for a category that no longer exists."""
    if forum.category_get(category_id) is None:
        return None
    topics = forum.public_topics_in(category_id)
    replies = forum.public_replies_in(category_id)
    last_topic = topics.select_related(*forum.AUTHOR).order_by("-created_at", "-pk").first()
    last_reply = (
        replies.select_related("topic", *forum.AUTHOR).order_by("-created_at", "-pk").first()
    )
    latest = max(
        (post for post in (last_topic, last_reply) if post is not None),
        key=lambda post: post.created_at,
        default=None,
    )
    if latest is None:
        topic = poster = None
    elif latest is last_reply:
        topic, poster = last_reply.topic, last_reply.author
    else:
        topic, poster = last_topic, last_topic.author
    return {
        "topic_count": topics.count(),
        "reply_count": replies.count(),
        "last_activity_at": latest.created_at if latest is not None else None,
        "last_topic_id": topic.pk if topic is not None else None,
        "last_topic_title": topic.title[:255] if topic is not None else "",
        "last_topic_slug": topic.slug[:255] if topic is not None else "",
        "last_poster_id": poster.pk if poster is not None else None,
        "last_poster_name": author_display_name(poster)[:255] if poster is not None else "",
    }


def sync_categories(category_ids: Iterable[int]) -> int:
    ids = list(dict.fromkeys(int(category_id) for category_id in category_ids))
    for category_id in ids:
        row = expected_category_row(category_id)
        if row is None:
            ForumCategoryStats.objects.filter(category_id=category_id).delete()
        else:
            ForumCategoryStats.objects.update_or_create(
                category_id=category_id, defaults={**row, "indexed_at": timezone.now()}
            )
    return len(ids)


def public_topic_ids() -> Iterator[int]:
    return forum.public_topic_ids().iterator(chunk_size=2000)


def category_ids() -> list[int]:
    return list(forum.categories().values_list("pk", flat=True))
