"""Helpers and fixtures of the read side's and the blog's tests (content made through blog services)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
import redis
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django_tenants.utils import schema_context

from apps.blog import services as blog
from apps.blog.services import TranslationInput
from apps.content import services as content
from apps.events.envelope import StoredEvent
from apps.events.models import Delivery, OutboxEvent
from apps.index.models import ContentListing
from apps.index.projections import projections
from apps.tenancy.models import Tenant
from apps.tenancy.resolver import tenant_cache
from tests.factories import UserFactory

_numbers = itertools.count(1)

CONTENT_TABLES = "content_node, content_category, content_tag, content_media"
AUTHOR_PREFIX = "listing-author-"


def author(first: str = "Ada", last: str = "Lovelace"):
    return UserFactory(
        username=f"{AUTHOR_PREFIX}{next(_numbers)}@example.test", first_name=first, last_name=last
    )


def post(
    title: str,
    body: str = "",
    *,
    locale: str = "en",
    excerpt: str = "",
    slug: str = "",
    more: dict[str, dict] | None = None,
    category=None,
    tags: tuple[str, ...] = (),
    by=None,
    publish: bool = True,
    published_at: datetime | None = None,
):
    """A post through the blog's services (in the active tenant), published unless told otherwise."""
    translations = [
        TranslationInput(locale=locale, title=title, slug=slug, excerpt=excerpt, body=body)
    ]
    for other, values in (more or {}).items():
        translations.append(TranslationInput(locale=other, **values))
    node = blog.post_create(
        translations=translations,
        category_id=category.pk if category else None,
        tag_names=tags,
        actor=by,
    )
    if publish:
        node = blog.post_publish(post_id=node.pk, actor=by)
    if published_at is not None:
        # Editors cannot back-date; tests need distinct dates (read model sees the node state).
        type(node).objects.filter(pk=node.pk).update(published_at=published_at)
        node.refresh_from_db()
    return node


# Posts whose text ranks exactly alike for "kettle", published days apart in no particular
# order (after TIED_BASE), and the order a search must give them: the newest first.
TIED_BASE = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
TIED = {"Kettle Monday": 3, "Kettle Tuesday": 0, "Kettle Wednesday": 5,
        "Kettle Thursday": 1, "Kettle Friday": 4, "Kettle Saturday": 2}  # fmt: skip
NEWEST_FIRST = sorted(TIED, key=TIED.get, reverse=True)


def tied_posts() -> None:
    """The ``TIED`` posts and one that outranks them (in the active tenant)."""
    for title, days in TIED.items():
        post(title, "The kettle boils.", published_at=TIED_BASE + timedelta(days=days))
    # Ranked above them all, though published before them all.
    post("Kettle, kettle Sunday", "The kettle boils.", published_at=TIED_BASE - timedelta(days=1))


def category(name: str, **kwargs):
    return content.category_create(name=name, **kwargs)


def project(schema: str = "acme", name: str = "content_listing") -> None:
    """Run projection ``name`` over the outbox rows of ``schema`` (for ``db`` tests).

    Inside a test transaction the relay cannot run; this calls the projection
    the way the relay does, in position order. Re-applying is harmless: the
    handler reads the current state.
    """
    projection = projections()[name]
    rows = OutboxEvent.objects.filter(schema_name=schema).order_by("position").values()
    with schema_context(schema):
        for row in rows:
            event = StoredEvent.from_row(row)
            if event.event_type in projection.event_types:
                projection.apply(event)


def listing_rows(schema: str = "acme") -> list[dict]:
    """The projection's rows, comparable across rebuilds (without timestamps)."""
    with schema_context(schema):
        return list(
            ContentListing.objects.order_by("node_id", "locale").values(
                "node_id", "kind", "locale", "content_locale", "title", "slug", "excerpt",
                "body_text", "author_id", "author_name", "category_id", "category_slug",
                "category_name", "tag_slugs", "tag_names", "published_at", "reading_minutes",
                "search_config", "source_version",
            )
        )  # fmt: skip


def vectors(schema: str = "acme") -> dict:
    with schema_context(schema), connection.cursor() as cursor:
        cursor.execute("SELECT node_id, locale, search_vector::text FROM index_content_listing")
        return {(node_id, locale): vector for node_id, locale, vector in cursor.fetchall()}


def serve_locales(slug: str, enabled: list[str], default: str = "en") -> None:
    """Change what a tenant serves without its service (no event), and forget cached tenants."""
    Tenant.objects.filter(slug=slug).update(enabled_locales=enabled, default_locale=default)
    forget_tenants()


def forget_tenants() -> None:
    """Drop the cached tenants (this process's and Redis's): the next request reads them."""
    tenant_cache.clear_local()
    redis.Redis.from_url(settings.REDIS_URL).flushdb()


def wipe_tables(tables: str) -> None:
    """No events, deliveries or ledger rows, and ``tables`` emptied in both tenants."""
    Delivery.objects.all().delete()
    OutboxEvent.objects.all().delete()
    for schema in ("acme", "globex"):
        with schema_context(schema), connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {tables}, index_aggregate_activity, events_processed CASCADE")


def wipe_content() -> None:
    wipe_tables(f"{CONTENT_TABLES}, index_content_listing")
    for schema in ("acme", "globex"):
        with schema_context(schema):
            get_user_model().objects.filter(username__startswith=AUTHOR_PREFIX).delete()


@pytest.fixture
def acme_schema(db):
    with schema_context("acme"):
        yield


@pytest.fixture
def acme_en_de(db):
    """Acme serves English (default) and German, for this test's transaction."""
    serve_locales("acme", ["de"])
    yield
    tenant_cache.clear_local()


@pytest.fixture
def committed_content(live_db):
    """Tests on committed data (the relay runs): start and end without content, events or rows."""
    saved = list(
        Tenant.objects.filter(slug__in=["acme", "globex"]).values(
            "pk", "enabled_locales", "default_locale"
        )
    )
    wipe_content()
    yield
    connection.set_schema_to_public()
    wipe_content()
    for values in saved:
        Tenant.objects.filter(pk=values.pop("pk")).update(**values)
    tenant_cache.clear_local()


def queries_of_one_batch() -> tuple[int, int]:
    """Relay everything pending in one batch, from ``public`` as a worker does; returns the
    events handled and the queries it took."""
    from django.test.utils import CaptureQueriesContext

    from apps.events import relay

    pending = OutboxEvent.objects.filter(status="pending").count()
    connection.set_schema_to_public()
    with CaptureQueriesContext(connection) as queries:
        stats = relay.relay_batch(limit=max(pending, 1))
    assert (stats.handled, stats.failed) == (pending, 0)
    return pending, len(queries)
