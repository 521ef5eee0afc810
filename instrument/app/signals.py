"""Stopping cleanly on `kill` as on Ctrl-C."""
from __future__ import annotations

import signal


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def interrupt_on_kill() -> None:
    """SIGTERM and SIGINT both raise KeyboardInterrupt in the main thread, so `kill` ends a run the
    way Ctrl-C does (checkpoint saved, recording and WAV closed, terminal restored). A job started
    in the background has SIGINT ignored from birth; it is restored here too."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
