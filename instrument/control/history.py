"""Undo and panic: the sound's recent states, so a performer can take back the last move, preset
or morph (/undo, a short history), or snap back to the last recalled preset (/panic), on cue.

A move is what changes the sound (the parameters tagged "sound": the mix, temperature, mode...)
from one source until it rests: a fader swept for two seconds, a preset, a morph's whole glide,
each one move. The state before each move is kept, the last DEPTH of them."""
from __future__ import annotations

import logging
import threading
import time
from collections import deque

from ..params import Param, ParamTree

log = logging.getLogger("instrument.history")

QUIET = 1.0  # seconds without a change that end a move
DEPTH = 32   # moves that can be taken back
EVENT = frozenset({"event", "surface"})

PARAMS = [  # this module's table (tree.py builds the union)
    Param("/undo", "trigger", (), None, "take back the last move of the sound (a fader, a preset, a morph); again for "
          "the one before, up to 32", EVENT),
    Param("/panic", "trigger", (), None, "back to the last recalled preset (or to how the piece began), at once", EVENT),
]


class History:
    def __init__(self, params: ParamTree, presets=None, clock=time.monotonic):
        """presets: where the last recalled preset is known and a morph is stopped (control/presets.py)."""
        self.params, self.presets, self.clock = params, presets, clock
        self.keys = set(params.tagged("sound"))
        snap = params.snapshot()
        self.start = {a: snap[a] for a in self.keys}  # how the piece began: /panic's state before any preset
        self._now = dict(self.start)  # the sound as the changes heard so far made it
        self.states: deque[dict] = deque(maxlen=DEPTH)
        self._last = (-float("inf"), None)  # when the last change came, and from where
        self._lock = threading.Lock()
        params.add_listener(self._heard)

    def _heard(self, address: str, value, source: str) -> None:
        if address == "/undo":
            self.undo()
        elif address == "/panic":
            self.panic()
        elif address in self.keys:
            with self._lock:
                now = self.clock()
                if source != "history" and (now - self._last[0] >= QUIET or source != self._last[1]):
                    self.states.append(dict(self._now))  # the sound before this move
                self._now[address] = value
                self._last = (now, source)

    def undo(self) -> None:
        with self._lock:
            state = self.states.pop() if self.states else None
        if state is None:
            log.info("undo: nothing to take back")
            return
        self._restore(state, "undo: the sound as it was before the last move")

    def panic(self) -> None:
        recalled = getattr(self.presets, "current_values", None)
        self._restore(recalled or self.start, f"panic: back to preset {self.presets.current!r}" if recalled
                      else "panic: back to how the piece began")

    def _restore(self, state: dict, news: str) -> None:
        if self.presets is not None:
            self.presets.stop_morph()  # a glide would go on overwriting what is restored
        self.params.set_many(state, source="history")  # one move, as a preset is
        log.info(news)
