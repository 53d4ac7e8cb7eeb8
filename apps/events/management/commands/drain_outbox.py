import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from apps.events import relay
from apps.events.management.options import positive_float, positive_int
from apps.events.relay import DrainStats

TENANTS_LISTED = 10


class Command(BaseCommand):
    help = (
        "Relay pending events and due retries now, in this process, until none are left "
        "or the time budget or batch limit is reached."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--time-budget", type=positive_float, metavar="SECONDS", help="stop after this long"
        )
        parser.add_argument(
            "--max-batches", type=positive_int, metavar="N", help="stop after N batches"
        )

    def handle(self, *args, **options):
        if connection.in_atomic_block:
            raise CommandError("drain_outbox must not run inside a transaction")
        budget, max_batches = options["time_budget"], options["max_batches"]
        self.verbosity = options["verbosity"]
        started = time.monotonic()
        total = relay.drain(
            time_budget=budget,
            max_batches=max_batches,
            on_batch=lambda so_far: self._progress(so_far, time.monotonic() - started),
        )
        self._summary(total)

    def _progress(self, total: DrainStats, elapsed: float) -> None:
        if self.verbosity < 1:
            return
        self.stdout.write(
            f"  batch {total.batches:>4}: {total.handled} handled, {total.failed} failed, "
            f"{total.retried} retried ok so far, {elapsed:.1f} s"
        )

    def _summary(self, total: DrainStats) -> None:
        if not total.batches:
            self.stdout.write("Nothing to drain: no pending events, no due retries.")
            return
        rate = total.handled / total.seconds if total.seconds > 0 else 0.0
        self.stdout.write(
            self.style.SUCCESS(
                f"Drained {total.handled} event(s) in {total.seconds:.2f} s ({rate:.1f} events/s)"
            )
        )
        self.stdout.write(
            f"  claimed {total.claimed}, handled {total.handled}, failed {total.failed}, "
            f"dead {total.dead}, held back {total.blocked}, retried ok {total.retried}, "
            f"lost leases {total.lost_leases}, batches {total.batches}"
        )
        if total.by_tenant:
            largest = sorted(total.by_tenant.items(), key=lambda item: (-item[1], item[0]))
            per_tenant = ", ".join(
                f"{schema} {count}" for schema, count in largest[:TENANTS_LISTED]
            )
            if len(largest) > TENANTS_LISTED:
                per_tenant += f" and {len(largest) - TENANTS_LISTED} more tenants"
            self.stdout.write(f"  per tenant (schema): {per_tenant}")
        if total.dead:
            self.stdout.write(
                self.style.WARNING(f"  {total.dead} new dead letter(s): see outbox_status")
            )
        if total.more:
            self.stdout.write(
                self.style.WARNING(
                    "Stopped at the limit: more work is waiting. Run again to go on."
                )
            )
