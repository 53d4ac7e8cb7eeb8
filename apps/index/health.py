"""Search in readiness: the read models behind it, and the storefront's search module."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import pybreaker
from django.db import DatabaseError
from django.utils.translation import gettext, gettext_lazy

from apps.core.breakers import breaker
from apps.core.errors import ModuleUnavailable
from apps.core.modules import (
    Degraded,
    Dependency,
    Mode,
    Module,
    register_dependency,
    register_module,
)
from apps.events.models import Delivery, DeliveryStatus

logger = logging.getLogger(__name__)

SEARCH_BREAKER = "search"
P = ParamSpec("P")
T = TypeVar("T")


def searching(func: Callable[P, T]) -> Callable[P, T]:
    """Run a full-text search through the search breaker. A search the database fails
    answers 503 instead of 500; five in a row open the breaker, which disables the search
    module (fast 503s, readiness degraded) for 30 s instead of sending more searches at a
    database that cannot take them."""

    @functools.wraps(func)
    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return breaker(SEARCH_BREAKER, fail_max=5, reset_timeout=30).call(func, *args, **kwargs)
        except (pybreaker.CircuitBreakerError, DatabaseError) as exc:
            logger.warning("search failed: %s", type(exc).__name__)
            raise ModuleUnavailable(
                gettext("Search is unavailable for a moment. Please try again in a minute."),
                retry_after=30,
            ) from None

    return run


def _search() -> None:
    """Degraded while a read-model handler fails: its rows, and so search, are stale."""
    failing = Delivery.objects.filter(
        handler__startswith="projection.", status__in=[DeliveryStatus.RETRY, DeliveryStatus.DEAD]
    ).count()
    if failing:
        raise Degraded(f"{failing} read-model deliveries are failing: search results are stale")


def register() -> None:
    register_dependency(Dependency("search", _search, breakers=(SEARCH_BREAKER,)))
    register_module(
        Module(
            "search",
            gettext_lazy("Search"),
            paths=("/search/", "/blog/search/", "/forum/search/"),
            depends_on=("search",),
            fallback=Mode.DISABLED,
        )
    )
