"""Who gets the CPU first: the engine (the music) before the outputs that only show or speak it.

On a machine with few cores the projection's software rendering and the voice's synthesis compete
with the models' step. They run at a lower priority (a higher nice value), so they take what the
engine leaves rather than what it needs; no privilege is needed to lower one's own priority.
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
