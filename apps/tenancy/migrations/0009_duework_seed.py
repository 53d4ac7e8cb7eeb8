"""Seed the due-work index for the tenants that exist at the upgrade."""

from django.db import migrations
from django_tenants.utils import get_public_schema_name

# The beat jobs that read the due-work index when it came, each with its tenants' work
# already in their schemas: every tenant is marked due now for each, and the first run of a
# job sets the true next time (or drops the row). Suspended tenants too: their rows wait.
KINDS = [
    "content.publish_due",
    "commerce.expire_reservations",
    "commerce.prune_stale_carts",
    "commerce.retry_order_emails",
    "commerce.reconcile_payments",
    "api.prune_idempotent_responses",
    "webhooks.sweep",
    "webhooks.prune",
]

SEED_SQL = """
INSERT INTO tenancy_duework (tenant_id, kind, due_at)
SELECT t.id, k.kind, now() FROM tenancy_tenant t CROSS JOIN unnest(%s::varchar[]) AS k(kind)
ON CONFLICT (tenant_id, kind) DO UPDATE SET due_at = LEAST(tenancy_duework.due_at, EXCLUDED.due_at)
"""


def seed(apps, schema_editor):
    """Every tenant due now for every job of ``KINDS``: one statement, whatever the count."""
    connection = schema_editor.connection
    if connection.schema_name != get_public_schema_name():
        return
    with connection.cursor() as cursor:
        cursor.execute(SEED_SQL, [KINDS])



class Migration(migrations.Migration):
    dependencies = [
        ("tenancy", "0008_duework"),
    ]

    operations = [
        migrations.RunPython(seed, migrations.RunPython.noop, elidable=True),
    ]
