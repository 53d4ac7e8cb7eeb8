"""The ledger's move to one row per event (events_ledger.0003) keeps every entry, both ways."""

import importlib
import uuid

import pytest
from django.db import connection
from django.db.migrations.loader import MigrationLoader

migration = importlib.import_module("apps.events.ledger.migrations.0003_one_row_per_event")


def _by_pair_table() -> list[str]:
    """The DDL of the ledger as migrations 0001 and 0002 leave it, from their model state."""
    state = MigrationLoader(None).project_state(("events_ledger", "0002_verbose_names"))
    with connection.schema_editor(collect_sql=True, atomic=False) as editor:
        editor.create_model(state.apps.get_model("events_ledger", "ProcessedEvent"))
    return editor.collected_sql


def _indexes(cursor) -> set[str]:
    cursor.execute("SELECT indexname FROM pg_indexes WHERE schemaname = 'ledger_migration'")
    return {row[0] for row in cursor.fetchall()}


@pytest.mark.django_db
def test_the_ledger_keeps_every_entry_going_to_rows_per_event_and_back():
    first, second = uuid.uuid4(), uuid.uuid4()
    entries = {("projection.a", first), ("webhooks.b", first), ("projection.a", second)}
    with connection.cursor() as cursor:  # in the test's transaction: rolled back after
        cursor.execute("CREATE SCHEMA ledger_migration")
        cursor.execute("SET LOCAL search_path = ledger_migration")
        for statement in _by_pair_table():
            cursor.execute(statement)
        for handler, event_id in sorted(entries):
            cursor.execute(
                "INSERT INTO events_processed (handler, event_id, processed_at) "
                "VALUES (%s, %s, now())",
                [handler, event_id],
            )

        cursor.execute(migration.BY_EVENT)
        cursor.execute("SELECT event_id, handlers FROM events_processed")
        assert {event_id: sorted(handlers) for event_id, handlers in cursor.fetchall()} == {
            first: ["projection.a", "webhooks.b"],
            second: ["projection.a"],
        }
        assert _indexes(cursor) == {"events_processed_pkey", "processed_at_brin"}

        cursor.execute(migration.BY_PAIR)
        cursor.execute("SELECT handler, event_id FROM events_processed")
        assert set(cursor.fetchall()) == entries
        assert _indexes(cursor) == {
            "events_processed_pkey", "processed_handler_event_uniq", "processed_at_idx",
        }  # fmt: skip
