"""``export_catalog --tenant <slug> [file]``: the catalog as a CSV file ``import_catalog`` takes."""

import sys

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import schema_context

from apps.commerce import csv_format, selectors
from apps.tenancy.selectors import tenant_list


class Command(BaseCommand):
    help = "Export the catalog as CSV (docs/catalog-csv.md); to standard output without a file."

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", help="where to write (default: standard output)")
        parser.add_argument("--tenant", required=True, help="tenant slug")

    def handle(self, *args, **options):
        tenant = next((t for t in tenant_list() if t.slug == options["tenant"]), None)
        if tenant is None:
            raise CommandError(f"no tenant '{options['tenant']}'")
        with schema_context(tenant.schema_name):
            currencies, locations, records = selectors.catalog_export()
            header = csv_format.header_for(currencies, locations)
            if options["file"]:
                with open(options["file"], "w", encoding="utf-8", newline="") as out:
                    count = csv_format.write(out, header, records)
                self.stderr.write(f"Exported {count} variant row(s) to {options['file']}")
            else:
                count = csv_format.write(self.stdout, header, records)
                sys.stdout.flush()
