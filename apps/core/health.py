"""Liveness and readiness probes. Answered on any host, without a tenant.

``/health/ready`` runs every registered dependency's check (``apps.core.modules``) and
reports, per check, its status (``ok``, ``degraded`` or ``fail``), whether it is critical,
its latency and the open breakers that guard it; then every module's mode. A critical check
that fails makes the answer 503; anything else that is not well makes it ``degraded`` (200:
the instance still serves).
"""

from __future__ import annotations

import time

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from . import modules
from .breakers import REDIS, open_breakers


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


def register_core_dependencies() -> None:
    modules.register_dependency(modules.Dependency("database", _database, critical=True))
    modules.register_dependency(modules.Dependency("redis", _redis, breakers=(REDIS,)))


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


def _run(dependency: modules.Dependency, opened: set[str]) -> dict:
    started = time.perf_counter()
    result: dict = {"status": "ok", "critical": dependency.critical}
    try:
        dependency.check()
    except modules.Degraded as exc:
        result.update(status="degraded", detail=str(exc))
    except Exception as exc:
        result.update(status="fail", error=type(exc).__name__)
    result["ms"] = round((time.perf_counter() - started) * 1000, 1)
    tripped = modules.dependency_breakers_open(dependency, opened)
    if tripped:
        result["breakers_open"] = tripped
        if result["status"] == "ok":
            result["status"] = "degraded"
    return result


def readiness() -> dict:
    """Every check's outcome and every module's mode, and the verdict."""
    opened = open_breakers()
    checks = {d.name: _run(d, opened) for d in modules.dependencies()}
    status = "ok"
    for result in checks.values():
        if result["status"] == "fail" and result["critical"]:
            status = "fail"
        elif result["status"] != "ok" and status == "ok":
            status = "degraded"
    try:
        manual = modules.manual_modes()
    except Exception:  # the database is away: the checks say so already
        manual = {}
    mode_of = {
        m.name: modules.effective_mode(m.name, manual=manual, opened=opened)
        for m in modules.modules()
    }
    if status == "ok" and any(s.mode != modules.Mode.NORMAL for s in mode_of.values()):
        status = "degraded"
    return {
        "status": status,
        "checks": checks,
        "modules": {
            name: {
                "mode": str(setting.mode),
                **({"reason": setting.reason} if setting.reason else {}),
            }
            for name, setting in mode_of.items()
        },
    }


@never_cache
@require_GET
def ready(request: HttpRequest) -> JsonResponse:
    report = readiness()
    return JsonResponse(report, status=503 if report["status"] == "fail" else 200)
