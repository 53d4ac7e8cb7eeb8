"""Real concurrency for the commerce tests: threads with their own database connections in
acme, released together behind a barrier."""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import connections
from django_tenants.utils import schema_context

from apps.commerce.models import Location
from apps.core.errors import PlatformError


def race(contenders: list[Callable[[], object]]) -> list[tuple]:
    """Run each contender in its own thread in acme, all released at once.

    Returns one outcome per contender, in order: ``("ok", result)``, ``("refused", the
    domain error's class name)`` or ``("error", repr)`` for anything else (a deadlock, an
    integrity error: what must never reach a user).
    """
    barrier = threading.Barrier(len(contenders))
    outcomes: list[tuple] = [("not run",)] * len(contenders)

    def run(index: int, contender: Callable[[], object]) -> None:
        try:
            with schema_context("acme"):
                Location.objects.exists()  # connected, on acme's search path, before the start
                barrier.wait(timeout=10)
                try:
                    outcomes[index] = ("ok", contender())
                except PlatformError as refused:
                    outcomes[index] = ("refused", type(refused).__name__)
        except Exception as error:  # reported, not swallowed: the assertion shows it
            outcomes[index] = ("error", repr(error))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=item) for item in enumerate(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    return outcomes
