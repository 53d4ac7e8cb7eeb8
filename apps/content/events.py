"""Events of the content module. Every change to content publishes one of these."""

from typing import Annotated, ClassVar

from pydantic import Field

from apps.events.schema import (
    AggregateVersion,
    DomainEvent,
    NonNilUUID,
    ShortText,
    StatusChange,
    Text,
)

Kind = Text(32)
Locale = Text(16)
SlugText = Text(255)


class _NodeEvent(DomainEvent):
    abstract: ClassVar[bool] = True
    aggregate_type = "node"
    aggregate_id_field = "node_id"
    aggregate_version_field = "version"

    node_id: NonNilUUID
    kind: Kind
    version: AggregateVersion


class NodeCreated(_NodeEvent):
    event_type = "content.node.created"


class NodeUpdated(_NodeEvent):
    event_type = "content.node.updated"
    changed: list[ShortText] = Field(min_length=1)


class NodeDeleted(_NodeEvent):
    event_type = "content.node.deleted"


class _NodeStatusChange(StatusChange):
    abstract: ClassVar[bool] = True
    aggregate_type = "node"
    aggregate_id_field = "node_id"
    aggregate_version_field = "version"

    node_id: NonNilUUID
    kind: Kind
    version: AggregateVersion


class NodePublished(_NodeStatusChange):
    event_type = "content.node.published"


class NodeUnpublished(_NodeStatusChange):
    event_type = "content.node.unpublished"


class NodeArchived(_NodeStatusChange):
    event_type = "content.node.archived"


class NodeRestored(_NodeStatusChange):
    """An archived node back to draft."""

    event_type = "content.node.restored"


class TranslationUpdated(_NodeEvent):
    event_type = "content.translation.updated"
    locale: Locale
    slug: SlugText


class TranslationDeleted(_NodeEvent):
    event_type = "content.translation.deleted"
    locale: Locale


class _CategoryEvent(DomainEvent):
    abstract: ClassVar[bool] = True
    aggregate_type = "category"
    aggregate_id_field = "category_id"

    category_id: int = Field(ge=1)
    slug: SlugText


class CategoryCreated(_CategoryEvent):
    event_type = "content.category.created"


class CategoryUpdated(_CategoryEvent):
    event_type = "content.category.updated"


class CategoryDeleted(_CategoryEvent):
    event_type = "content.category.deleted"


class _TagEvent(DomainEvent):
    abstract: ClassVar[bool] = True
    aggregate_type = "tag"
    aggregate_id_field = "tag_id"

    tag_id: int = Field(ge=1)
    slug: SlugText


class TagCreated(_TagEvent):
    event_type = "content.tag.created"


class TagUpdated(_TagEvent):
    event_type = "content.tag.updated"


class TagDeleted(_TagEvent):
    event_type = "content.tag.deleted"


class _MediaEvent(DomainEvent):
    abstract: ClassVar[bool] = True
    aggregate_type = "media"
    aggregate_id_field = "media_id"

    media_id: NonNilUUID


class MediaUploaded(_MediaEvent):
    event_type = "content.media.uploaded"
    content_type: ShortText
    size: int = Field(ge=1)


class MediaUpdated(_MediaEvent):
    event_type = "content.media.updated"


class MediaDeleted(_MediaEvent):
    event_type = "content.media.deleted"


class MediaRenditionsMade(_MediaEvent):
    """New renditions of an image exist: what shows it can offer them (``srcset``)."""

    event_type = "content.media.renditions_made"
    widths: list[Annotated[int, Field(ge=1)]] = Field(min_length=1, max_length=20)


# Every event that changes what a node shows, for subscribers that re-read nodes.
NODE_EVENT_TYPES = (
    NodeCreated.event_type,
    NodeUpdated.event_type,
    NodePublished.event_type,
    NodeUnpublished.event_type,
    NodeArchived.event_type,
    NodeRestored.event_type,
    NodeDeleted.event_type,
    TranslationUpdated.event_type,
    TranslationDeleted.event_type,
)
