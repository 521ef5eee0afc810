"""The panel under Xvfb against an engine in its own process, over OSC only."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from ..conftest import PROJECT
from ..fakes import write_letter_models
from ..realparts import free_udp_port, instrument, require


@pytest.fixture
def engine(tmp_path):
    models = write_letter_models(tmp_path / "models", {"ayes": "a", "bees": "b"})
    port = free_udp_port()
    proc = instrument("play", "--mix", "ayes=1", "--rate", "100", "--osc-listen", f"127.0.0.1:{port}",
                      "--no-oscquery", "--no-midi", models=models)
    proc.wait_for(lambda p: "a" in p.text, what="the engine's text")
    yield port, proc
    proc.stop()


def test_a_fader_moves_the_engine_and_the_engine_moves_the_fader(display, engine, tmp_path):
    port, _ = engine
    shot = tmp_path / "panel.png"
    result = subprocess.run([sys.executable, "-m", "tests.gui.panel_driver", str(port), str(shot), require("oscsend")],
                            capture_output=True, text=True, timeout=120, cwd=PROJECT)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["engine_bees"] == pytest.approx(0.75)   # the panel's fader moved the engine
    assert seen["fader_ayes"] == pytest.approx(0.25)    # oscsend moved the engine, the fader followed
    assert seen["rows"] == [3, 128]                      # distributions arrived: the mix and two styles
    assert "b" in seen["text"]
    assert shot.exists() and shot.stat().st_size > 10_000


def test_without_a_display_the_panel_says_so_and_fails(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    result = subprocess.run([sys.executable, "-m", "instrument", "panel"], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "no display" in result.stderr and "Traceback" not in result.stderr


def test_without_an_engine_the_panel_says_so(display):
    result = subprocess.run([sys.executable, "-m", "instrument", "panel", "--engine", f"127.0.0.1:{free_udp_port()}"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "no engine answers" in result.stderr
