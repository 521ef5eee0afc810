"""A real projection window with a caption (the word being spoken) that changes, in its own process
(Dear PyGui: one context per process); prints what it saw as JSON:
`python -m tests.outputs.caption_driver DIR`."""
from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

import dearpygui.dearpygui as dpg

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
    word = ["whale"]
    projection.caption = lambda: word[0]
    seen = {}

    def script() -> None:
        def until(done, seconds: float = 60.0) -> None:
            deadline = time.monotonic() + seconds
            while not done() and time.monotonic() < deadline:
                time.sleep(0.02)

        until(lambda: projection._captioned is not None and projection._captioned[0] == "whale"
              and len(projection.layout.lines) > 20)  # the page full of text above it
        engine.params.set("/run", False)
        drawn = projection.frames_drawn
        until(lambda: projection.frames_drawn >= drawn + 3)
        projection.screenshot(str(out / "whale.png"))
        until(lambda: (out / "whale.png").exists())
        seen["whale_items"] = len(dpg.get_item_children("caption", 2) or [])
        seen["caption_y"] = projection._captioned[1][1]
        word[0] = ""
        until(lambda: projection._captioned[0] == "")
        seen["silent_items"] = len(dpg.get_item_children("caption", 2) or [])
        engine.stop()
        projection.stop()

    engine.start()
    threading.Thread(target=script, daemon=True).start()
    projection.run()
    return seen


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))
