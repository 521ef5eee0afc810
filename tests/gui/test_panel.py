"""The panel under Xvfb against an engine in its own process, over OSC only."""
from __future__ import annotations

import socket
import subprocess
import sys
import time

import pytest

from instrument.gui.client import EngineClient
from instrument.gui.panel import Panel
from instrument.oscwire import decode, message
from instrument.theme import load_theme

from ..fakes import write_letter_models
from ..realparts import free_udp_port, instrument, require, start_xvfb


@pytest.fixture
def display(monkeypatch):
    proc, name = start_xvfb()
    monkeypatch.setenv("DISPLAY", name)
    yield name
    proc.terminate()
    proc.wait(5)


@pytest.fixture
def engine(tmp_path):
    models = write_letter_models(tmp_path / "models", {"ayes": "a", "bees": "b"})
    port = free_udp_port()
    proc = instrument("play", "--mix", "ayes=1", "--rate", "100", "--osc-listen", f"127.0.0.1:{port}",
                      "--no-oscquery", "--no-midi", models=models)
    proc.wait_for(lambda p: "a" in p.text, what="the engine's text")
    yield port, proc
    proc.stop()


def query(port: int, address: str):
    """Ask the engine for a value, as any OSC client would."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(2)
        s.bind(("127.0.0.1", 0))
        s.sendto(message(address), ("127.0.0.1", port))
        [(_, args)] = decode(s.recvfrom(65536)[0])
        return args[0]


def frames(panel, dpg, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        panel.step(dpg)
        time.sleep(1 / 60)


def test_a_fader_moves_the_engine_and_the_engine_moves_the_fader(display, engine, tmp_path):
    port, _ = engine
    client = EngineClient(("127.0.0.1", port))
    assert client.wait_for_tree()
    panel = Panel(client, load_theme())
    dpg = panel.open()
    try:
        frames(panel, dpg, 0.5)
        # the performer drags the bees fader: Dear PyGui sets the value and calls the callback
        dpg.set_value("fader:/mix/bees", 0.75)
        dpg.get_item_callback("fader:/mix/bees")("fader:/mix/bees", 0.75, dpg.get_item_user_data("fader:/mix/bees"))
        frames(panel, dpg, 0.3)
        assert query(port, "/mix/bees") == pytest.approx(0.75)
        # another client (liblo's oscsend) moves a weight: the fader follows through the echo
        subprocess.run([require("oscsend"), "localhost", str(port), "/mix/ayes", "f", "0.25"], check=True, timeout=10)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and dpg.get_value("fader:/mix/ayes") != pytest.approx(0.25):
            frames(panel, dpg, 0.1)
        assert dpg.get_value("fader:/mix/ayes") == pytest.approx(0.25)
        # and the distributions and text arrive from the engine's frames
        assert client.frame is not None and client.frame.rows.shape == (3, 128)
        assert "b" in "".join(ch for ch, _ in client.text)
        shot = tmp_path / "panel.png"
        panel.screenshot(str(shot))
        frames(panel, dpg, 0.2)
        assert shot.exists() and shot.stat().st_size > 10_000
    finally:
        dpg.destroy_context()
        client.close()


def test_without_a_display_the_panel_says_so_and_fails(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    result = subprocess.run([sys.executable, "-m", "instrument", "panel"], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "no display" in result.stderr and "Traceback" not in result.stderr


def test_without_an_engine_the_panel_says_so(display):
    result = subprocess.run([sys.executable, "-m", "instrument", "panel", "--engine", f"127.0.0.1:{free_udp_port()}"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "no engine answers" in result.stderr
