"""The tempo (/clock/bpm) and MIDI clock in: 24 ticks a quarter note set the tempo, and while the
clock is followed /rate = chars_per_beat x tempo; Start, Stop and Continue play, pause and resume.
The tempo is fitted to the ticks' times over the last beats (a least-squares line through tick
number against arrival time, as Link and DAWs estimate a clock), not read from the gaps between
ticks: JACK delivers ticks in bunches, one bunch a period (1024 frames at 48 kHz: 21.3 ms), so the
median gap was the period and a steady 90 bpm read as 113-116. A line through four beats of ticks
is as steady under jitter and bunching as the clock is over those beats. Ableton Link (link.py)
sets the tempo the same way."""
from __future__ import annotations

import time
from collections import deque

import numpy as np

from ..params import Param, ParamTree

PPQN = 24
WINDOW = 4 * PPQN  # ticks the tempo is fitted over: four beats (2 s at 120 bpm)
MISSED = 1.8       # a gap this many fitted tick periods long lost ticks (JACK's bunches reach about 1.5)


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


def fitted_period(ticks) -> float:
    """Seconds a tick: the slope of the least-squares line through (tick number, arrival time)."""
    n, t = np.asarray(ticks, dtype=np.float64).T
    n = n - n.mean()
    return float(n @ (t - t.mean()) / (n @ n))


class MidiClock:
    """Turns clock ticks and transport messages into parameter writes."""

    def __init__(self, params: ParamTree, clock=time.monotonic):
        self.params, self.clock = params, clock
        self.times: deque[tuple[int, float]] = deque(maxlen=WINDOW)  # (tick number, arrival) of the last ticks
        self.number = 0  # the clock's tick count, ticks it lost included
        self.last_tick: float | None = None
        self.ticks = 0
        self.bpm: float | None = None
        self.period: float | None = None  # seconds a tick, as fitted

    def tick(self) -> None:
        now = self.clock()
        gap = None if self.last_tick is None else now - self.last_tick
        if gap is not None and not 0 <= gap < 1.0:  # a gap of a second: restart
            self.times.clear()
        elif gap is not None and self.period and gap > MISSED * self.period:
            self.number += round(gap / self.period) - 1  # ticks lost on the way: their numbers are kept
        self.number += 1
        self.times.append((self.number, now))
        self.last_tick = now
        self.ticks += 1
        if self.ticks % PPQN == 0 and len(self.times) > PPQN:  # once a beat, from a beat of ticks on
            self.period = fitted_period(self.times)
            if self.period > 0:
                self.bpm = 60.0 / (self.period * PPQN)
                follow_tempo(self.params, self.bpm, "midi-clock")

    def until_beat(self) -> float | None:
        """Seconds to the next beat of the clock being followed (for /speech/on_beat), or None
        without a steady clock. Beats are counted from the last Start."""
        if not self.params.get("/clock/follow") or self.period is None or len(self.times) <= PPQN:
            return None
        remaining = (PPQN - self.ticks % PPQN) % PPQN
        return max(0.0, self.last_tick + remaining * self.period - self.clock())

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
