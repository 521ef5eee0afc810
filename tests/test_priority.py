"""The panel's process runs on idle time: its threads, and the threads they start (the software
renderer's), yield to the engine at once."""
from __future__ import annotations

import os
import threading

import pytest

from instrument.screen.priority import idle_priority

pytestmark = pytest.mark.skipif(not hasattr(os, "SCHED_IDLE"), reason="no SCHED_IDLE here")


def test_idle_priority_covers_the_calling_thread_and_the_threads_it_starts_later():
    seen = {}

    def panel_thread():
        idle_priority()
        seen["itself"] = os.sched_getscheduler(0)
        renderer = threading.Thread(target=lambda: seen.update(started_later=os.sched_getscheduler(0)))
        renderer.start()
        renderer.join()

    t = threading.Thread(target=panel_thread)
    t.start()
    t.join()
    assert seen == {"itself": os.SCHED_IDLE, "started_later": os.SCHED_IDLE}
    assert os.sched_getscheduler(0) != os.SCHED_IDLE  # other threads keep their policy
