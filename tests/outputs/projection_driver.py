"""Drives a real projection window in its own process (Dear PyGui: one context per process) while
/project/size moves, and prints what it saw as JSON: `python -m tests.outputs.projection_driver DIR`."""
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
    engine.params.set("/rate", 3000)  # enough text at 20 px to fill every line of the window
    projection = Projection(engine.params, engine.names, load_theme(), width=1280, height=720)
    projection.attach(engine)
    seen = {}

    def script() -> None:
        def until(done, seconds: float = 60.0) -> None:
            """Wait for what the window does, not for a time a loaded machine may miss (a fixed
            1.5 s failed 2 runs in 3 under load: software rendering slows to a few frames a second)."""
            deadline = time.monotonic() + seconds
            while not done() and time.monotonic() < deadline:
                time.sleep(0.02)

        def settle(size: int, shot: str | None = None) -> None:
            engine.params.set("/project/size", size)
            until(lambda: projection._font_size == size and projection._advance is not None)
            drawn = projection._font_frames
            until(lambda: projection._font_frames >= drawn + 3)  # frames drawn with the measured width
            if shot:
                projection.screenshot(str(out / shot))
                until(lambda: (out / shot).exists())

        settle(20)
        engine.params.set("/run", False)  # what is on the screen now stays: only the size changes it
        settle(80, "big.png")
        seen["big_columns"], seen["big_advance"] = projection.layout.columns, projection._advance
        slots = (720 - 2 * 40) // int(80 * 1.25)  # the lines 80 px text has room for
        seen["stale_items"] = sum(len(dpg.get_item_children(f"page/line-{k}", 2) or [])
                                  for k in range(slots, 60) if dpg.does_item_exist(f"page/line-{k}"))
        settle(20, "small.png")
        seen["small_columns"], seen["small_advance"] = projection.layout.columns, projection._advance
        engine.stop()
        projection.stop()

    engine.start()
    threading.Thread(target=script, daemon=True).start()
    projection.run()
    return seen


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))
