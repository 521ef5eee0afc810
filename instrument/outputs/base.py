"""One small base class for every output, and one threading model: each output is one thread of
its own that reads the engine's frames from its own bounded subscription and hands them to
`write`. A slow output drops frames, never text, and never slows the engine.

Work an output is handed from elsewhere (an echo of a fader move, a phrase still to speak, a
change of the parameters to record) is done in `tend`, on the same thread: the giver only notes
it and nudges the subscription. So no output starts a second thread, and no lock is held
across a write. Window outputs, which must run on the main thread, have their own base
(window.py)."""
from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from ..frames import Frame

if TYPE_CHECKING:  # the engine imports the tree, which imports the outputs: only for the hints
    from ..engine import Engine

log = logging.getLogger("instrument.outputs")

IDLE = 0.1  # seconds a sink waits for text before it looks at its other work anyway


class Sink:
    """Subclasses implement write(frames, text) and may override opened(), tend(), patience()
    and closed()."""

    name = "sink"
    maxlen = 64
    snapshots = False  # whether the sink is handed each change of the parameters (the recorder)

    def __init__(self):
        self._thread: threading.Thread | None = None
        self._engine: Engine | None = None
        self.subscription = None

    def attach(self, engine: Engine) -> "Sink":
        """Subscribe (once: attaching again keeps the subscription there is)."""
        if self.subscription is None:
            self._engine = engine
            self.subscription = engine.subscribe(self.maxlen, self.snapshots)
        return self

    def start(self, engine: Engine) -> "Sink":
        self.attach(engine)
        self._thread = threading.Thread(target=self.run, name=self.name, daemon=True)
        self._thread.start()
        return self

    def run(self) -> None:
        """Read until the engine closes the subscription and nothing is left to tend; an output's
        failure is logged, not fatal, and the failed output unsubscribes (the engine does not keep
        text for a reader that is gone)."""
        try:
            self.opened()
            while True:
                closing = self.subscription.closed  # before the read: then the read has the last text
                frames, text = self.subscription.read(timeout=self.patience())
                if frames or text:
                    self.write(frames, text)
                busy = self.tend()
                if closing and not text and not busy:
                    break
        except Exception:
            log.exception("output %s failed; the engine plays on", self.name)
        finally:
            if self._engine is not None:
                self._engine.unsubscribe(self.subscription)
            try:
                self.closed()
            except Exception:
                log.exception("output %s failed as it closed", self.name)

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def opened(self) -> None:
        """On the sink's thread, before the first read."""

    def write(self, frames: list[Frame], text: str) -> None:
        raise NotImplementedError

    def tend(self) -> bool:
        """Other work, after each read; True while some is left (the sink is not done at close)."""
        return False

    def patience(self) -> float:
        """How long the next read may wait for text before tend() is due."""
        return IDLE

    def closed(self) -> None:
        """On the sink's thread, after the last read."""
