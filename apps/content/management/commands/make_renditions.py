"""Make the renditions existing media lack (uploads before renditions existed, failed runs)."""

from __future__ import annotations

import sys
import time
from collections import Counter

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import schema_context

from apps.content import selectors
from apps.content.services import media_renditions_make
from apps.tenancy.selectors import tenant_list


class Command(BaseCommand):
    help = (
        "Make the missing renditions (resized copies for srcset) of media, for one tenant or all."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="tenant slug (default: every tenant)")

    def handle(self, *args, **options):
        tenants = list(tenant_list())
        if options["tenant"]:
            tenants = [tenant for tenant in tenants if tenant.slug == options["tenant"]]
            if not tenants:
                raise CommandError(f"no tenant '{options['tenant']}'")
        started = time.monotonic()
        totals: Counter = Counter()
        for number, tenant in enumerate(tenants, start=1):
            label = f"[{number}/{len(tenants)}] {tenant.slug}"
            with schema_context(tenant.schema_name):
                counts = self._tenant(label)
            totals.update(counts)
            self.stdout.write(
                f"  {tenant.slug:<24} {counts['media']:>7} media  {counts['renditions']:>7} made  "
                f"{counts['complete']:>7} complete  {counts['skipped']:>7} skipped  "
                f"{counts['failed']:>5} failed"
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Made {totals['renditions']} rendition(s) of {totals['made']} media "
                f"({totals['complete']} complete already, {totals['skipped']} without renditions) "
                f"for {len(tenants)} tenant(s) in {time.monotonic() - started:.2f} s"
            )
        )
        if totals["failed"]:
            raise CommandError(
                f"{totals['failed']} media failed (listed above); run again to retry"
            )

    def _tenant(self, label: str) -> Counter:
        """Every media of the active tenant, one transaction each (a failure keeps the others)."""
        ids = list(selectors.media_list().order_by("created_at", "pk").values_list("pk", flat=True))
        counts: Counter = Counter(media=len(ids))
        reasons: Counter = Counter()
        self._progress(label, 0, len(ids))
        for done, media_id in enumerate(ids, start=1):
            try:
                outcome = media_renditions_make(media_id=media_id)
            except Exception as error:
                counts["failed"] += 1
                reasons[f"failed ({type(error).__name__}: {error})"] += 1
                continue
            finally:
                self._progress(label, done, len(ids))
            if outcome.made:
                counts["made"] += 1
                counts["renditions"] += len(outcome.made)
            elif outcome.skipped:
                counts["skipped"] += 1
                reasons[outcome.skipped] += 1
            else:
                counts["complete"] += 1
        self.stdout.write("")
        for reason, count in sorted(reasons.items()):
            self.stdout.write(f"    {count} media: {reason}")
        return counts

    def _progress(self, label: str, done: int, total: int) -> None:
        width = 30
        filled = width if total == 0 else int(width * done / total)
        bar = "#" * filled + "-" * (width - filled)
        self.stdout.write(f"\r{label} [{bar}] {done}/{total}", ending="")
        if hasattr(sys.stdout, "flush"):
            self.stdout.flush()
