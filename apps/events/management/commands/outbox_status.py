import json
from datetime import datetime

from django.core.management.base import BaseCommand

from apps.events.selectors import OutboxStatusReport, outbox_status_report

COLUMNS = ("TENANT", "PENDING", "OLDEST PENDING", "RETRY", "HELD BACK", "DEAD")


def age(since: datetime | None, now: datetime) -> str:
    if since is None:
        return "-"
    seconds = max(0, int((now - since).total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days}d {hours:02d}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {seconds:02d}s"
    return f"{seconds}s"


def age_seconds(since: datetime | None, now: datetime) -> float | None:
    return None if since is None else round(max(0.0, (now - since).total_seconds()), 3)


def as_json(report: OutboxStatusReport) -> dict:
    now = report.at
    return {
        "at": now.isoformat(),
        "totals": {
            "pending": report.pending,
            "oldest_pending_at": report.oldest_pending_at and report.oldest_pending_at.isoformat(),
            "oldest_pending_age_seconds": age_seconds(report.oldest_pending_at, now),
            "retry": report.retry,
            "held_back": report.blocked,
            "dead": report.dead,
        },
        "tenants": [
            {
                "tenant": row.slug,
                "schema": row.schema_name,
                "pending": row.pending,
                "oldest_pending_at": row.oldest_pending_at and row.oldest_pending_at.isoformat(),
                "oldest_pending_age_seconds": age_seconds(row.oldest_pending_at, now),
                "retry": row.retry,
                "held_back": row.blocked,
                "dead": row.dead,
            }
            for row in report.tenants
        ],
        "last_dispatched_at": report.last_dispatched_at and report.last_dispatched_at.isoformat(),
        "last_dispatched_age_seconds": age_seconds(report.last_dispatched_at, now),
    }


class Command(BaseCommand):
    help = (
        "Outbox health: pending events and the age of the oldest per tenant, retries, "
        "held-back events and dead letters, and when the relay last dispatched an event."
    )

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="machine-readable output")

    def handle(self, *args, **options):
        report = outbox_status_report()
        if options["json"]:
            self.stdout.write(json.dumps(as_json(report), indent=2))
            return
        self.stdout.write(f"Outbox at {report.at:%Y-%m-%d %H:%M:%S %Z}")
        if report.tenants:
            self._table(report)
        else:
            self.stdout.write(self.style.SUCCESS("Nothing pending, no retries, no dead letters."))
        last = report.last_dispatched_at
        self.stdout.write(
            f"Last dispatched: {last:%Y-%m-%d %H:%M:%S %Z} ({age(last, report.at)} ago)"
            if last
            else "Last dispatched: never (or pruned)"
        )
        if report.dead:
            self.stdout.write(
                self.style.WARNING(
                    f"{report.dead} dead letter(s): inspect them in the admin, then "
                    "`requeue_dead_letters` once the cause is fixed."
                )
            )

    def _table(self, report: OutboxStatusReport) -> None:
        rows = [
            (r.slug, r.pending, age(r.oldest_pending_at, report.at), r.retry, r.blocked, r.dead)
            for r in report.tenants
        ]
        total = (
            "TOTAL",
            report.pending,
            age(report.oldest_pending_at, report.at),
            report.retry,
            report.blocked,
            report.dead,
        )
        cells = [COLUMNS, *[tuple(map(str, row)) for row in rows], tuple(map(str, total))]
        widths = [max(len(row[i]) for row in cells) for i in range(len(COLUMNS))]
        for number, row in enumerate(cells):
            line = "  ".join(
                cell.ljust(width) if i == 0 else cell.rjust(width)
                for i, (cell, width) in enumerate(zip(row, widths, strict=True))
            )
            if number == 0:
                line = self.style.MIGRATE_HEADING(line)
            elif number <= len(rows) and rows[number - 1][5]:
                line = self.style.ERROR(line)
            self.stdout.write(line)
