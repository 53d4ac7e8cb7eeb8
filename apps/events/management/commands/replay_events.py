from django.core.management.base import BaseCommand, CommandError

from apps.events import services
from apps.events.management.options import parse_since, tenant
from apps.events.registry import all_subscribers, subscriber
from apps.events.schema import known_event_types
from apps.events.selectors import event_counts_by_type, outbox_event_list


class Command(BaseCommand):
    help = (
        "Send one tenant's retained events since a given time through the relay again. "
        "Subscribers that processed them skip them, unless --handler names one to reset."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", type=tenant, required=True, metavar="SLUG")
        parser.add_argument(
            "--since",
            type=parse_since,
            required=True,
            help="ISO 8601 (2025-01-31T08:00Z) or relative (90m, 2h, 3d, 1w)",
        )
        parser.add_argument(
            "--type",
            dest="event_types",
            action="append",
            metavar="TYPE",
            help="only events of this type (repeatable); all types when omitted",
        )
        parser.add_argument(
            "--handler",
            metavar="NAME",
            help="forget this subscriber's ledger entries first, so it applies the events again",
        )
        parser.add_argument("--dry-run", action="store_true", help="count, change nothing")

    def handle(self, *args, **options):
        target, since, handler = options["tenant"], options["since"], options["handler"]
        event_types = sorted(set(options["event_types"] or ()))
        unknown = sorted(set(event_types) - set(known_event_types()))
        if unknown:
            raise CommandError(
                f"unknown event type(s): {', '.join(unknown)}. "
                f"Known: {', '.join(known_event_types())}"
            )
        if handler and subscriber(handler) is None:
            raise CommandError(
                f"unknown subscriber '{handler}'. "
                f"Known: {', '.join(s.name for s in all_subscribers())}"
            )
        scope = (
            f"tenant {target.slug} since {since:%Y-%m-%d %H:%M:%S %Z}"
            f"{' of type ' + ', '.join(event_types) if event_types else ''}"
        )
        if options["dry_run"]:
            rows = outbox_event_list(tenant_id=target.pk, since=since, event_types=event_types)
            counts = event_counts_by_type(rows)
            total = sum(count for _, count in counts)
            self.stdout.write(f"Dry run: would requeue {total} event(s) of {scope}")
            for event_type, count in counts:
                self.stdout.write(f"  {event_type}: {count}")
            return
        count = services.events_replay(
            tenant_id=target.pk, since=since, event_types=event_types, handler=handler
        )
        self.stdout.write(self.style.SUCCESS(f"Requeued {count} event(s) of {scope}."))
        if count:
            self.stdout.write(
                f"  {handler} will apply them again; other subscribers skip what they processed."
                if handler
                else "  Subscribers skip what they already processed (use --handler to reset one)."
            )
