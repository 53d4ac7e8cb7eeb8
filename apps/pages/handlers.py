"""Events pages reacts to: content changes that show in menus, on the home page or in sitemaps."""

from __future__ import annotations

from apps.content.events import NODE_EVENT_TYPES
from apps.content.kinds import PAGE_KIND, POST_KIND
from apps.events.envelope import StoredEvent
from apps.events.registry import handles

from . import site

SHOWN_KINDS = {PAGE_KIND, POST_KIND}


@handles(
    *NODE_EVENT_TYPES,
    "content.category.updated",
    "content.category.deleted",
    "content.media.deleted",
    "content.media.renditions_made",
    name="pages.site_cache",
)
def content_changed(event: StoredEvent) -> None:
    """Pages and posts appear in what the site cache holds: menus, the home page's newest
    posts (read from the content listing) and the sitemap. Rebuild those."""
    kind = event.payload.get("kind")
    if kind is None or kind in SHOWN_KINDS:
        site.invalidate()
