"""The Celery log keeps what an operator wants and leaves out routine runs that did nothing."""

import logging

import pytest
from celery.app import trace
from django.conf import settings

from config.celery import ROUTINE_TASKS, RoutineTaskFilter


def _record(msg: str, args) -> logging.LogRecord:
    return logging.LogRecord("celery", logging.INFO, __file__, 1, msg, args, None)


def _received(name: str) -> logging.LogRecord:
    return _record(trace.LOG_RECEIVED, {"id": "1", "name": name, "args": "()", "kwargs": "{}"})


def _succeeded(name: str, result: str) -> logging.LogRecord:
    data = {"id": "1", "name": name, "return_value": result, "runtime": 0.01}
    return _record(trace.LOG_SUCCESS, {**data, "args": "()", "kwargs": "{}"})


@pytest.mark.parametrize(
    ("record", "kept"),
    [
        (_received("events.sweep"), False),
        (_succeeded("events.sweep", "None"), False),
        (_received("events.drain"), False),
        (_succeeded("events.drain", "{'handled': 0, 'failed': 0, 'more': False}"), False),
        (_succeeded("events.drain", "{'handled': 12, 'failed': 0, 'more': False}"), True),
        (_succeeded("events.drain", "{'handled': 0, 'failed': 3, 'more': False}"), True),
        (_succeeded("content.publish_due", "0"), False),
        (_succeeded("content.publish_due", "2"), True),
        (_succeeded("commerce.expire_reservations", "0"), False),
        (_succeeded("commerce.expire_reservations", "3"), True),
        (_record(trace.LOG_FAILURE, {"id": "1", "name": "events.sweep", "exc": "boom"}), True),
        (_received("webhooks.deliver"), True),
        (_record("Scheduler: Sending due task %s (%s)", ("events-sweep", "events.sweep")), False),
        (_record("Scheduler: Sending due task %s (%s)", ("nightly", "reports.build")), True),
        (_record("drained %s events", (40,)), True),
    ],
)
def test_routine_runs_that_did_nothing_are_left_out(record, kept):
    assert RoutineTaskFilter().filter(record) is kept


def test_every_scheduled_task_is_quiet_when_it_did_nothing():
    """Beat's jobs run every few seconds or minutes: each must be known as routine, or an
    idle deployment's log fills with its "received / succeeded" lines."""
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert scheduled <= ROUTINE_TASKS, scheduled - ROUTINE_TASKS
