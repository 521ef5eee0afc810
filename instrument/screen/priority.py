"""Who gets the CPU first: the engine (the music) before the outputs that only show or speak it.

On a machine with few cores the projection's software rendering and the voice's synthesis compete
with the models' step. They run at a lower priority (a higher nice value), so they take what the
engine leaves rather than what it needs; the panel, a process of its own, runs at idle priority.
No privilege is needed to lower one's own priority.
"""
from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading

log = logging.getLogger("instrument")

OUTPUT_NICENESS = 10  # nice 10 against the engine's 0: about a tenth of a contended core


def one_software_renderer_thread() -> None:
    """Where OpenGL falls back to software (Mesa's llvmpipe: no GPU, a VM, Xvfb), it renders
    with a thread per core by default and so competes with the engine on every core. One thread
    draws a text window at 60 fps and leaves a core to the models (measured in
    docs/performance.md). A GPU driver ignores this; a value set by the user is kept."""
    os.environ.setdefault("LP_NUM_THREADS", "1")


def _set(tid: int, value: int) -> None:
    try:
        os.setpriority(os.PRIO_PROCESS, tid, value)
    except OSError as e:  # raising it back needs privilege (RLIMIT_NICE): then it stays lowered
        log.debug("could not set the nice value of %s to %d: %s", threading.current_thread().name, value, e)


def idle_priority() -> None:
    """The calling thread, and the threads it starts from now on (the software renderer's), run
    only on what the engine leaves idle: Linux's SCHED_IDLE, which yields to any other task at
    once. For the panel, in its own process: beside an unpaced engine on two cores, at nice 19 the
    engine kept 75% of its characters, at SCHED_IDLE 92% (docs/performance.md). Not for threads
    of the engine's own process: one of them starved while holding the GIL would stall the engine.
    Where there is no SCHED_IDLE, the lowest priority instead."""
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):
        with contextlib.suppress(OSError):
            os.nice(19)


@contextlib.contextmanager
def lowered_priority(niceness: int = OUTPUT_NICENESS):
    """The calling thread runs `niceness` lower inside the block (Linux, where nice values are per
    thread; threads started inside inherit it). Elsewhere it changes nothing."""
    if not sys.platform.startswith("linux"):
        yield
        return
    tid = threading.get_native_id()
    before = os.getpriority(os.PRIO_PROCESS, tid)
    _set(tid, min(19, before + niceness))
    try:
        yield
    finally:
        _set(tid, before)
