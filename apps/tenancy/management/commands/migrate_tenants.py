import sys

from django.core.management.base import BaseCommand, CommandError

from apps.tenancy import schema_migrations


class Command(BaseCommand):
    help = (
        "Migrate public, then only the tenant schemas that are behind, several at a time. "
        "A failing schema does not stop the others; run again to retry what failed."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--workers",
            type=int,
            help="processes migrating schemas, one connection each "
            "(default: settings.TENANT_MIGRATE_WORKERS)",
        )
        parser.add_argument(
            "--schema",
            action="append",
            dest="schemas",
            metavar="SCHEMA",
            help="only this tenant schema (repeatable)",
        )
        parser.add_argument("--tenants-only", action="store_true", help="leave public alone")
        parser.add_argument(
            "--dry-run", action="store_true", help="list the schemas behind and exit"
        )
        # Deploy scripts written for migrate_schemas pass it; nothing here asks anything.
        parser.add_argument(
            "--noinput", "--no-input", action="store_true", help="accepted, changes nothing"
        )

    def handle(self, *args, **options):
        if options["workers"] is not None and options["workers"] < 1:
            raise CommandError("--workers must be at least 1")
        try:
            if options["dry_run"]:
                self._dry_run(options["schemas"])
                return
            summary = schema_migrations.migrate_all(
                workers=options["workers"],
                schemas=options["schemas"],
                tenants_only=options["tenants_only"],
                progress=True,
                stream=options.get("stdout") or sys.stdout,
            )
        except (schema_migrations.UnknownSchemas, schema_migrations.MigrationRunning) as exc:
            raise CommandError(str(exc)) from None
        self._report(summary)
        if not summary.ok:
            raise CommandError(
                f"{len(summary.failed)} schema(s) failed; run the command again to retry them"
            )

    def _dry_run(self, schemas):
        lag = schema_migrations.tenant_schema_lag(schemas)
        behind = {schema: missing for schema, missing in lag.items() if missing != 0}
        for schema, missing in behind.items():
            state = "schema missing" if missing is None else f"{missing} migration(s) to apply"
            self.stdout.write(f"  {schema}: {state}")
        self.stdout.write(f"{len(behind)} of {len(lag)} tenant schemas behind")

    def _report(self, summary):
        if summary.public_seconds:
            self.stdout.write(f"public migrated in {summary.public_seconds:.2f} s")
        self.stdout.write(
            f"Migrated {len(summary.migrated)} schema(s) ({summary.applied} migrations), "
            f"skipped {len(summary.current)} as current, failed {len(summary.failed)}, "
            f"in {summary.seconds:.2f} s"
        )
        if summary.template_refreshed:
            self.stdout.write("Template schema refreshed")
        for schema, error in sorted(summary.failed.items()):
            self.stderr.write(f"  failed {schema}: {error}")
