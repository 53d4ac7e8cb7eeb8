"""Scheduled jobs: the beat tasks, their failures decided by the "jobs" error policy.

``@scheduled_job("content.publish_due")`` declares a Celery task as ``@shared_task`` would
(its result ignored). When the job raises, ``error_policy.policy("jobs")`` decides: retry
(sent again with Celery's ``retry`` after the policy's backoff, counted in
``scheduled_job_retries_total``), ignore (an expected race, ``Superseded``: logged at INFO),
or fail (after the last attempt, or for a permanent error: logged as an error and counted in
``scheduled_job_failures_total{job}``, the figure to alert on; then raised, so Celery records
the failure). A job called directly (a test, another task's body) just raises.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

from celery import shared_task

from .error_policy import Action, policy
from .metrics import JOB_FAILURES, JOB_RETRIES

logger = logging.getLogger(__name__)

POLICY = "jobs"


def scheduled_job(name: str, *, max_attempts: int | None = None, **options) -> Callable:
    """Decorator: ``func`` as the Celery task ``name`` under the "jobs" error policy.

    ``max_attempts=1`` for a job that beat runs again within seconds (the sweeps): its next
    run is its retry, so a failure is counted at once instead of sent again."""

    def decorate(func: Callable):
        def run(task, *args, **kwargs):
            try:
                return func(*args, **kwargs)
            except Exception as error:
                return _failed(task, name, error, max_attempts)

        # Not functools.wraps: Celery reads the signature of ``run`` (it takes the task).
        run.__name__, run.__qualname__ = func.__name__, func.__qualname__
        run.__module__, run.__doc__ = func.__module__, func.__doc__
        task = shared_task(name=name, bind=True, ignore_result=True, **options)(run)
        task.error_policy = POLICY
        return task

    return decorate


def _failed(task, name: str, error: Exception, max_attempts: int | None):
    if task.request.called_directly:
        raise error
    attempt = task.request.retries + 1
    job_policy = policy(POLICY)
    if max_attempts is not None:
        job_policy = replace(job_policy, max_attempts=max_attempts)
    decision = job_policy.decide(error, attempt)
    if decision.action is Action.RETRY:
        JOB_RETRIES.labels(name).inc()
        logger.warning(
            "%s failed (attempt %s): %s: %s; again in %.1f s",
            name, attempt, type(error).__name__, error, decision.delay,
        )  # fmt: skip
        raise task.retry(exc=error, countdown=decision.delay, max_retries=None)
    if decision.action is Action.IGNORE:
        logger.info("%s: %s (%s), nothing to do", name, error, decision.reason)
        return None
    JOB_FAILURES.labels(name).inc()
    logger.error(
        "%s failed for good (attempt %s, %s): %s: %s",
        name, attempt, decision.reason, type(error).__name__, error,
    )  # fmt: skip
    raise error
