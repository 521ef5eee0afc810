"""Drift-free pacing for a loop that must tick at a rate: the engine's characters at /rate, the
projection's and the panel's frames at 60 a second (Xvfb has no vsync; spinning would steal the
engine's CPU)."""
from __future__ import annotations

import threading
import time


class Pacer:
    """Holds the loop to a rate by absolute deadlines (anchor + n / rate), so waits do not add up
    to drift; after a stall it re-anchors rather than rushing to catch up."""

    MAX_LAG = 0.25  # seconds behind before giving up on the missed deadlines

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self.reanchor()

    def reanchor(self) -> None:
        self.anchor, self.count, self.rate = self.clock(), 0, None

    def wait(self, rate: float, stop: threading.Event) -> None:
        """Sleep until the next tick (a character, a frame) is due; stop.wait, so stopping is immediate."""
        if rate <= 0:
            self.rate = None
            return
        if rate != self.rate:
            self.anchor, self.count, self.rate = self.clock(), 0, rate
        self.count += 1
        delay = self.anchor + self.count / rate - self.clock()
        if delay > 0:
            stop.wait(delay)
        elif -delay > self.MAX_LAG:
            self.anchor, self.count = self.clock(), 0
