"""Deprecations of the API: what is on its way out, since when, until when, and how clients hear it.

A ``Deprecation`` names something of ``/api/v1`` that still works but will be removed (an
operation, or a parameter of one) with the day it was deprecated and its sunset. Every
answer that used it carries the headers integrators' tooling reads:

* ``Deprecation: @<unix time>`` (RFC 9745): deprecated since then;
* ``Sunset: <HTTP-date>`` (RFC 8594): it may stop working after then;
* ``Link: <policy>; rel="deprecation"`` (and ``rel="sunset"``): where to read about it.

``deprecated_operation`` marks a view method (headers on its answers, ``deprecated: true``
in the OpenAPI schema); a parameter is marked by the code that reads it, which calls
``Deprecation.mark`` on its answer (``apps.api.pagination`` does for ``?page=``) and sets
``deprecated`` on the parameter's description. The policy (how long the notice lasts, where
it is announced) is ``docs/api-deprecation.md``; every entry here has a line in
``docs/api-changelog.md``. This module only announces: it never refuses a request, even
after the sunset (removing the thing is a change of the code, announced in the changelog).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from email.utils import format_datetime

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from drf_spectacular.utils import extend_schema

# Deprecated things keep working at least this long after the notice (docs/api-deprecation.md).
MINIMUM_NOTICE_DAYS = 180


@dataclass(frozen=True)
class Deprecation:
    """``what`` (for people: "the page parameter of lists") is deprecated since ``since`` and
    may be removed after ``sunset``; ``use_instead`` says what replaces it."""

    what: str
    since: date
    sunset: date
    use_instead: str = ""

    def __post_init__(self) -> None:
        if (self.sunset - self.since).days < MINIMUM_NOTICE_DAYS:
            raise ValueError(
                f"{self.what}: a sunset needs {MINIMUM_NOTICE_DAYS} days' notice at least"
            )

    @property
    def note(self) -> str:
        """One sentence for the OpenAPI description."""
        text = (
            f"Deprecated since {self.since.isoformat()}; "
            f"may be removed after {self.sunset.isoformat()}."
        )
        return f"{text} Use {self.use_instead} instead." if self.use_instead else text

    def headers(self, request: HttpRequest | None = None) -> dict[str, str]:
        since = datetime.combine(self.since, time.min, tzinfo=UTC)
        sunset = datetime.combine(self.sunset, time.min, tzinfo=UTC)
        policy = settings.API_DEPRECATION_POLICY_URL
        if request is not None:
            policy = request.build_absolute_uri(policy)
        return {
            "Deprecation": f"@{int(since.timestamp())}",
            "Sunset": format_datetime(sunset, usegmt=True),
            "Link": f'<{policy}>; rel="deprecation", <{policy}>; rel="sunset"',
        }

    def mark(self, response: HttpResponseBase, request: HttpRequest | None = None) -> None:
        """Add the headers to ``response`` (an existing ``Link`` header is kept, and extended)."""
        for name, value in self.headers(request).items():
            if name == "Link" and response.has_header("Link"):
                value = f"{response['Link']}, {value}"
            response[name] = value


def deprecated_operation(deprecation: Deprecation):
    """Mark a view method (a view set's action) deprecated: its answers carry the headers and
    the OpenAPI schema says ``deprecated: true`` with ``deprecation.note``.

    ::

        @deprecated_operation(Deprecation(what="GET /nodes/{id}/legacy/", since=..., sunset=...))
        def legacy(self, request, pk): ...
    """

    def decorate(method):
        @functools.wraps(method)
        def wrapped(self, request, *args, **kwargs):
            response = method(self, request, *args, **kwargs)
            deprecation.mark(response, request)
            return response

        return extend_schema(deprecated=True, description=deprecation.note)(wrapped)

    return decorate


# -- what is deprecated in /api/v1 (each has an entry in docs/api-changelog.md) -------------

PAGE_NUMBERS = Deprecation(
    what="the page parameter of lists (page-number pagination)",
    since=date(2026, 12, 7),
    sunset=date(2027, 6, 30),
    use_instead="the cursor of the next and previous links",
)
