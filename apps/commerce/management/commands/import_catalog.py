"""``import_catalog <file> --tenant <slug> [--dry-run]``: the admin's CSV import, from a shell."""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import schema_context

from apps.commerce import csv_format, services
from apps.tenancy.selectors import tenant_list


class Command(BaseCommand):
    help = "Import products and variants from a catalog CSV file (docs/catalog-csv.md)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="the CSV file")
        parser.add_argument("--tenant", required=True, help="tenant slug")
        parser.add_argument("--dry-run", action="store_true", help="check and count, write nothing")

    def handle(self, *args, **options):
        tenant = next((t for t in tenant_list() if t.slug == options["tenant"]), None)
        if tenant is None:
            raise CommandError(f"no tenant '{options['tenant']}'")
        path = Path(options["file"])
        try:
            data = path.read_bytes()
        except OSError as error:
            raise CommandError(f"cannot read {path}: {error.strerror}") from None
        if len(data) > csv_format.MAX_FILE_BYTES:
            raise CommandError(f"{path} is larger than {csv_format.MAX_FILE_BYTES} bytes")
        try:
            with schema_context(tenant.schema_name):
                parsed = csv_format.parse(csv_format.decode(data), collect=True)
                summary = services.catalog_import(
                    rows=parsed.rows, file_errors=parsed.errors, on_progress=self._progress,
                    dry_run=options["dry_run"],
                )  # fmt: skip
        except csv_format.ImportRejected as rejected:
            self.stdout.write("")
            self.stderr.write(f"{len(rejected.row_errors)} error(s); nothing was imported:")
            for error in rejected.row_errors:
                self.stderr.write(
                    f"  row {error.row:>6}  {error.column or '-':<24} {error.message}"
                )
            raise CommandError("import refused") from None
        except services.CommerceInvalid as invalid:
            raise CommandError(str(invalid)) from None
        self.stdout.write("")
        verb = "Would import" if options["dry_run"] else "Imported"
        self.stdout.write(
            self.style.SUCCESS(f"{verb} {len(parsed.rows)} row(s) into {tenant.slug}:")
        )
        self.stdout.write(
            f"  products: {summary.products_created} created, {summary.products_updated} updated, "
            f"{summary.products_unchanged} unchanged\n"
            f"  variants: {summary.variants_created} created, {summary.variants_updated} updated, "
            f"{summary.variants_unchanged} unchanged\n"
            f"  events:   {summary.events}"
        )

    def _progress(self, done: int, total: int) -> None:
        width = 30
        filled = width if total == 0 else int(width * done / total)
        self.stdout.write(f"\r[{'#' * filled}{'-' * (width - filled)}] {done}/{total}", ending="")
        if hasattr(sys.stdout, "flush"):
            self.stdout.flush()
