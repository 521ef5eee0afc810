"""One small base class for every output: a thread that reads the engine's frames from its own
bounded subscription and hands them to `write`. A slow output drops frames, never text, and
never slows the engine."""
from __future__ import annotations

import logging
import threading

from ..engine import Engine, Frame

log = logging.getLogger("instrument.outputs")


class Sink:
    """Subclasses implement write(frames, text) and may override opened() / closed()."""

    name = "sink"
    maxlen = 64

    def __init__(self):
        self._thread: threading.Thread | None = None
        self.subscription = None

    def attach(self, engine: Engine) -> "Sink":
        self.subscription = engine.subscribe(self.maxlen)
        return self

    def start(self, engine: Engine) -> "Sink":
        self.attach(engine)
        self._thread = threading.Thread(target=self.run, name=self.name, daemon=True)
        self._thread.start()
        return self

    def run(self) -> None:
        """Read until the engine closes the subscription; an output's failure is logged, not fatal."""
        self.opened()
        try:
            while True:
                frames, text = self.subscription.read(timeout=0.1)
                if frames or text:
                    self.write(frames, text)
                elif self.subscription.closed:
                    break
        except Exception:
            log.exception("output %s failed; the engine plays on", self.name)
        finally:
            self.closed()

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def opened(self) -> None:
        pass

    def write(self, frames: list[Frame], text: str) -> None:
        raise NotImplementedError

    def closed(self) -> None:
        pass
