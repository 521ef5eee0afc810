"""The panel under Xvfb against an engine in its own process, over OSC only."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ..conftest import PROJECT
from ..fakes import write_letter_models
from ..polling import wait_for
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


SEVENTEEN = ["austen", "baudelaire", "beeton", "bible", "chilcot", "elisp", "holmes", "javascript", "latex", "linux",
             "lovesongs", "moby", "nietzsche", "poe", "python", "shakespeare", "speeches"]


def _panel_of_seventeen(tmp_path, mix: str) -> dict:
    """The panel's geometry (tests/gui/panel_layout_driver.py) against an engine of seventeen letter
    styles playing `mix`; its screenshot is tmp_path/p.png."""
    models = write_letter_models(tmp_path / "models", {n: chr(97 + i) for i, n in enumerate(SEVENTEEN)})
    port = free_udp_port()
    proc = instrument("play", "--mix", mix, "--rate", "60", "--osc-listen", f"127.0.0.1:{port}",
                      "--no-oscquery", "--no-midi", models=models)
    try:
        proc.wait_for(lambda p: len(p.text) > 5, what="the engine's text")
        result = subprocess.run([sys.executable, "-m", "tests.gui.panel_layout_driver", str(port), str(tmp_path / "p.png")],
                                capture_output=True, text=True, timeout=120, cwd=PROJECT)
    finally:
        proc.stop()
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_seventeen_styles_each_have_a_fader_none_overlapping_all_inside_the_mixer(display, tmp_path):
    seen = _panel_of_seventeen(tmp_path, "bible=1")
    rects = seen["rects"]
    faders = [r for tag, r in rects.items() if tag.startswith("fader:")]
    assert len(faders) == 17
    boxes = [r for tag, r in rects.items() if tag.startswith(("fader:", "learn:"))]
    for tag in ("preset-list", "preset-name"):  # in sight at 1280x800, no scrolling (they sat at y 930)
        x, y, w, h = rects[tag]
        assert h > 0 and y + h <= 800 and x + w <= 1280, (tag, rects[tag])
    for i, (x, y, w, h) in enumerate(boxes):
        assert w > 0 and h > 0 and x + w <= seen["mixer_w"], (i, x, w)
        for (x2, y2, w2, h2) in boxes[i + 1:]:
            assert x + w <= x2 or x2 + w2 <= x or y + h <= y2 or y2 + h2 <= y, "two controls overlap"
    _digits_read_on_the_grab(tmp_path / "p.png", rects["fader:/mix/bible"], "bible", SEVENTEEN)


def _digits_read_on_the_grab(shot, rect, name: str, names: list[str]) -> None:
    """The fader at 1.00: its digits lie on its grab and contrast with it (white on the Bible's pale
    colour did not: issue 29). The digits are the pixels of the grab's box that are not its colour."""
    import numpy as np

    from instrument.gui.faders import luminance
    from instrument.screen.theme import load_theme

    from ..realparts import read_png

    colour = np.array(dict(zip(names, load_theme().colours(names)))[name][:3])
    x, y, w, _ = (int(v) for v in rect)
    box = read_png(shot)[y:y + 20, x:x + w, :3].astype(int)
    on_grab = np.abs(box - colour).sum(axis=-1) < 30
    assert on_grab.sum() > 0.3 * box.shape[0] * box.shape[1]  # the grab is there, at the top
    rows = np.flatnonzero(on_grab.mean(axis=1) > 0.3)
    grab = box[rows.min():rows.max() + 1]
    digits = grab[np.abs(grab - colour).sum(axis=-1) > 60]
    assert len(digits) > 20, "no digits on the grab"
    contrast = lambda a, b: (max(a, b) + 0.05) / (min(a, b) + 0.05)
    assert np.median([contrast(luminance(d), luminance(colour)) for d in digits]) > 3.0


def test_kill_int_ends_a_panel_started_in_the_background(display, tmp_path):
    """A shell's `panel &` starts it with SIGINT ignored; `kill -INT` must still end it."""
    import signal
    import time

    models = write_letter_models(tmp_path / "models", {"bible": "b"})
    port = free_udp_port()
    proc = instrument("play", "--mix", "bible=1", "--rate", "60", "--osc-listen", f"127.0.0.1:{port}",
                      "--no-oscquery", "--no-midi", models=models)
    try:
        proc.wait_for(lambda p: len(p.text) > 5, what="the engine's text")
        panel = subprocess.Popen([sys.executable, "-m", "instrument", "panel", "--engine", f"127.0.0.1:{port}"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                 preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
        assert wait_for(lambda: not _ignores_sigint(panel.pid), 60)  # its first act: SIGINT heard again
        time.sleep(1)  # and on into its start or its drawing
        assert panel.poll() is None, panel.stderr.read()
        panel.send_signal(signal.SIGINT)
        assert panel.wait(30) == 0, panel.stderr.read()
    finally:
        proc.stop()


def _ignores_sigint(pid: int) -> bool:
    """Whether the process ignores SIGINT (bit 1 of SigIgn in /proc/PID/status, Linux)."""
    status = Path(f"/proc/{pid}/status").read_text()
    mask = int(next(line.split()[1] for line in status.splitlines() if line.startswith("SigIgn:")), 16)
    return bool(mask & (1 << 1))


def test_the_pad_draws_a_spoke_to_each_sounding_style(display, tmp_path):
    """Three styles spread round the circle put the cursor (their weights' centre of mass) near the
    centre, which says nothing of which three (issue 29); a line from it to each sounding style,
    in that style's colour, does."""
    import numpy as np

    from instrument.core import morph
    from instrument.gui.panel import PAD
    from instrument.screen.theme import load_theme

    from ..realparts import read_png

    seen = _panel_of_seventeen(tmp_path, "bible=1,linux=1,poe=1")
    names = SEVENTEEN
    image = read_png(tmp_path / "p.png")[..., :3].astype(int)
    left, top = seen["rects"]["pad"][:2]
    c, r = PAD / 2, PAD / 2 * 0.85
    x, y = seen["pad_point"]
    colours = dict(zip(names, load_theme().colours(names)))
    for name, (px, py) in zip(names, morph.positions(len(names))):
        if name not in ("bible", "linux", "poe"):
            continue
        mx, my = left + c + r * (x + px) / 2, top + c + r * (y + py) / 2  # half-way along its spoke
        patch = image[int(my) - 2:int(my) + 3, int(mx) - 2:int(mx) + 3]
        nearest = np.abs(patch - np.array(colours[name][:3])).sum(axis=-1).min()
        assert nearest < 90, (name, nearest)  # the style's colour (a little of the pad's dark through it)
