"""Drives a real projection window while /project/size moves, and prints what it saw as JSON:
`python -m tests.outputs.projection_driver DIR`."""
from __future__ import annotations

from pathlib import Path

import dearpygui.dearpygui as dpg

from .window_driving import drive, report, until


def main(folder: str) -> dict:
    out = Path(folder)

    def script(engine, projection, seen) -> None:
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

    return drive(script, rate=3000)  # enough text at 20 px to fill every line of the window


if __name__ == "__main__":
    report(main)
