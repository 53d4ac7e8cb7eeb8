"""Liveness and readiness probes. Answered on any host, without a tenant."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


@dataclass(frozen=True)
class Check:
    name: str
    run: Callable[[], None]
    critical: bool


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _redis() -> None:
    import redis

    client = redis.Redis.from_url(
        settings.REDIS_URL, socket_connect_timeout=0.5, socket_timeout=0.5
    )
    try:
        client.ping()
    finally:
        client.close()


CHECKS: list[Check] = [
    Check("database", _database, critical=True),
    Check("redis", _redis, critical=False),
]


class HealthMiddleware:
    """Answers the probes before anything else runs: no host check, no tenant, no session."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        self.routes = {"/health/live": live, "/health/ready": ready}

    def __call__(self, request: HttpRequest):
        view = self.routes.get(request.path_info)
        if view is None:
            return self.get_response(request)
        return view(request)


@never_cache
@require_GET
def live(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def ready(request: HttpRequest) -> JsonResponse:
    results = {}
    status = "ok"
    for check in CHECKS:
        started = time.perf_counter()
        try:
            check.run()
            outcome = "ok"
        except Exception as exc:
            outcome = "fail"
            results[check.name] = {"status": outcome, "error": type(exc).__name__}
            status = "fail" if check.critical else ("degraded" if status == "ok" else status)
        else:
            results[check.name] = {"status": outcome}
        results[check.name]["critical"] = check.critical
        results[check.name]["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return JsonResponse(
        {"status": status, "checks": results}, status=503 if status == "fail" else 200
    )
