"""What the projection drivers share: a real projection window over a one-letter style, driven by a
script on a thread of its own while the window runs on the main thread (Dear PyGui: one context
per process, so each driver is a process of its own and prints what it saw as JSON)."""
from __future__ import annotations

import json
import sys
import threading
import time

from instrument.core.ensemble import Ensemble
from instrument.engine import Engine
from instrument.outputs.projection import Projection
from instrument.screen.theme import load_theme

from ..fakes import letter_model


def until(done, seconds: float = 60.0) -> None:
    """Wait for what the window does, not for a time a loaded machine may miss (a fixed 1.5 s
    failed 2 runs in 3 under load: software rendering slows to a few frames a second)."""
    deadline = time.monotonic() + seconds
    while not done() and time.monotonic() < deadline:
        time.sleep(0.02)


def drive(script, rate: float = 2000) -> dict:
    """Run script(engine, projection, seen) beside the window; stop both after it; what it saw."""
    engine = Engine(Ensemble([letter_model("a")], ["ayes"]))
    engine.params.set("/mix/ayes", 1.0)
    engine.params.set("/rate", rate)
    projection = Projection(engine.params, engine.names, load_theme(), width=1280, height=720)
    projection.attach(engine)
    seen: dict = {}

    def run() -> None:
        try:
            script(engine, projection, seen)
        finally:
            engine.stop()
            projection.stop()

    engine.start()
    threading.Thread(target=run, daemon=True).start()
    projection.run()
    return seen


def report(main) -> None:
    print(json.dumps(main(sys.argv[1])))
