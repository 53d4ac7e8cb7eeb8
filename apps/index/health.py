"""Search in readiness: the read models behind it, and the storefront's search module."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from apps.core.modules import (
    Degraded,
    Dependency,
    Mode,
    Module,
    register_dependency,
    register_module,
)
from apps.events.models import Delivery, DeliveryStatus

SEARCH_BREAKER = "search"


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
