"""The projections of the read side. Importing this module subscribes them to their events."""

from __future__ import annotations

import operator
import re
from collections.abc import Iterable
from functools import reduce

from django.db import connection
from django.db.models import Q

from apps.commerce import selectors as commerce_selectors
from apps.commerce.events import INVENTORY_EVENT_TYPES, PRODUCT_EVENT_TYPES
from apps.content import selectors as content_selectors
from apps.content.events import NODE_EVENT_TYPES
from apps.events.envelope import StoredEvent
from apps.events.models import OutboxEvent
from apps.events.registry import ALL
from apps.forum import selectors as forum_selectors
from apps.forum.events import CATEGORY_EVENT_TYPES, REPLY_EVENT_TYPES, TOPIC_EVENT_TYPES
from apps.tenancy.selectors import tenant_by_schema

from . import content_listing, forum_listing, product_listing
from .models import (
    AggregateActivity,
    ContentListing,
    ForumCategoryStats,
    ForumTopicListing,
    ProductListing,
)
from .projections import Projection, Upsert, register, versioned_upsert_many


@register
class AggregateActivityProjection(Projection):
    """The latest event of each aggregate. Its source is the tenant's retained event log."""

    name = "aggregate_activity"
    event_types = (ALL,)
    model = AggregateActivity

    def apply(self, event: StoredEvent) -> None:
        versioned_upsert_many(AggregateActivity, [self._row(event)])

    @staticmethod
    def _row(event: StoredEvent) -> Upsert:
        return Upsert(
            key={"aggregate_type": event.aggregate_type, "aggregate_id": event.aggregate_id},
            version=event.aggregate_version,
            values={
                "last_event_type": event.event_type,
                "last_event_id": event.event_id,
                "last_occurred_at": event.occurred_at,
                "actor_label": ((event.actor or {}).get("label") or "")[:255],
            },
        )

    def apply_many(self, events: list[StoredEvent]) -> None:
        """One upsert for the batch: per aggregate only the event that one-by-one ``apply``
        would leave in the row (the first of the highest version; the last when none has a
        version). An aggregate whose events mix both kinds goes one by one."""
        by_aggregate: dict[tuple[str, str], list[StoredEvent]] = {}
        for event in events:
            by_aggregate.setdefault((event.aggregate_type, event.aggregate_id), []).append(event)
        winners = []
        for group in by_aggregate.values():
            versions = [event.aggregate_version for event in group]
            if all(version is None for version in versions):
                winners.append(group[-1])
            elif None in versions:
                for event in group:
                    self.apply(event)
            else:
                winners.append(max(group, key=lambda event: event.aggregate_version))
        versioned_upsert_many(AggregateActivity, [self._row(event) for event in winners])

    def _events(self):
        tenant = tenant_by_schema(connection.schema_name)
        return OutboxEvent.objects.filter(tenant_id=tenant.pk if tenant else -1).order_by(
            "position"
        )

    def source(self) -> Iterable[StoredEvent]:
        for row in self._events().values().iterator(chunk_size=2000):
            yield StoredEvent.from_row(row)

    def source_count(self) -> int:
        return self._events().count()

    def rebuild_item(self, item: StoredEvent) -> None:
        self.apply(item)


NODE_EVENTS = NODE_EVENT_TYPES
CATEGORY_EVENTS = ("content.category.updated", "content.category.deleted")
TAG_EVENTS = ("content.tag.deleted",)
# Cards show a node's image, its alt text and its renditions: the nodes that show it, found
# by its id.
MEDIA_EVENTS = ("content.media.updated", "content.media.deleted", "content.media.renditions_made")
# A renamed (or newly translated) tag: the nodes that carry it show its names.
TAG_RENAMES = ("content.tag.updated",)
# What rows show of a category or a tag: its slug and its name in each locale. An update
# that changed none of these (a category's position, parent or description) leaves them.
LISTED_CHANGE = re.compile(r"(name|slug|translations\.[^.]+\.name)")
# The locales a tenant serves decide which rows exist.
TENANT_EVENTS = ("tenancy.tenant.updated",)
# Rows show their author's public name: an author's rows, found by the author's id.
PROFILE_EVENTS = ("people.profile.updated",)


def _changes_rows(event: StoredEvent) -> bool:
    changed = getattr(event.event, "changed", None)
    return changed is None or any(LISTED_CHANGE.fullmatch(name) for name in changed)


def _rows_showing(event: StoredEvent) -> Q | None:
    """The listing rows that show what a category, tag, media or profile event changed (None:
    no row shows it, or the event is of another kind)."""
    kind = event.event_type
    if kind in CATEGORY_EVENTS:
        return Q(category_id=event.event.category_id) if _changes_rows(event) else None
    if kind in TAG_EVENTS:
        return Q(tag_slugs__contains=[event.event.slug])
    if kind in MEDIA_EVENTS:
        return Q(image_id=event.aggregate_id)
    if kind in PROFILE_EVENTS:
        return Q(author_id=event.event.user_id)
    return None


@register
class ContentListingProjection(Projection):
    """Published content per node and locale, with its search vector (``ContentListing``).

    Each event only says *which* nodes to look at again: the handler reads
    their current state through content's selectors, so replays, duplicates
    and out-of-order category events all end in the same rows.
    """

    name = "content_listing"
    event_types = (
        NODE_EVENTS
        + CATEGORY_EVENTS
        + TAG_EVENTS
        + TAG_RENAMES
        + MEDIA_EVENTS
        + TENANT_EVENTS
        + PROFILE_EVENTS
    )
    model = ContentListing

    def apply(self, event: StoredEvent) -> None:
        self.apply_many([event])

    def apply_many(self, events: list[StoredEvent]) -> None:
        """The nodes the batch's events name, read again once each, whatever number of events
        name them, in one read and one write: a node event names its node (unless its rows
        already show a later version: ``nodes_behind``); a category, tag, media or profile event
        the nodes whose rows show it (one query for all of them); a tag rename the tag's nodes;
        a tenant event every node. Every event only names what to re-read, so the order of the
        re-reads does not matter."""
        if any(event.event_type in TENANT_EVENTS for event in events):
            content_listing.sync_all()  # every row: what any other event names is in it
            return
        node_ids: list = content_listing.nodes_behind(
            (e.aggregate_id, e.aggregate_version) for e in events if e.event_type in NODE_EVENTS
        )
        shown = [where for event in events if (where := _rows_showing(event)) is not None]
        if shown:
            node_ids += (
                ContentListing.objects.filter(reduce(operator.or_, shown))
                .order_by()
                .values_list("node_id", flat=True)
                .distinct()
            )
        # A renamed tag's nodes by the tag's id, not by the event's slug: a later rename may
        # have changed the slug again.
        renamed = {event.event.tag_id for event in events if event.event_type in TAG_RENAMES}
        if renamed:
            node_ids += content_selectors.node_ids_tagged(renamed)
        content_listing.sync_nodes(node_ids)

    def source(self) -> Iterable[tuple]:
        locales = content_listing.tenant_locales()
        for node in content_listing.published_nodes():
            yield node, locales

    def source_count(self) -> int:
        return content_listing.published_count()

    def rebuild_item(self, item: tuple) -> None:
        node, locales = item
        content_listing.write(node.pk, node.version, content_listing.expected_rows(node, locales))


# Stock moves change what a product's rows say about availability; a low-stock alert changes
# nothing the adjustment before it did not.
STOCK_EVENTS = tuple(kind for kind in INVENTORY_EVENT_TYPES if kind != "commerce.inventory.low")
COLLECTION_EVENTS = (
    "commerce.collection.created",
    "commerce.collection.updated",
    "commerce.collection.deleted",
)
# A category's products show its handle; a deleted category's products each get their own
# ``commerce.product.updated`` as well.
COMMERCE_CATEGORY_EVENTS = ("commerce.category.updated", "commerce.category.deleted")


def _listed_with(field: str, value: int) -> list:
    return list(
        ProductListing.objects.filter(**{f"{field}__contains": [value]})
        .values_list("product_id", flat=True)
        .distinct()
    )


@register
class ProductListingProjection(Projection):
    """Active products per locale, with prices, stock, options and search vector
    (``ProductListing``).

    Like the content listing, an event only names the products to read again through
    commerce's selectors: the rows the product is listed in now, and those it is in by the
    write model, so joining and leaving are both seen.
    """

    module = "shop"

    name = "product_listing"
    event_types = (
        PRODUCT_EVENT_TYPES
        + STOCK_EVENTS
        + COLLECTION_EVENTS
        + COMMERCE_CATEGORY_EVENTS
        + TENANT_EVENTS
    )
    model = ProductListing

    def apply(self, event: StoredEvent) -> None:
        kind = event.event_type
        payload = event.event
        if kind in PRODUCT_EVENT_TYPES or kind in STOCK_EVENTS:
            self.apply_many([event])
        elif kind in COLLECTION_EVENTS:
            # The shop's filters name collections and categories: a new title shows at once.
            product_listing.LISTING_CACHE.invalidate()
            changed = set(getattr(payload, "changed", None) or ["products"])
            if not changed & {"handle", "products"}:
                return
            collection_id = payload.collection_id
            product_listing.sync_products(
                [
                    *getattr(payload, "product_ids", []),
                    *_listed_with("collection_ids", collection_id),
                    *commerce_selectors.collection_product_ids(collection_id),
                ]
            )
        elif kind in COMMERCE_CATEGORY_EVENTS:
            product_listing.LISTING_CACHE.invalidate()
            if kind == "commerce.category.updated" and "handle" not in payload.changed:
                return
            category_id = payload.category_id
            product_listing.sync_products(
                [
                    *_listed_with("category_ids", category_id),
                    *commerce_selectors.category_product_ids(category_id),
                ]
            )
        elif kind in TENANT_EVENTS:
            product_listing.sync_all()

    def apply_many(self, events: list[StoredEvent]) -> None:
        """The batch's product and stock events coalesced into one re-read of their products
        (as for the content listing, not of those whose rows already show a later version than
        their product events: ``products_behind``); the others one by one."""
        named = []
        for event in events:
            if event.event_type in PRODUCT_EVENT_TYPES:
                named.append((event.aggregate_id, event.aggregate_version))
            elif event.event_type in STOCK_EVENTS:
                named.append((event.event.product_id, None))
            else:
                self.apply(event)
        product_listing.sync_products(product_listing.products_behind(named))

    def reset(self) -> None:
        super().reset()
        product_listing.LISTING_CACHE.invalidate()

    def source(self) -> Iterable[tuple]:
        locales = content_listing.tenant_locales()
        for product, available in product_listing.active_products():
            yield product, available, locales

    def source_count(self) -> int:
        return product_listing.active_count()

    def rebuild_item(self, item: tuple) -> None:
        product, available, locales = item
        product_listing.write(
            product.pk, product.version, product_listing.expected_rows(product, locales, available)
        )


FORUM_POST_EVENTS = TOPIC_EVENT_TYPES + REPLY_EVENT_TYPES
FORUM_TAG_EVENTS = ("content.tag.updated", "content.tag.deleted")


@register
class ForumTopicProjection(Projection):
    """Public forum topics with their counters and search vector (``ForumTopicListing``).

    A topic or reply event names the topic to read again through the forum's selectors; a
    renamed member or tag names the topics that show them.
    """

    module = "forum"

    name = "forum_topics"
    event_types = FORUM_POST_EVENTS + PROFILE_EVENTS + FORUM_TAG_EVENTS
    model = ForumTopicListing

    def apply(self, event: StoredEvent) -> None:
        kind = event.event_type
        if kind in FORUM_POST_EVENTS:
            forum_listing.sync_topics([event.event.topic_id])
        elif kind in PROFILE_EVENTS:
            user_id = event.event.user_id
            forum_listing.sync_topics(
                ForumTopicListing.objects.filter(
                    Q(author_id=user_id) | Q(last_poster_id=user_id)
                ).values_list("topic_id", flat=True)
            )
        elif kind == "content.tag.updated":
            forum_listing.sync_topics(forum_selectors.topic_ids_with_tag(event.event.tag_id))
        elif kind == "content.tag.deleted":
            forum_listing.sync_topics(
                ForumTopicListing.objects.filter(
                    tag_slugs__contains=[event.event.slug]
                ).values_list("topic_id", flat=True)
            )

    def source(self) -> Iterable[int]:
        return forum_listing.public_topic_ids()

    def source_count(self) -> int:
        return forum_selectors.public_topic_ids().count()

    def rebuild_item(self, item: int) -> None:
        forum_listing.sync_topics([item])


@register
class ForumCategoryProjection(Projection):
    """Each forum category's counters (``ForumCategoryStats``), kept by the forum's events."""

    module = "forum"

    name = "forum_categories"
    event_types = CATEGORY_EVENT_TYPES + FORUM_POST_EVENTS + PROFILE_EVENTS
    model = ForumCategoryStats

    def apply(self, event: StoredEvent) -> None:
        kind = event.event_type
        if kind in PROFILE_EVENTS:
            forum_listing.sync_categories(
                ForumCategoryStats.objects.filter(last_poster_id=event.event.user_id).values_list(
                    "category_id", flat=True
                )
            )
            return
        payload = event.event
        forum_listing.sync_categories(
            [payload.category_id, *filter(None, [getattr(payload, "from_category_id", None)])]
        )

    def source(self) -> Iterable[int]:
        return forum_listing.category_ids()

    def source_count(self) -> int:
        return len(forum_listing.category_ids())

    def rebuild_item(self, item: int) -> None:
        forum_listing.sync_categories([item])
