"""What a run of each per-tenant beat job costs with many tenants: every schema walked (the
old way) against the due-work index (one query in ``public``, then only the due tenants).

For each job (``content.publish_due``, ``commerce.expire_reservations``,
``commerce.prune_stale_carts``, ``api.prune_idempotent_responses``, ``webhooks.sweep``,
``webhooks.prune``), with ``--tenants`` active tenants (``beat-0001`` ..., created once with
``tenant_create`` and kept) and no work in any of them:

* ``walk all``  -- ``for_each_active_tenant`` with the job's own work, as every run was before;
* ``idle``      -- the beat task itself when no tenant's work is due (most runs);
* ``one due``   -- the beat task when one tenant's work is due (marked before each round,
                   untimed): the job visits that schema, finds what is left there, settles.

Queries per run come from an untimed pass under ``CaptureQueriesContext``; times are the
median of ``--rounds`` runs. Then the price writers pay: one ``work_due`` in a transaction
when an earlier time is already marked (the usual case on a hot path) and when it inserts
the row, beside a ``SELECT 1`` round trip, p50 of ``--marks`` transactions each.

    python bench/beat_jobs.py [--tenants 100] [--rounds 5] [--marks 2000]
    python bench/beat_jobs.py --quick          # 12 tenants, 3 rounds, 500 marks
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_tenants.utils import schema_context  # noqa: E402

from apps.api import idempotency  # noqa: E402
from apps.api.tasks import prune_idempotent_responses  # noqa: E402
from apps.commerce import carts  # noqa: E402
from apps.commerce import services as commerce  # noqa: E402
from apps.commerce.tasks import expire_reservations, prune_stale_carts  # noqa: E402
from apps.content import services as content  # noqa: E402
from apps.content.tasks import publish_due  # noqa: E402
from apps.tenancy.models import DueWork, Tenant  # noqa: E402
from apps.tenancy.services import tenant_create, work_due  # noqa: E402
from apps.tenancy.tasks import for_each_active_tenant  # noqa: E402
from apps.webhooks import selectors as webhook_selectors  # noqa: E402
from apps.webhooks import services as webhooks  # noqa: E402
from apps.webhooks import tasks as webhook_tasks  # noqa: E402
from bench.report import machine, percentile, print_table  # noqa: E402

PREFIX = "beat-"
QUIET = logging.getLogger("bench.beat_jobs")


@dataclass(frozen=True)
class Job:
    name: str
    task: Callable[..., int]
    walk_work: Callable[[], int]  # what every tenant's visit did before the index


def _sweep_work() -> int:
    grace = settings.WEBHOOKS["SWEEP_GRACE_SECONDS"]
    due = webhook_selectors.due_delivery_ids(limit=webhook_tasks.SWEEP_BATCH, overdue_by=grace)
    webhooks.deliveries_enqueue(delivery_ids=due)
    return len(due)


JOBS = [
    Job(content.PUBLISH_DUE, publish_due, content.nodes_publish_due),
    Job(commerce.EXPIRE_RESERVATIONS, expire_reservations, commerce.reservations_expire),
    Job(carts.PRUNE_STALE_CARTS, prune_stale_carts, carts.carts_prune_stale),
    Job(idempotency.PRUNE_JOB, prune_idempotent_responses, idempotency.prune),
    Job(webhooks.SWEEP_JOB, webhook_tasks.sweep, _sweep_work),
    Job(webhooks.PRUNE_JOB, webhook_tasks.prune, webhooks.deliveries_prune),
]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--marks", type=int, default=2000)
    parser.add_argument("--quick", action="store_true", help="12 tenants, 3 rounds, 500 marks")
    args = parser.parse_args()
    if args.quick:
        args.tenants, args.rounds, args.marks = 12, 3, 500
    return args


def ensure_tenants(count: int) -> list[Tenant]:
    """``count`` active bench tenants (made once and kept), the only active ones."""
    started = time.perf_counter()
    for number in range(1, count + 1):
        slug = f"{PREFIX}{number:04d}"
        if not Tenant.objects.filter(slug=slug).exists():
            tenant_create(slug=slug, name=f"Beat bench {number}", admin_email=f"b{number}@x.test")
            elapsed = time.perf_counter() - started
            print(f"\rtenants: {number}/{count} ({elapsed:.0f} s)", end="", flush=True)
    print(f"\rtenants: {count} ready{' ' * 20}")
    tenants = list(Tenant.objects.filter(slug__startswith=PREFIX).order_by("slug")[:count])
    active = Tenant.objects.filter(status="active").count()
    if active != count:
        sys.exit(
            f"{active} active tenants in this database, not {count}: use a database of its own"
        )
    return tenants


def _median_ms(run: Callable[[], object], rounds: int, before: Callable[[], None]) -> float:
    samples = []
    for _ in range(rounds):
        before()
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def _queries(run: Callable[[], object], before: Callable[[], None]) -> int:
    before()
    connection.queries_log.clear()  # a full log (made tenants, DEBUG) would count nothing
    with CaptureQueriesContext(connection) as captured:
        run()
    return len(captured)


def measure_jobs(tenants: list[Tenant], rounds: int) -> list[str]:
    one = tenants[len(tenants) // 2]

    def nothing() -> None:
        DueWork.objects.all().delete()

    rows = []
    for job in JOBS:
        walk = partial(for_each_active_tenant, job.walk_work, logger=QUIET, done="%s %s")
        one_due = partial(_one_due, job.name, one, nothing)
        cases = [(walk, nothing), (job.task, nothing), (job.task, one_due)]
        figures = [
            (_queries(run, before), _median_ms(run, rounds, before)) for run, before in cases
        ]
        (walk_q, walk_ms), (idle_q, idle_ms), (due_q, due_ms) = figures
        rows.append(
            f"{job.name:32} {walk_q:>8} {walk_ms:>9.1f} {idle_q:>6} {idle_ms:>8.2f} "
            f"{due_q:>6} {due_ms:>8.2f}"
        )
        print(f"  measured {job.name}", file=sys.stderr, flush=True)
    nothing()
    return rows


def _one_due(kind: str, tenant: Tenant, clear: Callable[[], None]) -> None:
    clear()
    work_due(kind=kind, at=timezone.now(), tenant=tenant)


def measure_marks(tenant: Tenant, count: int) -> list[str]:
    """p50 of one statement in a transaction of the tenant: ``SELECT 1``, ``work_due`` behind
    an earlier mark (a read and a key-share hold), ``work_due`` that inserts the row."""
    kind = "bench.mark"
    later = timezone.now() + timedelta(days=1)

    def select_one() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")

    def mark() -> None:
        work_due(kind=kind, at=later)

    variants = [
        ("SELECT 1 (the floor)", select_one, False),
        ("work_due, earlier marked", mark, True),
        ("work_due, inserting", mark, False),
    ]
    samples: dict[str, list[float]] = {name: [] for name, _, _ in variants}
    with schema_context(tenant.schema_name):
        select_one()  # the schema switch
        # Interleaved, so that the machine's noise falls on every variant alike.
        for number in range(count):
            for name, statement, earlier_marked in variants[number % 3 :] + variants[: number % 3]:
                with transaction.atomic():
                    # The transaction opened (its BEGIN sent) before the timed statement.
                    if earlier_marked:
                        work_due(kind=kind, at=timezone.now())
                    else:
                        select_one()
                    started = time.perf_counter()
                    statement()
                    samples[name].append((time.perf_counter() - started) * 1e6)
                    transaction.set_rollback(True)
    results = list(samples.items())
    floor = percentile(results[0][1], 0.5)
    return [
        f"{name:28} {percentile(s, 0.5):>8.0f} {percentile(s, 0.99):>8.0f} "
        f"{percentile(s, 0.5) - floor:>+10.0f}"
        for name, s in results
    ]


def main() -> None:
    args = parse_args()
    tenants = ensure_tenants(args.tenants)
    print(machine(f"{args.tenants} active tenants, median of {args.rounds} runs"))
    print()
    print_table(
        f"{'job':32} {'walk q':>8} {'walk ms':>9} {'idle q':>6} {'idle ms':>8} "
        f"{'due q':>6} {'due ms':>8}",
        measure_jobs(tenants, args.rounds),
    )
    print()
    print_table(
        f"{'one statement in a txn':28} {'p50 µs':>8} {'p99 µs':>8} {'p50 - floor':>10}",
        measure_marks(tenants[0], args.marks),
    )


if __name__ == "__main__":
    main()
