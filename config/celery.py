import logging
import os

from celery import Celery
from celery.app import trace
from celery.beat import PersistentScheduler
from celery.signals import (
    after_setup_logger,
    after_setup_task_logger,
    worker_init,
    worker_process_init,
    worker_process_shutdown,
    worker_shutting_down,
)
from celery.worker.consumer import Consumer
from celery.worker.state import maybe_shutdown

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")


logger = logging.getLogger(__name__)


def _reconnect(conn, what: str):
    """``conn`` connected again, trying every ``BROKER_RECONNECT_MAX_SECONDS`` at most.

    Kombu's defaults wait 2 s, then 2 s more each time, up to 30 s between tries, and give up
    after ``broker_connection_max_retries``: after a minute without Redis a worker or beat
    would sleep up to 30 s more once Redis is back, the outbox filling meanwhile. One
    connection attempt a second is cheap; this goes on for as long as it takes.
    """
    from django.conf import settings

    def _error_handler(exc, interval, *args) -> None:
        logger.warning("%s: broker unreachable (%s); trying again in %.1f s", what, exc, interval)

    ceiling = settings.BROKER_RECONNECT_MAX_SECONDS
    return conn.ensure_connection(
        _error_handler, None, interval_start=min(0.5, ceiling), interval_step=0.5,
        interval_max=ceiling, callback=maybe_shutdown,
    )  # fmt: skip


class PromptReconnectConsumer(Consumer):
    """A worker that finds the broker again within a second or so of its return."""

    def ensure_connected(self, conn):
        conn = _reconnect(conn, "worker")
        self.first_connection_attempt = False
        self.broker_connection_retry_attempt = 0
        return conn


class PromptReconnectScheduler(PersistentScheduler):
    """Beat, likewise: its sweep is what hands the relay the events written meanwhile."""

    def _ensure_connected(self):
        return _reconnect(self.connection, "beat")


app = Celery("platform")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def _map_relay_stop_flag(**kwargs) -> None:
    """Import the relay in the main process, so the pool it forks shares its stop flag."""
    from apps.events import relay  # noqa: F401


@worker_process_init.connect(weak=False)
def _set_up_pool_process(**kwargs) -> None:
    """Tracing in each pool process, after the fork (an exporter's thread does not survive one),
    and its garbage collector tuned for batches of events."""
    from apps.core import gc_tuning, telemetry

    telemetry.setup("worker")
    gc_tuning.tune()


@worker_process_shutdown.connect(weak=False)
def _flush_traces(**kwargs) -> None:
    from apps.core import telemetry

    telemetry.shutdown()


@worker_shutting_down.connect
def _stop_relay_drains(**kwargs) -> None:
    """A warm shutdown stops every drain of the pool after its batch, leases released."""
    from apps.events import relay

    relay.request_stop()


# Beat sweeps the outbox every few seconds: a worker's log would be a scroll of
# "events.sweep received / succeeded" lines. Those routine runs are left out when
# they did nothing; what they did (drained N events, published N nodes, pruned
# N events, released N reservations) is logged by the tasks themselves, and failures
# always show.
ROUTINE_TASKS = frozenset(
    {
        "events.sweep",
        "events.drain",
        "events.prune",
        "content.publish_due",
        "forum.flush_views",
        "commerce.expire_reservations",
        "commerce.prune_stale_carts",
        "commerce.retry_order_emails",
        "commerce.reconcile_payments",
        "webhooks.sweep",
        "webhooks.prune",
        "api.prune_idempotent_responses",
        "tenancy.refill_spares",
    }
)
IDLE_RESULTS = frozenset({"None", "0", "{'handled': 0, 'failed': 0, 'more': False}"})


class RoutineTaskFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        data = record.args if isinstance(record.args, dict) else None
        if record.msg == "Scheduler: Sending due task %s (%s)" and isinstance(record.args, tuple):
            return record.args[-1] not in ROUTINE_TASKS
        if data is None or data.get("name") not in ROUTINE_TASKS:
            return True
        if record.msg == trace.LOG_RECEIVED:
            return False
        if record.msg == trace.LOG_SUCCESS:
            return str(data.get("return_value")) not in IDLE_RESULTS
        return True


@after_setup_logger.connect
def _quiet_routine_tasks(**kwargs) -> None:
    """After Celery set its logging up (worker and beat): the filter, unless LOG_ROUTINE_TASKS."""
    from django.conf import settings

    _adopt_log_handlers(logging.getLogger())
    if getattr(settings, "LOG_ROUTINE_TASKS", False):
        return
    for name in ("celery.app.trace", "celery.worker.strategy", "celery.beat"):
        logging.getLogger(name).addFilter(RoutineTaskFilter())


def _adopt_log_handlers(logger: logging.Logger) -> None:
    """Celery replaces the handlers of ``LOGGING``: give its own the same filters and format."""
    from django.conf import settings

    from apps.core import logs

    logs.adopt(logger, json_format=settings.LOG_FORMAT == "json")


@after_setup_task_logger.connect
def _task_log_format(logger, **kwargs) -> None:
    _adopt_log_handlers(logger)
