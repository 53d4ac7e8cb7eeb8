"""Log records that say where they come from, and never what must stay private.

``ContextFilter`` adds to every record the tenant (its schema), the request id, the
correlation id, the trace and span ids and the user (by id: a login is an email
address). ``RedactFilter`` masks email addresses and the values of secret-looking
keys (password, token, secret, authorization, api key, cookie...) in the message and
in the ``extra`` fields; the formatters mask the same in tracebacks. Both filters sit
on the handlers (``LOGGING`` in the settings, Celery's handlers in ``config.celery``),
so they apply to every logger, ours and the libraries'.

``JsonFormatter`` writes one JSON object per line (production, or ``LOG_FORMAT=json``).
Nothing here may raise: a log line that cannot be enriched is written as it is.
"""

from __future__ import annotations

import contextlib
import logging
import re
from contextvars import ContextVar
from datetime import datetime
from typing import Any

from opentelemetry import trace
from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

from . import context

_request: ContextVar[Any] = ContextVar("log_request", default=None)

CONTEXT_FIELDS = ("tenant", "request_id", "correlation_id", "trace_id", "span_id", "user")
MASK = "***"
EMAIL_MASK = "[email]"
# Any address with a dotted domain ending in a name; "user@127.0.0.1" in a URL and Celery's
# "worker@host" stay. The local part stops at characters that delimit it in URLs and quotes
# (a rare address with "/" or "=" in it keeps what comes before them).
EMAIL_RE = re.compile(r"[\w.!#$%*+^~-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z][\w-]*")
# The names of secrets, not one.
_SECRET_WORDS = "|".join(
    (
        "password", "passwd", "passphrase", "secret", "token", "authorization", "api[_-]?key",
        "cookie", "credentials?", "session[_-]?id", "signature",
    )
)  # fmt: skip
SECRET_KEY_RE = re.compile(rf"(?i)(?:{_SECRET_WORDS})")
# "password=x", "token: x", '"secret": "x"', "Authorization: Bearer x" in free text.
SECRET_PAIR_RE = re.compile(
    rf"""(?ix)
    (?P<key>[\w-]*(?:{_SECRET_WORDS})[\w-]*)
    (?P<sep>["']?\s*[:=]\s*["']?)
    (?P<value>(?:(?:bearer|basic|token)\s+)?[^\s"',;&}}\]]+)
    """
)
# What every LogRecord has: anything else on a record came in through ``extra``.
_STANDARD_ATTRS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def redact_text(text: str) -> str:
    """``text`` with email addresses and the values of secret-looking keys masked."""
    if "@" in text:
        text = EMAIL_RE.sub(EMAIL_MASK, text)
    return SECRET_PAIR_RE.sub(lambda m: f"{m['key']}{m['sep']}{MASK}", text)


def redact_value(value: Any, depth: int = 0) -> Any:
    """A copy of ``value`` (text, or dicts and lists of it) with its secrets masked."""
    if isinstance(value, str):
        return redact_text(value)
    if depth > 5:
        return value
    if isinstance(value, dict):
        return {
            key: MASK
            if isinstance(key, str) and SECRET_KEY_RE.search(key)
            else redact_value(item, depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return type(value)(redact_value(item, depth + 1) for item in value)
    return value


class RedactFilter(logging.Filter):
    """Masks emails and secrets in the message and the ``extra`` fields of a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        # A log line is written whatever happens here.
        with contextlib.suppress(Exception):
            message = record.getMessage()
            masked = redact_text(message)
            if masked != message:
                record.msg, record.args = masked, None
            for key in set(vars(record)) - _STANDARD_ATTRS - set(CONTEXT_FIELDS):
                if SECRET_KEY_RE.search(key):
                    setattr(record, key, MASK)
                else:
                    setattr(record, key, redact_value(getattr(record, key)))
        return True


def _user_id(request) -> str | None:
    """The id of the request's user if it is known already: never a query of its own."""
    user = vars(request).get("user") if request is not None else None
    wrapped = getattr(user, "_wrapped", user)  # Django's lazy user, until something read it
    if wrapped is None or not getattr(wrapped, "is_authenticated", False):
        return None
    return str(wrapped.pk)


def _actor_user(actor: context.Actor | None) -> str | None:
    while actor is not None and actor.kind != "user":
        actor = actor.owner  # an API key acts for its owner
    return actor.id if actor is not None else None


def _tenant() -> str | None:
    from django.db import connection

    return getattr(connection, "schema_name", None)


class ContextFilter(logging.Filter):
    """Adds ``CONTEXT_FIELDS`` to every record (None where there is no such thing)."""

    def filter(self, record: logging.LogRecord) -> bool:
        with contextlib.suppress(Exception):  # a log line is written whatever happens here
            self._enrich(record)
        for name in CONTEXT_FIELDS:
            if not hasattr(record, name):
                setattr(record, name, None)
        return True

    def _enrich(self, record: logging.LogRecord) -> None:
        # Django logs a request's 4xx and 5xx after its middleware is done: the request
        # travels in the record then, with what was current while it was handled.
        request = _request.get() or vars(record).get("request")
        saved = getattr(request, "log_context", None)
        event_context = context.active() or (saved[0] if saved else None)
        span = trace.get_current_span().get_span_context()
        if not span.is_valid and saved:
            span = saved[1]
        record.tenant = _tenant()
        record.request_id = getattr(request, "correlation_id", None)
        record.correlation_id = event_context.correlation_id if event_context else None
        if span.is_valid:
            record.trace_id = format(span.trace_id, "032x")
            record.span_id = format(span.span_id, "016x")
        elif event_context is not None:
            match = context.TRACEPARENT_RE.fullmatch(event_context.traceparent or "")
            if match:
                record.trace_id, record.span_id = match.group(1), match.group(2)
        user = _user_id(request)
        if user is None and event_context is not None:
            user = _actor_user(event_context.actor)
        record.user = user


class LogContextMiddleware:
    """Makes the request known to ``ContextFilter`` for as long as it is handled."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        request.log_context = (context.active(), trace.get_current_span().get_span_context())
        token = _request.set(request)
        try:
            return self.get_response(request)
        finally:
            _request.reset(token)


class PlainFormatter(logging.Formatter):
    def formatException(self, ei) -> str:
        return redact_text(super().formatException(ei))


class JsonFormatter(_JsonFormatter):
    """One JSON object per line: time, level, logger, message, the context fields, extras."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        kwargs.setdefault("timestamp", "time")
        super().__init__("%(levelname)s %(name)s %(message)s", *args, **kwargs)

    def formatException(self, ei) -> str:
        return redact_text(super().formatException(ei))

    def process_log_record(self, log_data: dict) -> dict:
        # Objects given in ``extra`` (Django's request) are written as their text: masked too.
        return {key: self._plain(value) for key, value in log_data.items()}

    @staticmethod
    def _plain(value: Any) -> Any:
        if value is None or isinstance(value, bool | int | float | dict | list):
            return value
        if isinstance(value, datetime):
            return value.isoformat()
        return redact_text(str(value))


def adopt(logger: logging.Logger, *, json_format: bool) -> None:
    """Give ``logger``'s handlers (ones that Celery made) the filters and formatter above."""
    for handler in logger.handlers:
        for kind in (ContextFilter, RedactFilter):
            if not any(isinstance(f, kind) for f in handler.filters):
                handler.addFilter(kind())
        if json_format:
            handler.setFormatter(JsonFormatter())
