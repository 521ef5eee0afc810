"""`instrument replay --live`: a recording played back at the pace it was played, with the console,
the projection and the voice following it as they followed the piece.

The recording says when each text line was written (its last character's step and the seconds
since the recording began: app/recording.py); between two of them the characters are spread
evenly, so a piece played at 12 characters a second replays at 12, a pause stays a pause and a
burst stays a burst. The moves land at the steps they took effect, as in any replay, so the text is
the same text.
"""
from __future__ import annotations

import threading
import time

import numpy as np

from .recording import Recording, ReplayError, replay

MAX_WAIT = 600.0  # seconds: the longest wait between two text lines played back (a hand-edited
                  # time of 10^12 would otherwise hold the replay for ever)


class ReplayStopped(ReplayError):
    """Ctrl-C or the projection window closed during a live replay."""


class Pace:
    """When each step is played: wait(step) returns at the recorded time of that step, counted from
    the first wait; stop() ends a wait at once (ReplayStopped)."""

    def __init__(self, times: list[tuple[int, float]]):
        if not times:
            raise ReplayError("it was recorded before recordings kept time (its text lines have no \"at\"): "
                              "`--live` cannot pace it; replay it without --live")
        times = sorted(times)
        steps = np.array([0] + [s for s, _ in times], dtype=np.float64)
        gaps = np.diff(np.array([0.0] + [t for _, t in times]))
        # a line written earlier than the one before it (hand-edited) waits nothing; a long one waits MAX_WAIT
        seconds = np.concatenate([[0.0], np.cumsum(np.clip(gaps, 0.0, MAX_WAIT))])
        self._steps, self._seconds = steps, seconds
        self._start: float | None = None
        self._stopped = threading.Event()

    def at(self, step: int) -> float:
        """Seconds from the start at which `step` was played (after the last timed line: at once)."""
        return float(np.interp(step, self._steps, self._seconds))

    def wait(self, step: int) -> None:
        now = time.monotonic()
        if self._start is None:
            self._start = now
        if self._stopped.wait(max(0.0, self._start + self.at(step) - now)):
            raise ReplayStopped(f"stopped at step {step}")

    def stop(self) -> None:
        self._stopped.set()


def play_back(engine, rec: Recording, outputs) -> str:
    """Replay `rec` at its pace with the outputs asked for (an OutputSettings: speak, speak_to,
    project, fullscreen, theme, voice, voices), the text on the console as it comes; returns the
    text written. The engine steps on a thread of its own; the main thread holds the projection
    window (it must) or the console, so Ctrl-C or closing the window stops the replay
    (ReplayStopped)."""
    from ..outputs.console import Console
    from . import parts

    pace = Pace(rec.times)
    speech = parts.start_speech(engine, outputs) if outputs.speak or outputs.speak_to else None
    projection = parts.attach_projection(engine, outputs) if outputs.project else None
    if projection is not None and speech is not None:
        projection.caption = lambda: speech.word
    console = Console(names=engine.names, params=engine.params).attach(engine)
    result: dict = {}

    def play() -> None:
        try:
            result["text"] = replay(engine, rec, pace)
        except BaseException as e:  # handed to the main thread, which says it
            result["error"] = e
        finally:
            engine.close_subscriptions()

    player = threading.Thread(target=play, name="replay", daemon=True)
    player.start()
    try:
        if projection is not None:
            console.start(engine)
            projection.run()  # returns when the piece ends or the window is closed
        else:
            console.run()
    except KeyboardInterrupt:
        pass
    finally:
        pace.stop()
        player.join()
        console.join(2.0)
        if speech is not None:
            speech.join()
    if "error" in result:
        raise result["error"]
    return result["text"]
