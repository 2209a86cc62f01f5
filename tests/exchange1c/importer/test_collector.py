"""The collector's settings while an import runs (exchange1c/importer/collector.py)."""

import gc
import threading
import weakref

from exchange1c.importer import collector


class _Node:
    pass


def test_settings_hold_while_any_import_runs_and_are_restored_by_the_last():
    before, frozen = gc.get_threshold(), gc.get_freeze_count()
    entered, release = threading.Event(), threading.Event()

    def other_import():
        with collector.bulk():
            entered.set()
            release.wait(10)

    thread = threading.Thread(target=other_import)
    thread.start()
    assert entered.wait(10)
    with collector.bulk():
        assert gc.get_threshold()[0] == collector.YOUNG_THRESHOLD
        assert gc.get_freeze_count() >= frozen
        release.set()
        thread.join(10)
        assert gc.get_threshold()[0] == collector.YOUNG_THRESHOLD  # the other left first: still in force
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == frozen


def test_garbage_cycles_are_still_collected_during_an_import():
    with collector.bulk():
        first = _Node()
        first.me = first
        alive = weakref.ref(first)
        del first
        for _ in range(3 * collector.YOUNG_THRESHOLD):  # cycles, as an import might leave behind
            node = _Node()
            node.me = node
        del node
        assert alive() is None  # collected without anyone calling gc.collect()
