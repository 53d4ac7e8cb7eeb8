"""The listings' batch handlers on committed data: coalesced versions, constant queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from apps.blog import services as blog
from apps.blog.services import TranslationInput
from apps.content.models import Node
from apps.events import relay
from apps.events.envelope import StoredEvent
from apps.events.models import OutboxEvent
from apps.index.models import ContentListing
from apps.index.projections import projections
from tests.index.support import post, queries_of_one_batch

LISTING = "projection.content_listing"


def _ledger(schema: str, handler: str) -> set[str]:
    with schema_context(schema), connection.cursor() as cursor:
        cursor.execute("SELECT event_id FROM events_processed WHERE %s = ANY(handlers)", [handler])
        return {str(row[0]) for row in cursor.fetchall()}


def _retitle(node, title: str) -> None:
    blog.post_translation_upsert(
        post_id=node.pk, data=TranslationInput(locale="en", title=title, body="Same body.")
    )


def test_versions_of_one_node_in_one_batch_end_at_the_last(committed_content):
    with schema_context("acme"):
        first = post("First", "Body.")
        other = post("Other", "Body.")
        _retitle(first, "First, again")
        _retitle(first, "First, at last")
        node = Node.objects.get(pk=first.pk)
    events = list(OutboxEvent.objects.filter(schema_name="acme").order_by("position"))
    of_first = [e for e in events if e.aggregate_id == str(first.pk)]
    assert len(of_first) >= 4  # created, published, two updates

    with CaptureQueriesContext(connection) as run:
        stats = relay.relay_batch(limit=len(events))

    assert (stats.claimed, stats.handled, stats.failed) == (len(events), len(events), 0)
    # Coalesced: the whole batch's rows in one upsert (event by event there would be one
    # per event of a node, each re-reading the node).
    table = connection.ops.quote_name(ContentListing._meta.db_table)
    upserts = [q for q in run.captured_queries if q["sql"].startswith(f"INSERT INTO {table}")]
    assert len(upserts) == 1
    assert not OutboxEvent.objects.filter(status="pending").exists()
    # Each event has its ledger row, coalesced or not.
    assert _ledger("acme", LISTING) == {str(e.event_id) for e in events}
    with schema_context("acme"):
        rows = {r.node_id: r for r in ContentListing.objects.all()}
    assert set(rows) == {first.pk, other.pk}
    assert rows[first.pk].title == "First, at last"
    assert rows[first.pk].source_version == node.version


def _publish_posts(count: int) -> list:
    with schema_context("acme"):
        return [post(f"Post {n}", f"Body of post {n}.", tags=("misc",)) for n in range(count)]


def _queries_to_handle_one_update_each(nodes) -> tuple[int, int]:
    """Drain everything, then retitle each node once and count the queries of the batch that
    handles the events; returns (events, queries)."""
    relay.drain()
    with schema_context("acme"):
        for node in nodes:
            _retitle(node, f"{node.pk} retitled")
    handled = queries_of_one_batch()
    with schema_context("acme"):
        titles = set(ContentListing.objects.values_list("title", flat=True))
    assert titles == {f"{node.pk} retitled" for node in nodes}
    return handled


# The claim (lock and plan, scan, update), the holds, then the tenant group in one transaction:
# the ledger, the activity projection's one upsert, the listing's lookup of the nodes whose rows
# are behind the events, its read (the tenant's locales, the nodes, their tags, their
# translations), its one upsert and one delete, the webhooks' endpoints; then the
# acknowledgement. Each transaction adds BEGIN, SET search_path, COMMIT.
BATCH_QUERIES = 24


@pytest.mark.parametrize("count", [3, 12])
def test_a_batch_costs_the_same_queries_whatever_its_size(committed_content, count):
    events, queries = _queries_to_handle_one_update_each(_publish_posts(count))
    assert events == 2 * count  # a retitle is a translation update and a node update
    assert queries == BATCH_QUERIES


def _node_events(node) -> list[StoredEvent]:
    rows = OutboxEvent.objects.filter(aggregate_id=str(node.pk)).order_by("position").values()
    return [StoredEvent.from_row(row) for row in rows]


def test_events_older_than_a_nodes_rows_are_not_read_again(committed_content):
    """In a backlog, a node's rows are read at its last version once: its older events, in a
    later batch, find rows newer than themselves and cost one lookup, no read and no write."""
    with schema_context("acme"):
        node = post("First", "Body.")
        _retitle(node, "Second")
        _retitle(node, "Third")
        node = Node.objects.get(pk=node.pk)
    relay.drain()
    events = _node_events(node)
    older = [e for e in events if e.aggregate_version < node.version]
    assert len(older) >= 3  # created, published, the first retitle's
    listing = projections()["content_listing"]
    with schema_context("acme"):
        ContentListing.objects.filter(node_id=node.pk).update(title="Changed here")
        with CaptureQueriesContext(connection) as run:
            listing.apply_many(older)
        # Nothing read or written: the row keeps what was put in it.
        assert ContentListing.objects.get(node_id=node.pk).title == "Changed here"
        assert [q["sql"].split()[0] for q in run.captured_queries] == ["SELECT"]

        # The events of the rows' own version are read again (a change that does not bump
        # the version names the version it found).
        latest = [e for e in events if e.aggregate_version == node.version]
        listing.apply_many(latest)
        assert ContentListing.objects.get(node_id=node.pk).title == "Third"


def test_a_node_without_rows_is_read_whatever_the_version(committed_content):
    with schema_context("acme"):
        node = post("Listed", "Body.")
    relay.drain()
    events = _node_events(node)
    listing = projections()["content_listing"]
    with schema_context("acme"):
        ContentListing.objects.filter(node_id=node.pk).delete()
        listing.apply_many(events[:1])  # the creation, older than the node
        assert ContentListing.objects.get(node_id=node.pk).title == "Listed"
        # A stored row as old as the event, or one older than it, is read again too.
        ContentListing.objects.filter(node_id=node.pk).update(
            title="Stale", source_version=events[0].aggregate_version
        )
        listing.apply_many(events[:1])
        assert ContentListing.objects.get(node_id=node.pk).title == "Listed"
