"""Logging that a flood cannot turn into a flood of lines: the first problem is logged at once,
the rest are counted and summarised at most once per interval."""
from __future__ import annotations

import logging
import threading
import time


class RateLimitedLog:
    """log(message) prints immediately if the last line was long enough ago, else counts it."""

    def __init__(self, logger: logging.Logger, what: str, interval: float = 2.0, clock=time.monotonic):
        self.logger, self.what, self.interval, self.clock = logger, what, interval, clock
        self._last = -float("inf")
        self._held = 0
        self._lock = threading.Lock()
        self.total = 0

    def log(self, message: str) -> None:
        with self._lock:
            self.total += 1
            now = self.clock()
            if now - self._last < self.interval:
                self._held += 1
                return
            held, self._held, self._last = self._held, 0, now
        suffix = f" (and {held} more {self.what} since the last report)" if held else ""
        self.logger.warning("%s%s", message, suffix)
