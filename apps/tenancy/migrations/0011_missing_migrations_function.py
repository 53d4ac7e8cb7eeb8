"""public.tenancy_missing_migrations(schema, apps, names): how many of the given migrations a
schema's django_migrations lacks.

``migrate_tenants`` asks it of a thousand schemas in one statement: the schema's table can only
be named in dynamic SQL, and a function is the one way to run that per row which every
PostgreSQL build has (``query_to_xml`` needs the server built with libxml, which some are not).
"""

from django.db import migrations

MISSING_MIGRATIONS_SQL = r"""
CREATE OR REPLACE FUNCTION public.tenancy_missing_migrations(
    target_schema text, apps text[], names text[])
RETURNS integer
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog
AS $missing$
DECLARE
    missing integer;
BEGIN
    EXECUTE format(
        'SELECT count(*)::integer FROM unnest($1, $2) AS e(app, name) '
        'WHERE NOT EXISTS (SELECT FROM %I.django_migrations AS m '
        'WHERE m.app = e.app AND m.name = e.name)', target_schema)
    INTO missing USING apps, names;
    RETURN missing;
END;
$missing$;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("tenancy", "0010_spare_schemas"),
    ]

    operations = [
        migrations.RunSQL(
            MISSING_MIGRATIONS_SQL,
            "DROP FUNCTION IF EXISTS public.tenancy_missing_migrations(text, text[], text[])",
        ),
    ]
