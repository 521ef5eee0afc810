"""The panel's mixer geometry with many styles, as JSON: `python -m tests.gui.panel_layout_driver PORT SHOT`."""
from __future__ import annotations

import json
import sys
import time

from instrument.gui.client import EngineClient
from instrument.gui.panel import MIXER_W, Panel
from instrument.screen.theme import load_theme


def main(port: int, shot: str) -> dict:
    client = EngineClient(("127.0.0.1", port))
    assert client.wait_for_tree()
    panel = Panel(client, load_theme())
    dpg = panel.open()
    try:
        for _ in range(20):
            panel.step(dpg)
            time.sleep(1 / 60)
        rects = {}
        for name in panel.styles:
            for kind in ("fader", "learn"):
                tag = f"{kind}:/mix/{name}"
                (x, y), (w, h) = dpg.get_item_rect_min(tag), dpg.get_item_rect_size(tag)
                rects[tag] = [x, y, w, h]
        for tag in ("pad", "preset-list", "preset-name"):
            (x, y), (w, h) = dpg.get_item_rect_min(tag), dpg.get_item_rect_size(tag)
            rects[tag] = [x, y, w, h]
        panel.screenshot(shot)
        for _ in range(3):
            panel.step(dpg)
        return {"rects": rects, "mixer_w": MIXER_W, "pad_point": list(panel._pad_point)}
    finally:
        dpg.destroy_context()
        client.close()


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]), sys.argv[2])))
