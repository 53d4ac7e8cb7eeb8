"""Events of the content module. Every change to content publishes one of these."""

from typing import Annotated, Any, ClassVar

from pydantic import Field

from apps.events.schema import (
    AggregateVersion,
    DomainEvent,
    NonNilUUID,
    ShortText,
    StatusChange,
    Text,
    upcaster,
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


# What a taxonomy event says changed: "name", "slug", "translations.de.name", ... (v2).
Changes = list[ShortText]
# The locales that have a name of their own besides the default locale's (v2).
TranslatedLocales = list[Locale]
# A v1 update did not say what changed: treat it as a change of everything readers see.
_V1_CATEGORY_CHANGES = ["name", "slug", "parent", "position", "description"]
_V1_TAG_CHANGES = ["name", "slug"]


class CategoryCreated(_CategoryEvent):
    event_type = "content.category.created"
    schema_version = 2

    locales: TranslatedLocales = Field(default_factory=list, max_length=64)


class CategoryUpdated(_CategoryEvent):
    event_type = "content.category.updated"
    schema_version = 2

    changed: Changes = Field(min_length=1, max_length=200)
    locales: TranslatedLocales = Field(default_factory=list, max_length=64)


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
    schema_version = 2

    locales: TranslatedLocales = Field(default_factory=list, max_length=64)


class TagUpdated(_TagEvent):
    event_type = "content.tag.updated"
    schema_version = 2

    changed: Changes = Field(min_length=1, max_length=200)
    locales: TranslatedLocales = Field(default_factory=list, max_length=64)


class TagDeleted(_TagEvent):
    event_type = "content.tag.deleted"


@upcaster(CategoryCreated.event_type, from_version=1)
@upcaster(TagCreated.event_type, from_version=1)
def _created_v1_to_v2(payload: dict[str, Any]) -> dict[str, Any]:
    # v1 came before per-locale names: nothing was translated.
    payload.setdefault("locales", [])
    return payload


@upcaster(CategoryUpdated.event_type, from_version=1)
def _category_updated_v1_to_v2(payload: dict[str, Any]) -> dict[str, Any]:
    payload.setdefault("changed", list(_V1_CATEGORY_CHANGES))
    payload.setdefault("locales", [])
    return payload


@upcaster(TagUpdated.event_type, from_version=1)
def _tag_updated_v1_to_v2(payload: dict[str, Any]) -> dict[str, Any]:
    payload.setdefault("changed", list(_V1_TAG_CHANGES))
    payload.setdefault("locales", [])
    return payload


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
