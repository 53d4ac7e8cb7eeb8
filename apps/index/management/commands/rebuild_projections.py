import sys
import time

from django.core.management.base import BaseCommand
from django_tenants.utils import schema_context

from apps.index.management.selection import chosen_projections, chosen_tenants
from apps.index.projections import projections


class Command(BaseCommand):
    help = "Rebuild read-model projections from their sources, for one tenant or all."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="tenant slug (default: every tenant)")
        parser.add_argument("--projection", help="projection name (default: all)")

    def handle(self, *args, **options):
        chosen = chosen_projections(projections(), options["projection"])
        tenants = chosen_tenants(options["tenant"])
        started = time.monotonic()
        summary = []
        for index, tenant in enumerate(tenants, start=1):
            for name, projection in chosen.items():
                label = f"[{index}/{len(tenants)}] {tenant.slug} {name}"
                t0 = time.monotonic()
                with schema_context(tenant.schema_name):
                    count = projection.rebuild(
                        progress=lambda done, total, label=label: self._progress(label, done, total)
                    )
                self.stdout.write("")
                summary.append((tenant.slug, name, count, time.monotonic() - t0))
        self.stdout.write(self.style.SUCCESS("Summary:"))
        for slug, name, count, seconds in summary:
            self.stdout.write(f"  {slug:<24} {name:<24} {count:>9} items  {seconds:6.2f} s")
        self.stdout.write(
            f"Rebuilt {len(summary)} projection(s) for {len(tenants)} tenant(s) "
            f"in {time.monotonic() - started:.2f} s"
        )

    def _progress(self, label: str, done: int, total: int) -> None:
        width = 30
        filled = width if total == 0 else int(width * done / total)
        bar = "#" * filled + "-" * (width - filled)
        self.stdout.write(f"\r{label} [{bar}] {done}/{total}", ending="")
        if hasattr(sys.stdout, "flush"):
            self.stdout.flush()
