"""Ableton Link: the instrument joins the session of Live, a phone app or any Link peer on the
network. While it follows (`--link`, /clock/follow), /rate is chars per beat x the session's tempo
and the session's start/stop plays and pauses it (when a peer shares start/stop); a tempo set
here (/clock/bpm) is proposed to the whole session, as Link wants of every peer. /link/peers and
/link/tempo say what the session is, for the status line, the panel and any OSC client.

The binding is LinkPython-extern (PyPI: wheels for Linux, macOS and Windows, the full C++ API,
synchronous): aalink is the other maintained one, but it is built around an asyncio loop and this
instrument is threads. The session is read 20 times a second on a thread of its own; Link's own
callbacks are not used, so no foreign thread ever calls into Python.
"""
from __future__ import annotations

import logging
import math
import threading

from ..params import Param, ParamTree
from .clock import follow_tempo

log = logging.getLogger("instrument.link")

POLL = 0.05  # seconds between reads of the session
QUANTUM = 4.0  # beats to a bar, for the phase Link keeps in common

STATUS = frozenset({"status"})
PARAMS = [  # this module's table (tree.py builds the union)
    Param("/link/on", "bool", (), False, "take part in the Ableton Link session (when started with --link)"),
    Param("/link/peers", "int", (0, 10_000), 0, "other Link peers in the session (reported)", STATUS),
    Param("/link/tempo", "float", (20.0, 999.0), 120.0, "the Link session's tempo, beats per minute (reported; "
          "set /clock/bpm to change it)", STATUS),
]


class LinkUnavailable(RuntimeError):
    pass


def _new_link(bpm: float):
    from ..base.extras import missing

    problem = missing("link")
    if problem:
        raise LinkUnavailable(problem)
    import link

    return link.Link(bpm)


class LinkSession:
    """The instrument as a Link peer: session -> parameters on its own thread, /clock/bpm -> session."""

    def __init__(self, params: ParamTree, factory=_new_link):
        self.params = params
        self.link = factory(params.get("/clock/bpm"))
        self.link.startStopSyncEnabled = True
        self._playing: bool | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="link", daemon=True)
        params.add_listener(self._moved)

    def start(self) -> "LinkSession":
        self.params.set("/link/on", True, source="link")
        self.link.enabled = True
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()  # from now on a move here no longer reaches the session
        if self._thread.is_alive():
            self._thread.join(1.0)
        self.link.enabled = False

    def _moved(self, address: str, value, source: str) -> None:
        """A tempo set here goes to the session; /link/on joins or leaves it."""
        if source == "link" or self._stop.is_set():
            return
        if address == "/clock/bpm" and self.link.enabled:
            state = self.link.captureAppSessionState()
            state.setTempo(float(value), self.link.clock().micros())
            self.link.commitAppSessionState(state)
        elif address == "/link/on":
            self.link.enabled = bool(value)

    def _run(self) -> None:
        while not self._stop.wait(POLL):
            try:
                self._read()
            except Exception as e:  # Link itself failing must not take the piece down
                log.warning("Link: %s; the instrument plays on without it", e)
                return

    def _read(self) -> None:
        if not self.link.enabled:
            return
        state = self.link.captureAppSessionState()
        peers, tempo, playing = self.link.numPeers(), state.tempo(), state.isPlaying()
        if peers != self.params.get("/link/peers"):
            self.params.set("/link/peers", peers, source="link")
        if abs(tempo - self.params.get("/link/tempo")) > 0.005:
            self.params.set("/link/tempo", tempo, source="link")
            follow_tempo(self.params, tempo, "link")
        if playing != self._playing:
            if self._playing is not None and self.params.get("/clock/follow"):
                self.params.set("/run", playing, source="link")
            self._playing = playing

    def until_beat(self) -> float | None:
        """Seconds to the session's next beat (for a voice that starts phrases on the beat)."""
        if not self.link.enabled:
            return None
        state = self.link.captureAppSessionState()
        now = self.link.clock().micros()
        beat = state.beatAtTime(now, QUANTUM)
        return max(0.0, (state.timeAtBeat(math.floor(beat) + 1, QUANTUM) - now) / 1e6)
