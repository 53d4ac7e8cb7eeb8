"""Events pages reacts to: content changes that show in menus, on the home page or in sitemaps."""

from __future__ import annotations

from apps.content.events import NODE_EVENT_TYPES
from apps.content.kinds import PAGE_KIND, POST_KIND
from apps.events.envelope import StoredEvent
from apps.events.registry import handles

from . import site

SHOWN_KINDS = {PAGE_KIND, POST_KIND}


def _shows(event: StoredEvent) -> bool:
    kind = event.payload.get("kind")
    return kind is None or kind in SHOWN_KINDS


def contents_changed(events: list[StoredEvent]) -> None:
    """A relay batch's events: one invalidation for all of them."""
    if any(_shows(event) for event in events):
        site.invalidate()


@handles(
    *NODE_EVENT_TYPES,
    "content.category.updated",
    "content.category.deleted",
    "content.media.deleted",
    "content.media.renditions_made",
    name="pages.site_cache",
    batch=contents_changed,
)
def content_changed(event: StoredEvent) -> None:
    """Pages and posts appear in what the site cache holds: menus, the home page's newest
    posts (read from the content listing) and the sitemap. Rebuild those."""
    contents_changed([event])
