"""The garbage collector of a long-lived process: a web worker, a Celery pool process.

CPython starts a collection of its youngest generation every 700 net allocations of
container objects, and now and then one of the whole heap. A relay batch allocates hundreds
of thousands of them (rows, envelopes, model instances, query objects) that live until the
batch ends: the collector walked them again and again, 11-13 % of a drain's time
(``docs/benchmarks.md``). A process that tunes itself here collects the young generation
every ``GC_GEN0_THRESHOLD`` allocations instead, and freezes what it built while starting
(modules, settings, URL patterns, templates' code: never garbage) out of every collection.
"""

from __future__ import annotations

import gc

from django.conf import settings


def tune() -> bool:
    """Tune this process's collector as ``GC_GEN0_THRESHOLD`` says (0: Python's defaults).
    Call it once the process has started, before its first request or task."""
    threshold = settings.GC_GEN0_THRESHOLD
    if threshold <= 0:
        return False
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(threshold, older, oldest)
    return True
