"""Refuse writes while the relay is far behind, instead of letting the outbox grow without bound."""

from __future__ import annotations

import logging
import math

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest

from apps.core.modules import SAFE_METHODS
from apps.core.problems import error_response
from apps.tenancy.models import Tenant

from .errors import Backpressure
from .selectors import outbox_health_cached

logger = logging.getLogger(__name__)


def check_backpressure() -> None:
    """Raise ``Backpressure`` (503) when the backlog or its oldest age passes the high-water mark."""
    config = settings.EVENTS
    health = outbox_health_cached(config["BACKPRESSURE_CHECK_SECONDS"])
    too_many = health.pending >= config["BACKLOG_HIGH_WATER"]
    too_old = health.oldest_pending_age >= config["OLDEST_AGE_HIGH_WATER_SECONDS"]
    if too_many or too_old:
        retry_after = max(
            1, min(60, math.ceil(health.pending / max(1, config["EXPECTED_DRAIN_RATE"])))
        )
        reason = (
            f"{health.pending} events are waiting"
            if too_many
            else f"the oldest waiting event is {health.oldest_pending_age:.0f} s old"
        )
        raise Backpressure(
            f"The platform is catching up ({reason}). Nothing was changed; please retry shortly.",
            retry_after=retry_after,
        )


class BackpressureMiddleware:
    """Answers unsafe requests (writes) with 503 and ``Retry-After`` past the high-water mark."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        self.exempt = tuple(settings.EVENTS["BACKPRESSURE_EXEMPT_PATHS"])

    def __call__(self, request: HttpRequest):
        # Tenants' writes only: the operators must be able to act during an incident.
        is_tenant = isinstance(getattr(request, "tenant", None), Tenant)
        if (
            is_tenant
            and request.method not in SAFE_METHODS
            and not request.path_info.startswith(self.exempt)
        ):
            try:
                check_backpressure()
            except Backpressure as error:
                logger.warning("refused %s %s: %s", request.method, request.path_info, error.detail)
                return error_response(request, error)
            except DatabaseError:
                logger.exception("backpressure check failed; letting the write through")
        return self.get_response(request)
