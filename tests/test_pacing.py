"""The pacer: a new rate is heard at once, any rate in range is survivable, stop is immediate."""
from __future__ import annotations

import threading
import time

from instrument.base.pacing import Pacer


def _waits(rates: list, moves: list[tuple[float, float]], stop_after: float = 5.0) -> tuple[float, threading.Event]:
    """Seconds one wait took while `rates[0]` is moved to others at the given times."""
    pacer, wake, stop, rate = Pacer(), threading.Event(), threading.Event(), {"now": rates[0]}

    def mover():
        for at, value in moves:
            time.sleep(at)
            rate["now"] = value
            wake.set()
        time.sleep(stop_after)
        stop.set()
        wake.set()

    threading.Thread(target=mover, daemon=True).start()
    t = time.monotonic()
    pacer.wait(lambda: rate["now"], wake, stop)
    return time.monotonic() - t, stop


def test_a_slow_rate_moved_to_unpaced_ends_the_wait_at_once():
    took, _ = _waits([0.05], [(0.2, 0)])
    assert took < 1.0  # not the 20 s that 1 / 0.05 asked for


def test_a_slow_rate_moved_to_forty_is_heard_at_once():
    took, _ = _waits([0.05], [(0.2, 40.0)])
    assert took < 1.0


def test_a_rate_written_again_with_its_own_value_changes_nothing():
    took, _ = _waits([2.0], [(0.1, 2.0), (0.1, 2.0)])
    assert 0.4 < took < 0.8  # still half a second: the tick was not hurried by the rewrites


def test_a_vanishing_rate_neither_raises_nor_outlives_a_stop():
    took, stop = _waits([1e-11], [], stop_after=0.3)  # 1 / 1e-11 s is past what threading can wait
    assert stop.is_set() and took < 2.0
