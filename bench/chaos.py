"""The relay under bursts and crashes: one backlog drained three ways by a real Celery worker.

1. undisturbed -- the backlog, ``ANALYZE``d, drained by a worker with ``--concurrency``
   pool processes (kicked with that many ``events.drain`` tasks);
2. burst -- the same backlog drained at once, the planner's statistics still those
   of the empty outbox (what a bulk import or a traffic spike looks like);
3. chaos -- the same backlog, the worker's whole process group SIGKILLed at random
   points ``--kills`` times and started again each time (the time spent restarting
   is reported apart and not counted).

The worker runs beat inside it, as production runs beat beside it: its sweep (every
``EVENTS_SWEEP_SECONDS``) is what finds events whose claims came back.

Each drain must dispatch every event exactly once: no pending row and no delivery
left, each handler named once in each event's ledger row, and the projection at each
aggregate's last version. Prints each drain's time and its ratio to the
undisturbed one (goal: both ratios <= 2).

    python bench/chaos.py [--events 50000] [--tenants 20] [--aggregates 1000] [--kills 15]
    python bench/chaos.py --quick

Faults, each against servers of the bench's own and with a PASS or FAIL line per
requirement (``bench/faults.py``; figures in docs/benchmarks.md, "Faults"):

    python bench/chaos.py --scenario redis [--quick]      # Redis stopped under 200 writes/s
    python bench/chaos.py --scenario postgres [--quick]   # PostgreSQL restarted mid-drain and
                                                          # mid-writes; web answers 503
    python bench/chaos.py --scenario receivers [--quick]  # webhook receivers and the card
                                                          # gateway answering 500 or hanging
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SCENARIOS = ("relay", "redis", "postgres", "receivers")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=SCENARIOS, default="relay")
    parser.add_argument("--events", type=int, default=50000, help="relay, postgres: backlog")
    parser.add_argument("--tenants", type=int, default=None, help="bench tenants (bench-01 ...)")
    parser.add_argument("--aggregates", type=int, default=1000, help="aggregates per tenant")
    parser.add_argument("--kills", type=int, default=15)
    parser.add_argument("--concurrency", type=int, default=2, help="worker pool processes")
    parser.add_argument("--seed", type=int, default=None, help="random seed of the kill points")
    parser.add_argument(
        "--rate", type=float, default=None,
        help="faults: events committed per second (redis, postgres: 200; receivers: 20)",
    )  # fmt: skip
    parser.add_argument("--outage", type=float, default=60, help="redis: seconds Redis is away")
    parser.add_argument("--down", type=float, default=10, help="postgres: seconds it is down")
    parser.add_argument("--phase", type=float, default=20, help="receivers: seconds per phase")
    parser.add_argument("--quick", action="store_true", help="a small smoke run")
    args = parser.parse_args()
    if args.rate is None:
        args.rate = 20.0 if args.scenario == "receivers" else 200.0
    if args.tenants is None:
        args.tenants = 20 if args.scenario == "relay" else 4
    args.warmup, args.after, args.catch_up_timeout = 5.0, 10.0, 300.0
    # receivers: timeouts a hanging peer runs into, the breakers' thresholds
    args.hang, args.webhook_timeout, args.gateway_timeout = 30.0, 2.0, 1.0
    args.breaker_failures, args.breaker_reset, args.charges = 20, 3.0, 6
    if args.quick:
        args.events, args.tenants, args.aggregates, args.kills = 4000, 4, 100, 3
        args.outage, args.down, args.phase, args.warmup, args.after = 15, 5, 8, 3, 5
        if args.scenario == "postgres":
            args.events = 20000
    if min(args.events, args.tenants, args.aggregates, args.kills) < 1 or args.tenants > 99:
        parser.error("sizes must be positive (at most 99 tenants)")
    if args.rate <= 0 or min(args.outage, args.down, args.phase) <= 0:
        parser.error("rate and durations must be positive")
    args.timeout = max(300.0, args.events / 100)
    return args


# The fault scenarios run against servers of their own: started, and named in DATABASE_URL
# and REDIS_URL, before Django reads its settings (on importing bench.outbox).
ARGS = parse_args() if __name__ == "__main__" else None
if ARGS is not None and ARGS.scenario != "relay":
    from bench.private_servers import use_private_servers

    PRIVATE_REDIS, PRIVATE_POSTGRES = use_private_servers(ARGS.scenario)

from bench.outbox import (  # noqa: E402
    BenchTouched,
    Worker,
    delete_bench_events,
    drain_everything_pending,
    ensure_tenants,
    fresh_backlog,
    kick_tasks,
    log,
    other_workers,
    rds,
    reset_bench_schemas,
    scalar,
    vacuum_outbox,
    verify_drain,
)


def pending_backlog() -> int:
    return scalar(
        "SELECT count(*) FROM public.events_outbox WHERE status = 'pending' AND event_type = %s",
        [BenchTouched.event_type],
    )


class CrashableWorker(Worker):
    """The benchmark's worker, which can also be killed outright (and started again)."""

    def kill(self) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)


@dataclass
class Drain:
    label: str
    seconds: float
    restarts: int = 0
    restart_seconds: float = 0.0
    verified: str = ""


def wait_drained(events: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while pending_backlog():
        if time.monotonic() > deadline:
            raise SystemExit(f"{pending_backlog()} of {events} events still pending")
        time.sleep(0.05)


def drain_undisturbed(label: str, worker, tenants, args, *, analyze: bool) -> Drain:
    fresh_backlog(tenants, args, analyze=analyze)
    worker.wait_idle(rds())
    started = time.monotonic()
    kick_tasks(args.concurrency)()
    wait_drained(args.events, args.timeout)
    drain = Drain(label, time.monotonic() - started)
    drain.verified = verify_drain(tenants, args.events, args.aggregates)
    return drain


def drain_with_kills(worker, tenants, args, rng: random.Random, expected: float) -> Drain:
    """Kill the worker at random points while it drains; restarts are timed apart."""
    fresh_backlog(tenants, args, analyze=True)
    worker.wait_idle(rds())
    drain = Drain(f"SIGKILL x {args.kills}", 0.0)
    started = time.monotonic()
    kick_tasks(args.concurrency)()
    for _ in range(args.kills):
        # Spread the kills over about the time an undisturbed drain takes.
        time.sleep(rng.uniform(0.2, 2 * expected / args.kills))
        if not pending_backlog():
            break
        worker.kill()
        down = time.monotonic()
        worker.start()
        kick_tasks(args.concurrency)()
        drain.restarts += 1
        drain.restart_seconds += time.monotonic() - down
        log(f"  kill {drain.restarts}: {pending_backlog():,} events left")
    wait_drained(args.events, args.timeout)
    drain.seconds = time.monotonic() - started - drain.restart_seconds
    drain.verified = verify_drain(tenants, args.events, args.aggregates)
    return drain


def run_fault(args: argparse.Namespace) -> None:
    from bench import faults

    with tempfile.TemporaryDirectory(prefix="bench-faults-") as log_dir:
        try:
            if args.scenario == "redis":
                verdicts = faults.scenario_redis(args, PRIVATE_REDIS, Path(log_dir))
            elif args.scenario == "postgres":
                verdicts = faults.scenario_postgres(
                    args, PRIVATE_POSTGRES, PRIVATE_REDIS, Path(log_dir)
                )
            else:
                verdicts = faults.scenario_receivers(args, Path(log_dir))
        finally:
            PRIVATE_REDIS.close()
            if PRIVATE_POSTGRES is not None:
                from django.db import connections

                connections.close_all()
                PRIVATE_POSTGRES.close()
    verdicts.print()
    if verdicts.failed:
        raise SystemExit(f"{verdicts.failed} requirement(s) failed")


def main() -> None:
    args = ARGS
    if args.scenario != "relay":
        run_fault(args)
        return
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
    rng = random.Random(seed)
    others = other_workers()
    if others:
        raise SystemExit(f"other Celery workers are consuming the queue: {others}; stop them first")
    tenants = ensure_tenants(args.tenants)
    schemas = [t.schema_name for t in tenants]
    delete_bench_events(schemas)
    drain_everything_pending()
    log(
        f"{args.events:,} events over {args.tenants} tenants x {args.aggregates} aggregates, "
        f"worker with {args.concurrency} pool processes, {args.kills} kills (seed {seed})"
    )
    drains: list[Drain] = []
    with tempfile.TemporaryDirectory(prefix="bench-chaos-") as log_dir:
        worker = CrashableWorker(args.concurrency, Path(log_dir), beat=True)
        try:
            worker.start()
            for label, analyze in (("undisturbed (after ANALYZE)", True), ("burst", False)):
                drains.append(drain_undisturbed(label, worker, tenants, args, analyze=analyze))
                log(f"{label}: {drains[-1].seconds:.2f} s; {drains[-1].verified}")
            drains.append(drain_with_kills(worker, tenants, args, rng, drains[0].seconds))
            log(f"{drains[-1].label}: {drains[-1].seconds:.2f} s; {drains[-1].verified}")
        except BaseException:
            log(f"worker log (tail):\n{worker.tail()}")
            raise
        finally:
            worker.stop()
            delete_bench_events(schemas)
            reset_bench_schemas(tenants)
            vacuum_outbox()
    base = drains[0].seconds
    log("")
    header = f"{'drain':<30} {'seconds':>8} {'events/s':>9} {'ratio':>6}  restarts (not counted)"
    log(header)
    log("-" * len(header))
    for drain in drains:
        restarts = f"{drain.restarts} in {drain.restart_seconds:.1f} s" if drain.restarts else "-"
        log(
            f"{drain.label:<30} {drain.seconds:>8.2f} {args.events / drain.seconds:>9,.0f} "
            f"{drain.seconds / base:>6.2f}  {restarts}"
        )
    worst = max(d.seconds / base for d in drains[1:])
    log(f"\nworst ratio {worst:.2f} (goal <= 2): {'met' if worst <= 2 else 'MISSED'}")


if __name__ == "__main__":
    main()
