"""MIDI clock: 24 ticks a quarter note set /rate to chars_per_beat x tempo; Start, Stop and
Continue play, pause and resume. The tempo is the median of the last beat's tick intervals,
smoothed again, so a jittery clock (USB, a busy laptop) does not wobble the rate."""
from __future__ import annotations

import statistics
import time
from collections import deque

from ..params import Param, ParamTree

PPQN = 24
SMOOTHING = 0.2   # weight of a new beat's tempo in the running estimate


PARAMS = [  # this module's table (tree.py builds the union)
    Param("/clock/follow", "bool", (), False, "follow MIDI clock: /rate = chars per beat x tempo"),
    Param("/clock/chars_per_beat", "float", (0.25, 64.0), 8.0, "characters per beat when following clock"),
]


class MidiClock:
    """Turns clock ticks and transport messages into parameter writes."""

    def __init__(self, params: ParamTree, clock=time.monotonic):
        self.params, self.clock = params, clock
        self.intervals: deque[float] = deque(maxlen=PPQN)
        self.last_tick: float | None = None
        self.ticks = 0
        self.bpm: float | None = None

    def tick(self) -> None:
        now = self.clock()
        if self.last_tick is not None and 0 < now - self.last_tick < 1.0:  # a gap of a second: restart
            self.intervals.append(now - self.last_tick)
        elif self.last_tick is not None:
            self.intervals.clear()
        self.last_tick = now
        self.ticks += 1
        if self.ticks % PPQN == 0 and len(self.intervals) == PPQN:  # once a beat
            self._update(60.0 / (statistics.median(self.intervals) * PPQN))

    def _update(self, bpm: float) -> None:
        self.bpm = bpm if self.bpm is None else self.bpm + SMOOTHING * (bpm - self.bpm)
        if self.params.get("/clock/follow"):
            rate = self.params.get("/clock/chars_per_beat") * self.bpm / 60.0
            if abs(rate - self.params.get("/rate")) > 0.005 * rate:
                self.params.set("/rate", rate, source="midi-clock")

    # Transport plays, pauses and resets only when the clock is followed (--midi-clock): a
    # sequencer or a drum machine on the same cable sends Start and Stop to everyone, and a piece
    # that merely listens to faders must not stop when a drummer does.
    def start(self) -> None:
        if self.params.get("/clock/follow"):
            self.params.set("/reset", source="midi-clock")
            self.params.set("/run", True, source="midi-clock")

    def stop(self) -> None:
        if self.params.get("/clock/follow"):
            self.params.set("/run", False, source="midi-clock")

    def resume(self) -> None:
        if self.params.get("/clock/follow"):
            self.params.set("/run", True, source="midi-clock")
