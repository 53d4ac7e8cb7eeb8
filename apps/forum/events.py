"""Events of the forum: every change to a category, a topic or a reply publishes one.

Three aggregates: ``forum_category``, ``forum_topic`` (a topic's own fields and states) and
``forum_reply``. Topic and reply events name the category (and a reply's event its topic),
so that the counters' projection knows which rows to count again without reading more.
"""

from typing import ClassVar

from pydantic import Field

from apps.events.schema import (
    AggregateVersion,
    DomainEvent,
    ShortText,
    Slug,
    StatusChange,
    Text,
)

PositiveId = Field(ge=1)
Reason = Text(16)

# -- categories ------------------------------------------------------------------------


class _CategoryEvent(DomainEvent):
    abstract: ClassVar[bool] = True
    aggregate_type = "forum_category"
    aggregate_id_field = "category_id"
    aggregate_version_field = "version"

    category_id: int = PositiveId
    version: AggregateVersion


class ForumCategoryCreated(_CategoryEvent):
    event_type = "forum.category.created"
    slug: Slug


class ForumCategoryUpdated(_CategoryEvent):
    event_type = "forum.category.updated"
    changed: list[ShortText] = Field(min_length=1, max_length=50)


class ForumCategoryDeleted(_CategoryEvent):
    event_type = "forum.category.deleted"
    slug: Slug


# -- topics ----------------------------------------------------------------------------


class _TopicEvent(DomainEvent):
    abstract: ClassVar[bool] = True
    aggregate_type = "forum_topic"
    aggregate_id_field = "topic_id"
    aggregate_version_field = "version"

    topic_id: int = PositiveId
    category_id: int = PositiveId
    version: AggregateVersion


class TopicStarted(_TopicEvent):
    event_type = "forum.topic.started"
    review: ShortText


class TopicEdited(_TopicEvent):
    """Its title, body or tags changed (``changed`` names which)."""

    event_type = "forum.topic.edited"
    changed: list[ShortText] = Field(min_length=1, max_length=10)


class TopicMoved(_TopicEvent):
    event_type = "forum.topic.moved"
    from_category_id: int = PositiveId


class _TopicStatusChange(_TopicEvent, StatusChange):
    abstract: ClassVar[bool] = True


class TopicClosed(_TopicStatusChange):
    event_type = "forum.topic.closed"


class TopicReopened(_TopicStatusChange):
    event_type = "forum.topic.reopened"


class TopicArchived(_TopicStatusChange):
    event_type = "forum.topic.archived"


class TopicPinned(_TopicStatusChange):
    event_type = "forum.topic.pinned"


class TopicUnpinned(_TopicStatusChange):
    event_type = "forum.topic.unpinned"


class TopicLocked(_TopicStatusChange):
    event_type = "forum.topic.locked"


class TopicUnlocked(_TopicStatusChange):
    event_type = "forum.topic.unlocked"


class TopicApproved(_TopicStatusChange):
    event_type = "forum.topic.approved"


class TopicRejected(_TopicStatusChange):
    event_type = "forum.topic.rejected"


class TopicHidden(_TopicStatusChange):
    event_type = "forum.topic.hidden"


class TopicUnhidden(_TopicStatusChange):
    event_type = "forum.topic.unhidden"


class TopicSolved(_TopicEvent):
    event_type = "forum.topic.solved"
    reply_id: int = PositiveId


class TopicUnsolved(_TopicEvent):
    event_type = "forum.topic.unsolved"


# -- replies ---------------------------------------------------------------------------


class _ReplyEvent(DomainEvent):
    abstract: ClassVar[bool] = True
    aggregate_type = "forum_reply"
    aggregate_id_field = "reply_id"
    aggregate_version_field = "version"

    reply_id: int = PositiveId
    topic_id: int = PositiveId
    category_id: int = PositiveId
    version: AggregateVersion


class ReplyPosted(_ReplyEvent):
    event_type = "forum.reply.posted"
    status: ShortText
    quoted_reply_id: int | None = Field(default=None, ge=1)


class ReplyEdited(_ReplyEvent):
    event_type = "forum.reply.edited"


class _ReplyStatusChange(_ReplyEvent, StatusChange):
    abstract: ClassVar[bool] = True


class ReplyApproved(_ReplyStatusChange):
    event_type = "forum.reply.approved"


class ReplyRejected(_ReplyStatusChange):
    event_type = "forum.reply.rejected"


class ReplyHidden(_ReplyStatusChange):
    event_type = "forum.reply.hidden"


class ReplyUnhidden(_ReplyStatusChange):
    event_type = "forum.reply.unhidden"


class ReplyFlagged(_ReplyEvent):
    event_type = "forum.reply.flagged"
    flag_id: int = PositiveId
    reason: Reason


class ReplyFlagsResolved(_ReplyEvent):
    event_type = "forum.reply.flags_resolved"
    resolution: ShortText


CATEGORY_EVENT_TYPES = tuple(
    e.event_type for e in (ForumCategoryCreated, ForumCategoryUpdated, ForumCategoryDeleted)
)
TOPIC_EVENT_TYPES = tuple(
    e.event_type
    for e in (
        TopicStarted, TopicEdited, TopicMoved, TopicClosed, TopicReopened, TopicArchived,
        TopicPinned, TopicUnpinned, TopicLocked, TopicUnlocked, TopicApproved, TopicRejected,
        TopicHidden, TopicUnhidden, TopicSolved, TopicUnsolved,
    )
)  # fmt: skip
REPLY_EVENT_TYPES = tuple(
    e.event_type
    for e in (
        ReplyPosted, ReplyEdited, ReplyApproved, ReplyRejected, ReplyHidden, ReplyUnhidden,
        ReplyFlagged, ReplyFlagsResolved,
    )
)  # fmt: skip
