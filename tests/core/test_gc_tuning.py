import gc

import pytest

from apps.core import gc_tuning


@pytest.fixture
def collector():
    """Nothing frozen to start with (a test that loaded ``config.wsgi`` tuned this process),
    and the collector as it was afterwards, whatever the test did."""
    threshold = gc.get_threshold()
    was_frozen = gc.get_freeze_count() > 0
    gc.unfreeze()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)
    if was_frozen:
        gc.freeze()


def test_a_tuned_process_collects_less_often_and_freezes_what_it_built(collector, settings):
    settings.GC_GEN0_THRESHOLD = 12_345
    older = gc.get_threshold()[1:]
    built_at_start = {"an object made while the process started": [1, 2, 3]}
    assert gc.get_freeze_count() == 0
    assert gc_tuning.tune()
    assert gc.get_threshold() == (12_345, *older)
    assert gc.get_freeze_count() > 0
    # What existed at start-up is out of every collection's walk.
    assert not any(obj is built_at_start for obj in gc.get_objects())


def test_zero_keeps_pythons_defaults(collector, settings):
    settings.GC_GEN0_THRESHOLD = 0
    before = gc.get_threshold()
    assert not gc_tuning.tune()
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
