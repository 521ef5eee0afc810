"""Drives a real panel in its own process (Dear PyGui allows one window context per process) and
prints what it saw as JSON: `python -m tests.gui.panel_driver ENGINE_PORT SHOT.png OSCSEND`."""
from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

from instrument.gui.client import EngineClient
from instrument.gui.panel import Panel
from instrument.base.oscwire import decode, message
from instrument.screen.theme import load_theme


def query(port: int, address: str):
    """Ask the engine for a value, as any OSC client would."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(2)
        s.bind(("127.0.0.1", 0))
        s.sendto(message(address), ("127.0.0.1", port))
        [(_, args)] = decode(s.recvfrom(65536)[0])
        return args[0]


def main(port: int, shot: str, oscsend: str) -> dict:
    client = EngineClient(("127.0.0.1", port))
    assert client.wait_for_tree()
    panel = Panel(client, load_theme())
    dpg = panel.open()
    frames = lambda seconds: [panel.step(dpg) or time.sleep(1 / 60) for _ in range(int(seconds * 60))]

    def until(condition, seconds: float) -> None:
        """Draw frames (the panel takes in what arrived) until condition() holds or time is up."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not condition():
            frames(0.1)

    seen = {}
    try:
        frames(0.5)
        # the performer drags the bees fader: Dear PyGui sets the value and calls the callback
        dpg.set_value("fader:/mix/bees", 0.75)
        dpg.get_item_callback("fader:/mix/bees")("fader:/mix/bees", 0.75, dpg.get_item_user_data("fader:/mix/bees"))
        frames(0.3)
        seen["engine_bees"] = query(port, "/mix/bees")
        # another client (liblo's oscsend) moves a weight: the fader should follow through the echo
        subprocess.run([oscsend, "localhost", str(port), "/mix/ayes", "f", "0.25"], check=True, timeout=10)
        until(lambda: abs(dpg.get_value("fader:/mix/ayes") - 0.25) <= 1e-6, 5)
        seen["fader_ayes"] = dpg.get_value("fader:/mix/ayes")
        seen["rows"] = list(client.frame.rows.shape) if client.frame is not None else None
        # the bees are heard from the next word the mix writes; but a word may be long, and with
        # /phrase the ayes, if they write that word, may keep the text for a few more
        text = lambda: "".join(ch for ch, _ in client.text)
        until(lambda: "b" in text(), 10)
        seen["text"] = text()
        panel.screenshot(shot)
        frames(0.3)
        seen["fps"] = panel.frames_drawn
    finally:
        dpg.destroy_context()
        client.close()
    return seen


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]), sys.argv[2], sys.argv[3])))
