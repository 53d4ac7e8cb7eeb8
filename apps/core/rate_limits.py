"""Fixed-window rate limits on requests, counted in the shared cache (Redis).

Built on django-ratelimit's counters: the cache's key function prefixes every key with
the tenant's schema, so each tenant counts its own visitors, and the counted value (an
IP address, an email) is hashed into the key, never stored as it is. The rates are
settings (``RATE_LIMITS``: ``{"login_account": "5/m", ...}``); a group without a rate is
not limited. With the cache away the limits fail open: a visitor is never locked out
because Redis is.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.core import get_usage
from redis.exceptions import RedisError

from .errors import RateLimited

logger = logging.getLogger(__name__)


def client_ip(request: HttpRequest) -> str:
    """The address the request came from, as the server saw it (behind a proxy, configure the
    proxy to set ``REMOTE_ADDR``)."""
    return request.META.get("REMOTE_ADDR") or "unknown"


def rate_limit(request: HttpRequest, *counted: tuple[str, str]) -> None:
    """Count ``request`` once against each ``(group, value)``; ``RateLimited`` when one of
    them is over its group's rate, with the longest wait among those exceeded."""
    waits = []
    for group, value in counted:
        rate = settings.RATE_LIMITS.get(group)
        if not rate:
            continue
        try:
            usage = get_usage(
                request, group=group, key=lambda _group, _request, v=value: v, rate=rate,
                increment=True,
            )  # fmt: skip
        except RedisError:
            logger.warning("rate limit %s not counted: the cache is unavailable", group)
            continue
        if usage is not None and usage["should_limit"]:
            # The window's last second still counts (django-ratelimit's windows end inclusive).
            waits.append(max(1, usage["time_left"] + 1))
    if waits:
        raise RateLimited(retry_after=max(waits))
