"""503 with ``Retry-After`` while the database cannot be reached, never a 500 page.

A PostgreSQL restart or failover reaches a request as ``OperationalError`` (cannot
connect, the server closed the connection, the server is shutting down) or
``InterfaceError`` (the connection is already closed). Nothing is wrong with the
request: the client should come back in a few seconds. This middleware, right after
the health probes, answers the platform's 503 instead (problem+json for the API and
JSON clients, the short error page otherwise):

- raised by a view: ``process_exception``;
- raised by a middleware further in (sessions, authentication): Django has already
  turned it into a 500 (``handler500``, or the debug page with DEBUG on); the
  ``got_request_exception`` receiver marks the request, and the 500 is replaced;
- propagated as such (``DEBUG_PROPAGATE_EXCEPTIONS``): caught around the call.

It never touches the database and never shows a traceback. The tenant resolver,
which may hit the database first, answers its own 503 for a failed lookup.
"""

from __future__ import annotations

import logging
import sys

from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy

from .errors import ServiceUnavailable
from .problems import error_response

logger = logging.getLogger(__name__)

UNREACHABLE = (OperationalError, InterfaceError)
# A restart takes a few seconds; a failover somewhat longer.
RETRY_AFTER_SECONDS = 10
_MARK = "_platform_database_unavailable"


class DatabaseUnavailable(ServiceUnavailable):
    code = "database_unavailable"


def database_unreachable(error: BaseException | None) -> bool:
    """Whether ``error``, or an error it was raised from or during, says the database is away."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, UNREACHABLE):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False


@receiver(got_request_exception, dispatch_uid="apps.core.unavailable.mark_request")
def _mark_request(sender, request: HttpRequest | None = None, **kwargs) -> None:
    """Sent while Django turns an uncaught exception into a 500: note a database outage."""
    if request is not None and database_unreachable(sys.exc_info()[1]):
        setattr(request, _MARK, True)


def unavailable_response(request: HttpRequest, error: BaseException | None = None) -> HttpResponse:
    logger.warning(
        "database unavailable, answered 503: %s %s (%s)",
        request.method,
        request.path,
        type(error).__name__ if error is not None else "marked",
    )
    return error_response(
        request,
        DatabaseUnavailable(
            gettext_lazy(
                "The service cannot reach its database at the moment. Please try again in "
                "a few seconds."
            ),
            retry_after=RETRY_AFTER_SECONDS,
        ),
    )


class DatabaseUnavailableMiddleware:
    """Turns a database outage anywhere further in into 503 + ``Retry-After``."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            response = self.get_response(request)
        except UNREACHABLE as error:
            return unavailable_response(request, error)
        if response.status_code >= 500 and getattr(request, _MARK, False):
            return unavailable_response(request)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if database_unreachable(exception):
            return unavailable_response(request, exception)
        return None
