"""Reads of the forum that other code may use (the storefront, the API, the admin, the index).

Visibility is decided here once: the public sees approved posts of approved topics; an
author also sees their own pending or hidden posts; a moderator sees everything.
Counters are not here: they are the index's projections.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from apps.content import selectors as content

from .models import (
    Edit,
    Flag,
    ForumCategory,
    Member,
    ModerationEntry,
    Reply,
    Review,
    Subscription,
    Topic,
)

# What a query that shows authors should ``select_related``: their public name and handle.
AUTHOR = ("author__profile", "author__forum_member")


def is_moderator(user) -> bool:
    """Whether ``user`` moderates the forum: staff with the right to change replies."""
    return bool(
        getattr(user, "is_authenticated", False)
        and user.is_active
        and user.is_staff
        and user.has_perm("forum.change_reply")
    )


def edit_window_seconds() -> int:
    return int(settings.FORUM["EDIT_WINDOW_SECONDS"])


# -- categories ------------------------------------------------------------------------


def categories() -> QuerySet[ForumCategory]:
    """Every category, top level first then their children, each by position."""
    return ForumCategory.objects.select_related("parent").order_by("position", "name", "pk")


def category_get(category_id: int) -> ForumCategory | None:
    return ForumCategory.objects.filter(pk=category_id).first()


def category_by_slug(slug: str) -> ForumCategory | None:
    return ForumCategory.objects.select_related("parent").filter(slug=slug).first()


# -- topics ----------------------------------------------------------------------------


def _visible_topics(user) -> Q:
    approved = Q(review=Review.APPROVED)
    if is_moderator(user):
        return Q()
    if getattr(user, "is_authenticated", False):
        return approved | Q(author_id=user.pk, review__in=[Review.PENDING, Review.HIDDEN])
    return approved


def topics(user=None) -> QuerySet[Topic]:
    """The topics ``user`` (None: the public) may see, with category and author loaded."""
    return (
        Topic.objects.filter(_visible_topics(user))
        .select_related("category", *AUTHOR)
        .order_by("-created_at", "-pk")
    )


def topic_get(topic_id: int, user=None) -> Topic | None:
    """The topic, if ``user`` may see it."""
    return topics(user).filter(pk=topic_id).first()


def topic_any(topic_id: int) -> Topic | None:
    """The topic whatever its review (for moderators' and the index's reads)."""
    return Topic.objects.select_related("category", *AUTHOR).filter(pk=topic_id).first()


def topics_by_ids(topic_ids: Iterable[int]) -> QuerySet[Topic]:
    return (
        Topic.objects.filter(pk__in=list(topic_ids))
        .select_related("category", "solution", *AUTHOR)
        .prefetch_related("tags")
    )


def topic_tags(topic: Topic) -> list:
    return list(topic.tags.all())


def tags():
    """The tags topics may carry: the tenant's content tags (the forum builds on content)."""
    return content.tags()


def tag_by_slug(slug: str):
    return content.tag_by_slug(slug)


# -- replies ---------------------------------------------------------------------------


def _visible_replies(user) -> Q:
    approved = Q(status=Review.APPROVED)
    if is_moderator(user):
        return Q()
    if getattr(user, "is_authenticated", False):
        return approved | Q(author_id=user.pk, status__in=[Review.PENDING, Review.HIDDEN])
    return approved


def replies(topic: Topic, user=None) -> QuerySet[Reply]:
    """The replies of ``topic`` ``user`` may see, oldest first, with authors and quotes."""
    return (
        Reply.objects.filter(_visible_replies(user), topic=topic)
        .select_related(*AUTHOR, "quoted", "quoted__author__profile")
        .order_by("created_at", "pk")
    )


def reply_get(reply_id: int, user=None) -> Reply | None:
    """The reply, if ``user`` may see it and its topic."""
    reply = (
        Reply.objects.filter(_visible_replies(user), pk=reply_id)
        .select_related("topic", "topic__category", *AUTHOR)
        .first()
    )
    if reply is None or topic_get(reply.topic_id, user) is None:
        return None
    return reply


def reply_position(reply: Reply, user=None) -> int:
    """How many replies ``user`` sees before ``reply`` in its topic (for its page's number)."""
    return (
        Reply.objects.filter(_visible_replies(user), topic_id=reply.topic_id)
        .filter(
            Q(created_at__lt=reply.created_at) | Q(created_at=reply.created_at, pk__lt=reply.pk)
        )
        .count()
    )


def replies_by_ids(reply_ids: Iterable[int]) -> QuerySet[Reply]:
    return Reply.objects.filter(pk__in=list(reply_ids)).select_related("topic", *AUTHOR)


# -- counting from the write model (for the index's projections and their consistency check) --


def topic_counts(topic_id: int) -> dict:
    """What the counters of ``topic_id`` are: approved replies, last activity and poster."""
    approved = Reply.objects.filter(topic_id=topic_id, status=Review.APPROVED)
    last = approved.select_related(*AUTHOR).order_by("-created_at", "-pk").first()
    return {"reply_count": approved.count(), "last_reply": last}


def public_topic_ids() -> QuerySet:
    """The ids of every approved topic, in order (what the forum's listing holds)."""
    return Topic.objects.filter(review=Review.APPROVED).order_by("pk").values_list("pk", flat=True)


def topic_ids_with_tag(tag_id: int) -> QuerySet:
    return Topic.objects.filter(tags__pk=tag_id).values_list("pk", flat=True)


def public_topics_in(category_id: int) -> QuerySet[Topic]:
    return Topic.objects.filter(category_id=category_id, review=Review.APPROVED)


def public_replies_in(category_id: int) -> QuerySet[Reply]:
    return Reply.objects.filter(
        topic__category_id=category_id, topic__review=Review.APPROVED, status=Review.APPROVED
    )


# -- people ----------------------------------------------------------------------------


def member_by_handle(handle: str) -> Member | None:
    return Member.objects.select_related("user__profile").filter(handle=handle.lower()).first()


def members_by_handles(handles: Iterable[str]) -> dict[str, Member]:
    wanted = {h.lower() for h in handles}
    if not wanted:
        return {}
    return {m.handle: m for m in Member.objects.filter(handle__in=wanted).select_related("user")}


def subscribed(topic_id: int, user) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return Subscription.objects.filter(topic_id=topic_id, user_id=user.pk).exists()


def subscribers(topic_id: int) -> QuerySet[Subscription]:
    return Subscription.objects.filter(topic_id=topic_id).select_related("user")


# -- moderation ------------------------------------------------------------------------


def pending_topics() -> QuerySet[Topic]:
    return Topic.objects.filter(review=Review.PENDING).select_related("category", *AUTHOR)


def pending_replies() -> QuerySet[Reply]:
    return Reply.objects.filter(status=Review.PENDING).select_related("topic", *AUTHOR)


def open_flags() -> QuerySet[Flag]:
    return Flag.objects.filter(resolved_at__isnull=True).select_related(
        "reply", "reply__topic", "reporter__profile"
    )


def moderation_log(topic_id: int) -> QuerySet[ModerationEntry]:
    return ModerationEntry.objects.filter(topic_id=topic_id).select_related("reply")


def edits(*, topic_id: int, reply_id: int | None = None) -> QuerySet[Edit]:
    return Edit.objects.filter(topic_id=topic_id, reply_id=reply_id)


# -- unsubscribe links -----------------------------------------------------------------

UNSUBSCRIBE_PATH = "/forum/unsubscribe/{token}/"


def _unsubscribe_signer() -> signing.Signer:
    # Bound to the tenant's schema: a link never works on another tenant.
    return signing.Signer(salt=f"forum.unsubscribe:{connection.schema_name}")


def unsubscribe_token(*, user_id: int, topic_id: int) -> str:
    """The token of a member's link that ends their subscription to a topic (no login needed)."""
    return _unsubscribe_signer().sign(f"{int(user_id)}.{int(topic_id)}")


def unsubscribe_target(token: str) -> tuple[int, int] | None:
    """``(user_id, topic_id)`` of a valid token of the active tenant, else None."""
    try:
        value = _unsubscribe_signer().unsign(str(token)[:200])
    except signing.BadSignature:
        return None
    user_id, _, topic_id = value.partition(".")
    if not (user_id.isdigit() and topic_id.isdigit()):
        return None
    return int(user_id), int(topic_id)


# -- notifications -----------------------------------------------------------------------


def member_locales(user_ids: Iterable[int]) -> dict[int, str]:
    """The language each of ``user_ids`` writes the forum in (their latest topic's), for those
    who started one: the forum's best knowledge of a member's language, in one query."""
    ids = {user_id for user_id in user_ids if user_id is not None}
    if not ids:
        return {}
    rows = (
        Topic.objects.filter(author_id__in=ids)
        .order_by("author_id", "-created_at", "-pk")
        .distinct("author_id")
        .values_list("author_id", "locale")
    )
    return dict(rows)


# -- the storefront's pages --------------------------------------------------------------


def topic_for_page(topic_id: int, user=None) -> Topic | None:
    """The topic as its page shows it (category and its parent, author), if ``user`` may see it."""
    return topics(user).select_related("category__parent").filter(pk=topic_id).first()


def category_children(category_id: int) -> QuerySet[ForumCategory]:
    return ForumCategory.objects.filter(parent_id=category_id).order_by("position", "name", "pk")


def topic_views(topic_ids: Iterable[int]) -> dict[int, int]:
    """The views of ``topic_ids`` as the write model counts them (one query)."""
    ids = list(topic_ids)
    if not ids:
        return {}
    return dict(Topic.objects.filter(pk__in=ids).values_list("pk", "views_count"))


def authored_topics(author, user=None) -> QuerySet[Topic]:
    """The topics ``author`` started that ``user`` may see (their own: pending ones too)."""
    return topics(user).filter(author_id=author.pk)


def subscriptions_of(user) -> QuerySet[Subscription]:
    """The member's subscriptions, newest first, with their topics and categories."""
    return (
        Subscription.objects.filter(user_id=user.pk)
        .select_related("topic__category")
        .order_by("-created_at", "-pk")
    )


def may_edit(post: Topic | Reply, user) -> bool:
    """Whether the page offers ``user`` to edit ``post`` (the services decide on the edit):
    a moderator always, its author within the edit window."""
    if not getattr(user, "is_authenticated", False):
        return False
    if is_moderator(user):
        return True
    return post.author_id == user.pk and within_edit_window(post)


def within_edit_window(post: Topic | Reply) -> bool:
    """Whether ``post`` is still young enough for its author to edit (``FORUM`` setting)."""
    return timezone.now() - post.created_at <= timedelta(seconds=edit_window_seconds())


# -- the API ---------------------------------------------------------------------------


def _of_visible_topics(user) -> Q:
    """Rows whose topic ``user`` may see (a condition on ``topic_id``)."""
    if is_moderator(user):
        return Q()
    return Q(topic_id__in=Topic.objects.filter(_visible_topics(user)).values("pk"))


def replies_for(user=None) -> QuerySet[Reply]:
    """Every reply ``user`` may see, in the topics they may see, newest first, with authors."""
    return (
        Reply.objects.filter(_visible_replies(user), _of_visible_topics(user))
        .select_related(*AUTHOR)
        .order_by("-created_at", "-pk")
    )


def flagged(queryset: QuerySet[Reply], value: bool = True) -> QuerySet[Reply]:
    """The replies of ``queryset`` with an open report (``value``), or without one."""
    open_flag = Exists(Flag.objects.filter(reply_id=OuterRef("pk"), resolved_at__isnull=True))
    return queryset.filter(open_flag if value else ~open_flag)


def flags() -> QuerySet[Flag]:
    """Every report, open and resolved, newest first, with the reply's topic and the people."""
    return Flag.objects.select_related(
        "reply",
        "reporter__profile",
        "reporter__forum_member",
        "resolved_by__profile",
        "resolved_by__forum_member",
    ).order_by("-created_at", "-pk")
