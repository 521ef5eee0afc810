"""What the engine hands its readers: a Frame per step, through a Subscription each (bounded, so a
slow reader drops frames and never slows the engine; the text itself is never dropped)."""
from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from .params import Snapshot


@dataclass(frozen=True)
class Frame:
    """One step as the outputs see it. `omega` rows follow `active`; `lead` is the model that
    contributed most to the sampled character (for tinting). Primed text comes as frames with
    primed=True and no distributions."""

    step: int
    char: str
    pi: np.ndarray
    active: np.ndarray
    omega: np.ndarray | None = None
    rho: np.ndarray | None = None
    lead: int = -1
    primed: bool = False
    time: float = field(default_factory=time.monotonic)


class Subscription:
    """A reader's view: the latest `maxlen` frames (older ones are dropped for a slow reader) and
    the complete text since its last read (never dropped). With `snapshots`, also every snapshot
    of the parameters a step used that differs from the one before, with its step (never dropped:
    the recorder needs each). `nudge()` wakes a waiting reader for work handed to it from elsewhere."""

    def __init__(self, maxlen: int = 64, snapshots: bool = False):
        self._frames: deque[Frame] = deque(maxlen=maxlen)
        self._text: list[str] = []
        self._snapshots: list[tuple[int, Snapshot]] | None = [] if snapshots else None
        self._cond = threading.Condition()
        self._nudged = False
        self.dropped = 0
        self.closed = False

    @property
    def takes_snapshots(self) -> bool:
        return self._snapshots is not None

    def push_snapshot(self, step: int, snap: Snapshot) -> None:
        with self._cond:
            self._snapshots.append((step, snap))

    def snapshots(self) -> list[tuple[int, Snapshot]]:
        """(step, snapshot) for each change of the parameters since the last call, in order."""
        with self._cond:
            out, self._snapshots[:] = list(self._snapshots), []
            return out

    def nudge(self) -> None:
        with self._cond:
            self._nudged = True
            self._cond.notify_all()

    def wait_closed(self, timeout: float) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self.closed, timeout)

    def push(self, frame: Frame) -> None:
        with self._cond:
            if len(self._frames) == self._frames.maxlen:
                self.dropped += 1
            self._frames.append(frame)
            self._text.append(frame.char)
            self._cond.notify_all()

    def read(self, timeout: float | None = None) -> tuple[list[Frame], str]:
        """Frames and text since the last read; waits up to `timeout` for something new."""
        with self._cond:
            self._cond.wait_for(lambda: self._text or self._nudged or self.closed, timeout)
            frames, text = list(self._frames), "".join(self._text)
            self._frames.clear()
            self._text.clear()
            self._nudged = False
            return frames, text

    def close(self) -> None:
        with self._cond:
            self.closed = True
            self._cond.notify_all()
