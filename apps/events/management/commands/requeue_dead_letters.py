from django.core.management.base import BaseCommand
from django.utils.text import Truncator

from apps.events import services
from apps.events.management.options import tenant
from apps.events.selectors import delivery_list

LISTED = 50


class Command(BaseCommand):
    help = (
        "Give dead letters a fresh set of attempts, due now (after fixing what made the "
        "subscriber fail). All of them, or those of a tenant, a subscriber or given ids."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", type=tenant, metavar="SLUG")
        parser.add_argument("--handler", metavar="NAME", help="only this subscriber's")
        parser.add_argument(
            "--id", dest="ids", type=int, nargs="+", action="extend", metavar="N",
            help="only these deliveries (repeatable)",
        )  # fmt: skip
        parser.add_argument("--dry-run", action="store_true", help="list them, change nothing")

    def handle(self, *args, **options):
        target = options["tenant"]
        filters = {
            "ids": sorted(set(options["ids"])) if options["ids"] else None,
            "tenant_id": target.pk if target else None,
            "handler": options["handler"],
        }
        if options["dry_run"]:
            rows = delivery_list(**filters).select_related("tenant", "event").order_by("position")
            count = rows.count()
            self.stdout.write(f"Dry run: would requeue {count} dead letter(s)")
            for row in rows[:LISTED]:
                error = Truncator(row.last_error.replace("\n", " ")).chars(80)
                self.stdout.write(
                    f"  #{row.pk} {row.tenant.slug} {row.handler} <- {row.event.event_type} "
                    f"#{row.position} ({row.attempts} attempts): {error}"
                )
            if count > LISTED:
                self.stdout.write(f"  ... and {count - LISTED} more")
            self._not_found(filters["ids"], count)
            return
        count = services.deliveries_requeue(**filters)
        self.stdout.write(self.style.SUCCESS(f"Requeued {count} dead letter(s)."))
        self._not_found(filters["ids"], count)

    def _not_found(self, ids: list[int] | None, count: int) -> None:
        if ids and count < len(ids):
            self.stdout.write(
                self.style.WARNING(
                    f"  {len(ids) - count} of the {len(ids)} given id(s) are not dead letters "
                    "(already requeued or handled, or filtered out)."
                )
            )
