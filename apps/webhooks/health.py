"""Webhook delivery in readiness: degraded while any endpoint's receiver keeps failing."""

from __future__ import annotations

from apps.core.modules import Dependency, register_dependency

from .services import GUARD_PREFIX


def _delivery() -> None:
    """Nothing to call: the failing receivers show as open guards (``breakers_open``)."""


def register() -> None:
    register_dependency(Dependency("webhooks", _delivery, breakers=(GUARD_PREFIX,)))
