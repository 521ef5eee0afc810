"""MIDI-learn: arm a target, and the next control that really moves is bound to it.

"Really moves": a pad or key pressed, or a controller whose value travels at least MIN_TRAVEL
steps within a second. One jittery message from a loose fader does not count.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from .mapping import Binding

MIN_TRAVEL = 3     # of 127
WINDOW = 1.0       # seconds in which the travel must happen


@dataclass
class Learner:
    clock: object = time.monotonic
    target: str | None = None
    deadline: float = 0.0
    _first: dict = field(default_factory=dict)   # control key -> (first value, when)

    def arm(self, target: str, timeout: float = 10.0) -> None:
        self.target, self.deadline = target, self.clock() + timeout
        self._first.clear()

    def cancel(self) -> None:
        self.target = None
        self._first.clear()

    @property
    def armed(self) -> bool:
        return self.target is not None

    def expired(self) -> bool:
        """True once, when an armed learn runs out of time (it is then disarmed)."""
        if self.target is not None and self.clock() > self.deadline:
            self.cancel()
            return True
        return False

    def feed(self, kind: str, channel: int, number: int, value: int) -> Binding | None:
        """A control event (kind 'cc' or 'note'); the Binding once a real move is seen."""
        if self.target is None or self.expired():
            return None
        if kind == "note":
            if value > 0:
                return self._bind(Binding(channel=channel, note=number, target=self.target,
                                          mode="momentary", soft_takeover=False))
            return None
        now = self.clock()
        key = (channel, number)
        first = self._first.get(key)
        if first is None or now - first[1] > WINDOW:
            self._first[key] = (value, now)
            return None
        if abs(value - first[0]) >= MIN_TRAVEL:
            return self._bind(Binding(channel=channel, cc=number, target=self.target,
                                      mode="absolute", soft_takeover=True))
        return None

    def _bind(self, binding: Binding) -> Binding:
        self.cancel()
        return binding
