import time

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import schema_context

from apps.index.consistency import CHECKS
from apps.index.management.selection import chosen_projections, chosen_tenants


class Command(BaseCommand):
    help = (
        "Compare projections with the write model, for one tenant or all; "
        "exits with an error when they differ."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="tenant slug (default: every tenant)")
        parser.add_argument("--projection", help=f"one of {sorted(CHECKS)} (default: all)")
        parser.add_argument(
            "--details", action="store_true", help="list the differences found (up to 200)"
        )

    def handle(self, *args, **options):
        chosen = chosen_projections(CHECKS, options["projection"])
        tenants = chosen_tenants(options["tenant"])
        started = time.monotonic()
        total = 0
        for index, tenant in enumerate(tenants, start=1):
            for name, check in chosen.items():
                with schema_context(tenant.schema_name):
                    report = check()
                total += report.differences
                style = self.style.SUCCESS if report.ok else self.style.ERROR
                self.stdout.write(
                    style(
                        f"[{index}/{len(tenants)}] {tenant.slug:<24} {name:<20} "
                        f"{report.nodes:>7} items {report.rows:>8} rows  "
                        f"missing {report.missing}, unexpected {report.unexpected}, "
                        f"different {report.different}, vectors {report.vectors}"
                    )
                )
                if options["details"]:
                    for difference in report.samples:
                        self.stdout.write(f"    {difference}")
        self.stdout.write(
            f"Checked {len(chosen)} projection(s) for {len(tenants)} tenant(s) "
            f"in {time.monotonic() - started:.2f} s: {total} difference(s)"
        )
        if total:
            raise CommandError(
                f"{total} difference(s); `rebuild_projections` brings them back in line"
            )
