"""public.tenancy_clone_schema(source, target): a copy of a tenant schema in one call.

New tenants are copies of a migrated template schema (apps.tenancy.template).
django-tenants' own clone_schema (pg-clone-schema) is general but slow for this
(thousands of lines of PL/pgSQL, catalog walks per column) and rewrites names by
text substitution; this one copies only what tenant schemas hold and refuses
anything else, so a schema it cannot copy faithfully fails loudly instead.

Names inside the source are read with search_path set to the source alone, so
PostgreSQL prints them unqualified, and the statements run with search_path set
to the target, so the same names land there; references to public stay
qualified ("public.x"). Tables are created first, rows copied, then keys,
indexes, foreign keys and triggers added, so the copy checks every constraint.
Identity and other sequences are the target's own, placed where the source's are.

The statements come from a plan, ``public.tenancy_clone_plan(source)``, kept in
``public.tenancy_cloneplan`` beside the source's migration state and made again only when
that changes. Reading the definitions out of the catalog scans catalog tables that hold
every tenant's objects (pg_constraint has no index on the index a constraint uses,
pg_attrdef none on the schema): made for every copy, it took 12 s of each copy at 525
tenants, and grew with every tenant. The plan names no target, and reads the source's rows
and sequence positions when it runs, so one plan serves every copy.
"""

from django.db import migrations

CLONE_PLAN_SQL = r"""
CREATE OR REPLACE FUNCTION public.tenancy_clone_plan(source text)
RETURNS text[]
LANGUAGE plpgsql
SET search_path = pg_catalog
SET check_function_bodies = off
AS $clone$
DECLARE
    src oid;
    src_q text := quote_ident(source);
    src_re text := regexp_replace(quote_ident(source), '([^A-Za-z0-9_])', '\\\1', 'g');
    ddl text[] := '{}';
    statement text;
    rec record;
    unsupported text;
BEGIN
    SELECT oid INTO src FROM pg_namespace WHERE nspname = source;
    IF src IS NULL THEN
        RAISE EXCEPTION 'schema "%" does not exist', source USING ERRCODE = 'invalid_schema_name';
    END IF;

    SELECT string_agg(DISTINCT what, ', ') INTO unsupported FROM (
        SELECT format('%s %s', CASE relkind WHEN 'm' THEN 'materialized view'
            WHEN 'p' THEN 'partitioned table' WHEN 'f' THEN 'foreign table'
            WHEN 'c' THEN 'type' ELSE 'relation' END, relname) AS what
        FROM pg_class WHERE relnamespace = src AND relkind NOT IN ('r', 'S', 'i', 'v')
        UNION ALL
        SELECT format('type %s', typname) FROM pg_type
        WHERE typnamespace = src AND typtype IN ('d', 'e', 'r', 'm')
        UNION ALL
        SELECT format('function %s', proname) FROM pg_proc
        WHERE pronamespace = src AND prokind NOT IN ('f', 'p')
    ) AS found;
    IF unsupported IS NOT NULL THEN
        RAISE EXCEPTION 'schema "%" holds what tenancy_clone_plan cannot copy: %',
            source, unsupported USING ERRCODE = 'feature_not_supported';
    END IF;

    -- Read: every name inside the source comes out unqualified.
    PERFORM set_config('search_path', src_q, true);

    -- Sequences that are not identity columns' own (those come with the tables).
    FOR rec IN
        SELECT c.relname, format_type(s.seqtypid, NULL) AS seqtype, s.seqstart, s.seqincrement,
               s.seqmin, s.seqmax, s.seqcache, s.seqcycle
        FROM pg_class c JOIN pg_sequence s ON s.seqrelid = c.oid
        WHERE c.relnamespace = src AND c.relkind = 'S' AND NOT EXISTS (
            SELECT 1 FROM pg_depend d
            WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'i')
        ORDER BY c.oid
    LOOP
        ddl := ddl || format(
            'CREATE SEQUENCE %I AS %s INCREMENT %s MINVALUE %s MAXVALUE %s START %s CACHE %s %s',
            rec.relname, rec.seqtype, rec.seqincrement, rec.seqmin, rec.seqmax, rec.seqstart,
            rec.seqcache, CASE WHEN rec.seqcycle THEN 'CYCLE' ELSE 'NO CYCLE' END);
    END LOOP;

    -- Functions (trigger functions, mostly) before the tables that may use them.
    FOR rec IN SELECT p.oid FROM pg_proc p WHERE p.pronamespace = src ORDER BY p.oid LOOP
        ddl := ddl || regexp_replace(
            pg_get_functiondef(rec.oid),
            '^(CREATE OR REPLACE (FUNCTION|PROCEDURE) )' || src_re || '\.', '\1');
    END LOOP;

    -- Tables: columns, identity, generated columns, checks, storage, comments; no keys yet.
    FOR rec IN
        SELECT c.oid, c.relname, c.reloptions FROM pg_class c
        WHERE c.relnamespace = src AND c.relkind = 'r' ORDER BY c.oid
    LOOP
        ddl := ddl || format(
            'CREATE TABLE %I (LIKE %s.%I INCLUDING IDENTITY INCLUDING GENERATED '
            'INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMMENTS INCLUDING COMPRESSION)',
            rec.relname, src_q, rec.relname);
        IF rec.reloptions IS NOT NULL THEN
            ddl := ddl || format('ALTER TABLE %I SET (%s)', rec.relname,
                                 array_to_string(rec.reloptions, ', '));
        END IF;
    END LOOP;

    -- An identity column copied by LIKE gets a bigint sequence whatever the column's type
    -- (its limits are copied, its type is not): give it the source's type back.
    FOR rec IN
        SELECT q.relname, format_type(s.seqtypid, NULL) AS seqtype
        FROM pg_class q JOIN pg_sequence s ON s.seqrelid = q.oid
        JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = q.oid AND d.deptype = 'i'
        WHERE q.relnamespace = src AND s.seqtypid <> 'int8'::regtype
        ORDER BY q.oid
    LOOP
        ddl := ddl || format('ALTER SEQUENCE %I AS %s', rec.relname, rec.seqtype);
    END LOOP;

    -- Defaults, read here so that a sequence they name is the target's.
    FOR rec IN
        SELECT c.relname, a.attname, pg_get_expr(d.adbin, d.adrelid) AS expr
        FROM pg_attrdef d
        JOIN pg_class c ON c.oid = d.adrelid
        JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
        WHERE c.relnamespace = src AND c.relkind = 'r' AND a.attgenerated = ''
        ORDER BY c.oid, a.attnum
    LOOP
        ddl := ddl || format('ALTER TABLE %I ALTER COLUMN %I SET DEFAULT %s',
                             rec.relname, rec.attname, rec.expr);
    END LOOP;

    -- Sequences owned by a column (serial), once their tables exist.
    FOR rec IN
        SELECT s.relname AS seqname, t.relname, a.attname
        FROM pg_depend d
        JOIN pg_class s ON s.oid = d.objid
        JOIN pg_class t ON t.oid = d.refobjid
        JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
        WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
          AND d.deptype = 'a' AND s.relkind = 'S' AND s.relnamespace = src
    LOOP
        ddl := ddl || format('ALTER SEQUENCE %I OWNED BY %I.%I', rec.seqname, rec.relname, rec.attname);
    END LOOP;

    -- Rows: the template's default rows (migrations, content types, permissions, groups,
    -- flags), read from the source when the plan runs, so the plan holds no data.
    FOR rec IN
        SELECT c.relname, string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) AS cols
        FROM pg_class c
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
             AND NOT a.attisdropped AND a.attgenerated = ''
        WHERE c.relnamespace = src AND c.relkind = 'r'
        GROUP BY c.oid, c.relname ORDER BY c.oid
    LOOP
        ddl := ddl || format('INSERT INTO %I (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM %s.%I',
                             rec.relname, rec.cols, rec.cols, src_q, rec.relname);
    END LOOP;

    -- Sequence positions, also read when the plan runs (the name resolves in the new schema).
    FOR rec IN
        SELECT c.relname FROM pg_class c WHERE c.relnamespace = src AND c.relkind = 'S' ORDER BY c.oid
    LOOP
        ddl := ddl || format('SELECT pg_catalog.setval(%L, last_value, is_called) FROM %s.%I',
                             quote_ident(rec.relname), src_q, rec.relname);
    END LOOP;

    -- Primary keys, unique and exclusion constraints (with their indexes), one ALTER per table.
    FOR rec IN
        SELECT c.relname, string_agg(format('ADD CONSTRAINT %I %s', k.conname,
                                            pg_get_constraintdef(k.oid)), ', ' ORDER BY k.oid) AS adds
        FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
        WHERE c.relnamespace = src AND c.relkind = 'r' AND k.contype IN ('p', 'u', 'x')
        GROUP BY c.oid, c.relname ORDER BY c.oid
    LOOP
        ddl := ddl || format('ALTER TABLE %I %s', rec.relname, rec.adds);
    END LOOP;

    -- Other indexes (plain, partial, expression, GIN ...).
    FOR rec IN
        SELECT i.indexrelid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE c.relnamespace = src
          AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid
                          AND k.contype IN ('p', 'u', 'x'))
        ORDER BY i.indexrelid
    LOOP
        ddl := ddl || regexp_replace(pg_get_indexdef(rec.indexrelid),
                                     ' ON (ONLY )?' || src_re || '\.', ' ON \1');
    END LOOP;

    -- Foreign keys, once every key they reference exists.
    FOR rec IN
        SELECT c.relname, string_agg(format('ADD CONSTRAINT %I %s', k.conname,
                                            pg_get_constraintdef(k.oid)), ', ' ORDER BY k.oid) AS adds
        FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
        WHERE c.relnamespace = src AND c.relkind = 'r' AND k.contype = 'f'
        GROUP BY c.oid, c.relname ORDER BY c.oid
    LOOP
        ddl := ddl || format('ALTER TABLE %I %s', rec.relname, rec.adds);
    END LOOP;

    -- Triggers last: the copied rows do not fire them.
    FOR rec IN
        SELECT t.oid FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
        WHERE c.relnamespace = src AND NOT t.tgisinternal ORDER BY t.oid
    LOOP
        ddl := ddl || regexp_replace(pg_get_triggerdef(rec.oid),
                                     ' ON ' || src_re || '\.', ' ON ');
    END LOOP;

    -- Views, in the order they were made (a view can only name older ones).
    FOR rec IN SELECT c.oid, c.relname FROM pg_class c WHERE c.relnamespace = src AND c.relkind = 'v'
               ORDER BY c.oid LOOP
        ddl := ddl || format('CREATE VIEW %I AS %s', rec.relname, pg_get_viewdef(rec.oid));
    END LOOP;

    RETURN ddl;
END;
$clone$;
"""

CLONE_SCHEMA_SQL = r"""
CREATE TABLE public.tenancy_cloneplan (
    source text PRIMARY KEY,
    state text NOT NULL,
    statements text[] NOT NULL,
    made_at timestamptz NOT NULL DEFAULT now()
);

CREATE OR REPLACE FUNCTION public.tenancy_clone_schema(source text, target text)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $clone$
DECLARE
    applied text;
    plan text[];
    statement text;
BEGIN
    IF to_regclass(format('%I.django_migrations', source)) IS NULL THEN
        RAISE EXCEPTION 'schema "%" has no migrations table', source
            USING ERRCODE = 'invalid_schema_name';
    END IF;
    EXECUTE format(
        'SELECT md5(string_agg(app || %L || name, %L ORDER BY app, name)) FROM %I.django_migrations',
        '.', ',', source) INTO applied;
    SELECT p.statements INTO plan FROM public.tenancy_cloneplan p
    WHERE p.source = tenancy_clone_schema.source AND p.state = applied;
    IF plan IS NULL THEN
        plan := public.tenancy_clone_plan(source);
        INSERT INTO public.tenancy_cloneplan AS p (source, state, statements)
        VALUES (tenancy_clone_schema.source, applied, plan)
        ON CONFLICT ON CONSTRAINT tenancy_cloneplan_pkey DO UPDATE
            SET state = excluded.state, statements = excluded.statements, made_at = now();
    END IF;
    -- The plan's names are unqualified: with only the target on the path, they land there.
    EXECUTE format('CREATE SCHEMA %I', target);
    PERFORM set_config('search_path', quote_ident(target), true);
    FOREACH statement IN ARRAY plan LOOP
        EXECUTE statement;
    END LOOP;
    RETURN array_length(plan, 1);
END;
$clone$;
"""

UNDO_SQL = """
DROP FUNCTION IF EXISTS public.tenancy_clone_schema(text, text);
DROP FUNCTION IF EXISTS public.tenancy_clone_plan(text);
DROP TABLE IF EXISTS public.tenancy_cloneplan;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("tenancy", "0006_modules"),
    ]

    operations = [
        migrations.RunSQL(CLONE_PLAN_SQL + CLONE_SCHEMA_SQL, UNDO_SQL),
    ]
