"""A real projection window with a caption (the word being spoken) that changes:
`python -m tests.outputs.caption_driver DIR`."""
from __future__ import annotations

from pathlib import Path

import dearpygui.dearpygui as dpg

from .window_driving import drive, report, until


def main(folder: str) -> dict:
    out, word = Path(folder), ["whale"]

    def script(engine, projection, seen) -> None:
        projection.caption = lambda: word[0]
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

    return drive(script)


if __name__ == "__main__":
    report(main)
