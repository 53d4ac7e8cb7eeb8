"""Beat's jobs under the "jobs" error policy: retried through the broker with the policy's
countdown, counted in scheduled_job_failures_total when given up, quiet for a race."""

from __future__ import annotations

import importlib
import json

import pytest
import redis
from django.conf import settings

from apps.core.error_policy import PermanentError, Superseded
from apps.core.jobs import scheduled_job
from config.celery import app

from .support import increase, scrape

JOB = "tests.flaky_job"
failures: list[Exception] = []  # what the next runs of the job raise, in turn


@scheduled_job(JOB)
def flaky_job() -> int:
    if failures:
        raise failures.pop(0)
    return 1


@pytest.fixture
def job_policy(settings):
    """The jobs' policy without jitter, so the countdown is exactly the policy's backoff."""
    settings.ERROR_POLICIES = {
        **settings.ERROR_POLICIES,
        "jobs": {**settings.ERROR_POLICIES["jobs"], "JITTER": 0, "BASE_DELAY_SECONDS": 30},
    }
    failures.clear()
    yield settings.ERROR_POLICIES["jobs"]
    failures.clear()


def queued_messages() -> list[dict]:
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    return [json.loads(raw) for raw in client.lrange("celery", 0, -1)]


def run_as_worker(task_id: str, *, retries: int) -> BaseException:
    """Run the job as a worker does (not called directly, ``retries`` deliveries before);
    what it raised."""
    flaky_job.push_request(
        id=task_id, args=[], kwargs={}, retries=retries, called_directly=False,
        delivery_info={"exchange": "", "routing_key": "celery"},
    )  # fmt: skip
    try:
        with pytest.raises(Exception) as raised:
            flaky_job.run()
    finally:
        flaky_job.pop_request()
    return raised.value


def test_a_transient_failure_is_sent_again_with_the_policys_countdown(db, job_policy):
    failures.append(ConnectionError("database restarting"))
    before = scrape()
    retry = run_as_worker("job-1", retries=0)

    assert type(retry).__name__ == "Retry"
    assert retry.when == 30  # attempt 1: the base delay
    [message] = queued_messages()  # the retry is on the real broker, due in 30 s
    headers = message["headers"]
    assert (headers["task"], headers["retries"]) == (JOB, 1)
    assert headers["eta"] is not None
    after = scrape()
    assert increase(before, after, "scheduled_job_retries_total", job=JOB) == 1
    assert increase(before, after, "scheduled_job_failures_total", job=JOB) == 0


def test_the_backoff_doubles_with_each_retry(db, job_policy):
    failures.append(ConnectionError("still down"))
    assert run_as_worker("job-2", retries=2).when == 120  # attempt 3: 30 * 2 * 2
    assert queued_messages()[0]["headers"]["retries"] == 3


def test_a_job_that_keeps_failing_is_given_up_and_counted(db, job_policy):
    attempts = job_policy["MAX_ATTEMPTS"]
    failures.extend(RuntimeError(f"broken {n}") for n in range(attempts))
    before = scrape()

    result = flaky_job.apply()  # eager: the retries run at once, one after the other

    assert result.failed()
    assert str(result.result) == f"broken {attempts - 1}"
    assert failures == []
    after = scrape()
    assert increase(before, after, "scheduled_job_retries_total", job=JOB) == attempts - 1
    assert increase(before, after, "scheduled_job_failures_total", job=JOB) == 1


def test_a_permanent_error_is_counted_without_a_retry(db, job_policy):
    failures.append(PermanentError("bad configuration"))
    before = scrape()
    assert flaky_job.apply().failed()
    after = scrape()
    assert increase(before, after, "scheduled_job_failures_total", job=JOB) == 1
    assert increase(before, after, "scheduled_job_retries_total", job=JOB) == 0


def test_a_lost_race_is_ignored(db, job_policy):
    failures.append(Superseded("another run flushed these views"))
    before = scrape()
    result = flaky_job.apply()
    assert result.successful() and result.result is None
    after = scrape()
    assert increase(before, after, "scheduled_job_failures_total", job=JOB) == 0
    assert increase(before, after, "scheduled_job_retries_total", job=JOB) == 0


def test_a_transient_failure_then_success(db, job_policy):
    failures.append(ConnectionError("blip"))
    result = flaky_job.apply()
    assert result.successful() and result.result == 1


def test_called_directly_a_job_just_raises(db, job_policy):
    failures.append(ConnectionError("blip"))
    with pytest.raises(ConnectionError):
        flaky_job()
    assert queued_messages() == []


def test_every_beat_task_is_a_scheduled_job():
    names = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    for name in names:
        importlib.import_module(f"apps.{name.split('.')[0]}.tasks")
    assert {name: getattr(app.tasks[name], "error_policy", None) for name in names} == {
        name: "jobs" for name in names
    }
