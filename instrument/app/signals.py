"""Stopping cleanly on `kill` as on Ctrl-C."""
from __future__ import annotations

import signal
import threading


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def interrupt_on_kill() -> None:
    """SIGTERM and SIGINT both raise KeyboardInterrupt in the main thread, so `kill` ends a run the
    way Ctrl-C does (checkpoint saved, recording and WAV closed, terminal restored). A job started
    in the background has SIGINT ignored from birth; it is restored here too."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)


def stop_on_kill() -> threading.Event:
    """SIGTERM and SIGINT set the event this returns, and raise nothing: for a program whose main
    thread spends its time in C (the panel's Dear PyGui), where a KeyboardInterrupt raised at any
    bytecode can land in a C extension's import (a SystemError, exit 1) or in a window callback
    (swallowed: the panel played on), found by killing a starting panel at random moments. The
    program checks the event between its phases and in its loop. SIGINT ignored from birth (a job
    started in the background) is heard again."""
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda signum, frame: stop.set())
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    return stop
