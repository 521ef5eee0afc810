"""The tempo (/clock/bpm) and MIDI clock in: 24 ticks a quarter note set the tempo, and while the
clock is followed /rate = chars_per_beat x tempo; Start, Stop and Continue play, pause and resume.
The tempo is the median of the last beat's tick intervals, smoothed again, so a jittery clock
(USB, a busy laptop) does not wobble the rate. Ableton Link (link.py) sets the tempo the same way."""
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
    Param("/clock/bpm", "float", (20.0, 999.0), 120.0, "the tempo: set by the MIDI clock or the Link session "
          "being followed, or by you (then proposed to the Link session); the MIDI clock out plays it"),
]


def follow_tempo(params: ParamTree, bpm: float, source: str) -> None:
    """A tempo heard from a clock or a Link session: it is the tempo now, and while the clock is
    followed the rate is chars per beat x tempo (written only when it moves by more than 0.5%)."""
    if abs(bpm - params.get("/clock/bpm")) > 0.005:
        params.set("/clock/bpm", bpm, source=source)
    if params.get("/clock/follow"):
        rate = params.get("/clock/chars_per_beat") * bpm / 60.0
        if abs(rate - params.get("/rate")) > 0.005 * rate:
            params.set("/rate", rate, source=source)


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
        follow_tempo(self.params, self.bpm, "midi-clock")

    def until_beat(self) -> float | None:
        """Seconds to the next beat of the clock being followed (for /speech/on_beat), or None
        without a steady clock. Beats are counted from the last Start."""
        if not self.params.get("/clock/follow") or self.last_tick is None or len(self.intervals) < PPQN:
            return None
        remaining = (PPQN - self.ticks % PPQN) % PPQN
        return max(0.0, self.last_tick + remaining * statistics.median(self.intervals) - self.clock())

    # Transport plays, pauses and resets only when the clock is followed (--midi-clock): a
    # sequencer or a drum machine on the same cable sends Start and Stop to everyone, and a piece
    # that merely listens to faders must not stop when a drummer does.
    def start(self) -> None:
        self.ticks = 0  # the next tick is the first of beat one
        if self.params.get("/clock/follow"):
            self.params.set("/reset", source="midi-clock")
            self.params.set("/run", True, source="midi-clock")

    def stop(self) -> None:
        if self.params.get("/clock/follow"):
            self.params.set("/run", False, source="midi-clock")

    def resume(self) -> None:
        if self.params.get("/clock/follow"):
            self.params.set("/run", True, source="midi-clock")
