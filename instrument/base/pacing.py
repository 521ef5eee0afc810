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
    SLICE = 3600.0  # longest single wait: threading refuses timeouts past ~292 years (a rate of 1e-11)

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self.reanchor()

    def reanchor(self) -> None:
        self.anchor, self.count, self.rate = self.clock(), 0, None

    def wait(self, rate, wake: threading.Event, stop: threading.Event | None = None) -> None:
        """Sleep until the next tick (a character, a frame) is due. `rate` is a number, or a
        function read again whenever `wake` is set: a new rate is heard at once, the next tick
        coming 1 / new rate after the last (a rate of 0.05 moved to 40 does not wait out its 20 s),
        and a rate written again with the same value changes nothing. `stop` (default: `wake`)
        ends the wait."""
        read = rate if callable(rate) else (lambda: rate)
        stop = stop or wake
        r = read()
        if r <= 0:
            self.rate = None
            return
        if r != self.rate:
            self.anchor, self.count, self.rate = self.clock(), 0, r
        self.count += 1
        delay = self.anchor + self.count / r - self.clock()
        if delay <= 0:
            if -delay > self.MAX_LAG:
                self.anchor, self.count = self.clock(), 0
            return
        while delay > 0 and not stop.is_set():
            if wake.wait(min(delay, self.SLICE)) and not stop.is_set():
                wake.clear()
                new = read()
                if new <= 0:
                    self.rate = None
                    return
                if new != self.rate:  # the tick in progress now comes 1 / new after the last one
                    last = self.anchor + (self.count - 1) / self.rate
                    self.anchor, self.count, self.rate = last, 1, new
            delay = self.anchor + self.count / self.rate - self.clock()
