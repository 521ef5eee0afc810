"""A real projection window blanked, shown again, then cleared, in its own process (Dear PyGui:
one context per process); prints what it saw as JSON: `python -m tests.outputs.blank_driver DIR`."""
from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

from instrument.core.ensemble import Ensemble
from instrument.engine import Engine
from instrument.outputs.projection import Projection
from instrument.screen.theme import load_theme

from ..fakes import letter_model


def main(folder: str) -> dict:
    out = Path(folder)
    engine = Engine(Ensemble([letter_model("a")], ["ayes"]))
    engine.params.set("/mix/ayes", 1.0)
    engine.params.set("/rate", 2000)
    projection = Projection(engine.params, engine.names, load_theme(), width=1280, height=720)
    projection.attach(engine)
    seen = {}

    def script() -> None:
        def until(done, seconds: float = 60.0) -> None:
            deadline = time.monotonic() + seconds
            while not done() and time.monotonic() < deadline:
                time.sleep(0.02)

        def shot(name: str) -> None:
            drawn = projection.frames_drawn
            until(lambda: projection.frames_drawn >= drawn + 3)
            projection.screenshot(str(out / name))
            until(lambda: (out / name).exists())

        until(lambda: len(projection.layout.lines) > 20)
        engine.params.set("/run", False)
        shot("text.png")
        engine.params.set("/project/blank", True)
        shot("blank.png")
        engine.params.set("/project/blank", False)
        shot("again.png")
        engine.params.set("/project/clear")
        shot("cleared.png")
        seen["lines_after_clear"] = len(projection.layout.lines)
        engine.stop()
        projection.stop()

    engine.start()
    threading.Thread(target=script, daemon=True).start()
    projection.run()
    return seen


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))
