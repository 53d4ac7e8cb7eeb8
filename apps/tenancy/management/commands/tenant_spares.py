import time

from django.core.management.base import BaseCommand
from django.utils import timezone

from apps.tenancy import spares


class Command(BaseCommand):
    help = (
        "Show the pool of spare schemas new tenants take (name, current or stale, age); "
        "--refill drops the stale ones and copies the template until the pool is full."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--refill", action="store_true", help="drop stale spares, copy new ones until full"
        )
        parser.add_argument(
            "--target", type=int, help="spares to keep (default: TENANT_SPARE_SCHEMAS)"
        )

    def handle(self, *args, **options):
        target = spares.pool_target() if options["target"] is None else options["target"]
        if options["refill"]:
            self._refill(target)
        pool = spares.spares_list()
        now = timezone.now()
        for spare in pool:
            age = (now - spare.created_at).total_seconds()
            state = "current" if spare.current else "stale"
            self.stdout.write(f"  {spare.name:<24} {state:<8} {_age(age)}")
        ready = sum(spare.current for spare in pool)
        self.stdout.write(
            f"{ready} current spare(s) of {target} wanted, {len(pool) - ready} stale"
            + ("" if target else " (pool off: TENANT_SPARE_SCHEMAS=0)")
        )

    def _refill(self, target: int) -> None:
        self.stdout.write(f"Refilling the spare schemas to {target} ...")
        started = time.perf_counter()

        def progress(done: int, wanted: int) -> None:
            elapsed = time.perf_counter() - started
            self.stdout.write(f"  copied {done}/{wanted} ({elapsed:.1f} s)")

        result = spares.spares_refill(target, on_progress=progress)
        seconds = time.perf_counter() - started
        summary = (
            f"Spares: {result.created} copied, {result.dropped} dropped, {result.ready} ready "
            f"in {seconds:.2f} s"
        )
        if result.skipped:
            self.stdout.write(self.style.WARNING(f"{summary}; not filled: {result.skipped}"))
        else:
            self.stdout.write(self.style.SUCCESS(summary))


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
