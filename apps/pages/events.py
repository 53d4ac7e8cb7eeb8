"""Events of the pages module: layouts (blocks, template, home flag) and menus."""

from typing import ClassVar

from pydantic import Field

from apps.events.schema import AggregateVersion, DomainEvent, NonNilUUID, Text

Locale = Text(16)
MenuSlug = Text(32)


class _LayoutEvent(DomainEvent):
    abstract: ClassVar[bool] = True
    aggregate_type = "page_layout"
    aggregate_id_field = "node_id"
    aggregate_version_field = "version"

    node_id: NonNilUUID
    version: AggregateVersion


class LayoutUpdated(_LayoutEvent):
    """A page's blocks, template or home flag changed (or its layout was created)."""

    event_type = "pages.layout.updated"
    template: Text(32)
    is_home: bool
    locales: list[Locale] = Field(max_length=32)
    block_count: int = Field(ge=0)


class LayoutDeleted(_LayoutEvent):
    event_type = "pages.layout.deleted"


class _MenuEvent(DomainEvent):
    abstract: ClassVar[bool] = True
    aggregate_type = "menu"
    aggregate_id_field = "menu_id"
    aggregate_version_field = "version"

    menu_id: int = Field(ge=1)
    slug: MenuSlug
    version: AggregateVersion


class MenuCreated(_MenuEvent):
    event_type = "pages.menu.created"


class MenuUpdated(_MenuEvent):
    """A menu's name or items changed."""

    event_type = "pages.menu.updated"
    item_count: int = Field(ge=0)


class MenuDeleted(_MenuEvent):
    event_type = "pages.menu.deleted"
