"""The projection window's layout, colours, and the real window under Xvfb."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from instrument.frames import Frame
from instrument.outputs.projection import glyphs_for
from instrument.screen.textlayout import Glyph, TextLayout
from instrument.screen.theme import Theme, load_theme

from ..fakes import write_letter_models
from ..realparts import read_png

RED, BLUE = (255, 0, 0), (0, 0, 255)


def _glyphs(text: str, colour=RED) -> list[Glyph]:
    return [Glyph(c, colour) for c in text]


def test_lines_wrap_at_words_and_break_long_words():
    layout = TextLayout(columns=10)
    layout.feed(_glyphs("the quick brown fox jumps\nabcdefghijklmnop"))
    lines = ["".join(g.ch for g in line) for line in layout.lines]
    assert lines == ["the quick", "brown fox", "jumps", "abcdefghij", "klmnop"]


def test_tabs_expand_and_old_lines_scroll_away():
    layout = TextLayout(columns=40, keep_lines=3)
    layout.feed(_glyphs("a\tb\n1\n2\n3\n4"))
    assert ["".join(g.ch for g in line) for line in layout.lines] == ["2", "3", "4"]
    assert "".join(g.ch for g in TextLayout(40).lines[0]) == ""


def test_runs_merge_characters_of_one_colour():
    line = _glyphs("ab", RED) + _glyphs("cd", BLUE) + _glyphs("e", RED)
    assert TextLayout.runs(line) == [("ab", RED), ("cd", BLUE), ("e", RED)]


def test_each_character_takes_the_colour_of_its_lead_style():
    theme = Theme(primed=(9, 9, 9))
    pi, active = np.ones(2), np.arange(2)
    frames = [Frame(0, "x", pi, active, primed=True), Frame(1, "a", pi, active, lead=0), Frame(2, "b", pi, active, lead=1)]
    assert [g.colour for g in glyphs_for(frames, "xab", [RED, BLUE], theme, tint=True)] == [(9, 9, 9), RED, BLUE]
    # a slow reader lost the first two frames: their characters take the first colour that remains
    assert [g.colour for g in glyphs_for(frames[2:], "xab", [RED, BLUE], theme, tint=True)] == [BLUE, BLUE, BLUE]
    assert {g.colour for g in glyphs_for(frames, "xab", [RED, BLUE], theme, tint=False)} == {theme.text}


def _closest_pair(colours) -> float:
    import numpy as np

    from instrument.screen.theme import lab

    d = np.linalg.norm(lab(colours)[:, None] - lab(colours)[None], axis=-1)
    np.fill_diagonal(d, np.inf)
    return float(d.min())


def test_every_installed_style_and_seven_more_get_colours_far_apart():
    """Eight of the seventeen styles once shared four colours (beeton = javascript, chilcot =
    lovesongs, ...): up to 24 styles, every pair is at least 25 apart in CIELAB (2.3 is a just
    noticeable difference), and every colour is light enough to read on black."""
    from instrument.app.library import installed_names
    from instrument.screen.theme import lab

    theme = load_theme()
    names = installed_names()
    assert len(names) >= 17 and all(n in theme.styles for n in names)  # the shipped ones are chosen by hand
    everyone = names + [f"mine{i}" for i in range(24 - len(names))]
    colours = theme.colours(everyone)
    assert _closest_pair(colours) >= 25 and (lab(colours)[:, 0] >= 50).all()
    assert theme.colours(names) == colours[: len(names)]  # a style of one's own moves no shipped colour


def test_the_window_shows_the_text_in_each_style_colour(display, tmp_path):
    # its own process: Dear PyGui allows one window context per process
    models = write_letter_models(tmp_path / "models", {"ayes": "a", "bees": "b"})
    theme = tmp_path / "theme.yaml"
    theme.write_text("styles: {ayes: [255, 0, 0], bees: [0, 0, 255]}\n")
    shot = tmp_path / "shot.png"
    result = subprocess.run([sys.executable, "-m", "instrument", "play", "--project", "--theme", str(theme),
                             "--mix", "ayes=1,bees=1", "--rate", "300", "--chars", "600", "--screenshot", str(shot),
                             "--no-midi", "--no-oscquery", "--osc-listen", "127.0.0.1:0"],
                            capture_output=True, text=True, timeout=120,
                            env={**os.environ, "INSTRUMENT_MODELS": str(models)})
    assert result.returncode == 0, result.stderr
    image = read_png(shot)[..., :3].astype(int)
    red = ((image[..., 0] > 200) & (image[..., 2] < 60)).sum()
    blue = ((image[..., 2] > 200) & (image[..., 0] < 60)).sum()
    black = (image.sum(axis=-1) < 30).mean()
    assert red > 500 and blue > 500 and black > 0.7


def test_without_a_display_the_projection_is_left_out_and_the_piece_plays(tmp_path, monkeypatch):
    models = write_letter_models(tmp_path / "models", {"ayes": "a"})
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    result = subprocess.run([sys.executable, "-m", "instrument", "play", "--project", "--chars", "100", "--rate", "0",
                             "--no-midi", "--no-oscquery", "--osc-listen", "127.0.0.1:0"],
                            capture_output=True, text=True, timeout=120, env={**env, "INSTRUMENT_MODELS": str(models)})
    assert result.returncode == 0 and "no display" in result.stderr and len(result.stdout) == 101


def test_a_live_change_of_size_leaves_no_stale_lines_and_wraps_at_the_new_width(display, tmp_path):
    from ..conftest import PROJECT

    result = subprocess.run([sys.executable, "-m", "tests.outputs.projection_driver", str(tmp_path)],
                            capture_output=True, text=True, timeout=120, cwd=PROJECT)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    # the glyph width is measured from each font once it is drawn: four times the size, a quarter of
    # the columns (before, back at 20 px the text wrapped at 26 columns, the 80 px font's width)
    assert seen["small_advance"] == pytest.approx(seen["big_advance"] / 4, rel=0.05)
    assert seen["small_columns"] == pytest.approx(4 * seen["big_columns"], rel=0.1) and seen["small_columns"] > 90
    assert seen["stale_items"] == 0  # no line of the 20 px text is left drawn among the 80 px lines


def test_the_word_being_spoken_is_shown_under_the_text_and_gone_between_phrases(display, tmp_path):
    from ..conftest import PROJECT

    result = subprocess.run([sys.executable, "-m", "tests.outputs.caption_driver", str(tmp_path)],
                            capture_output=True, text=True, timeout=120, cwd=PROJECT)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["whale_items"] == 1 and seen["silent_items"] == 0
    image = read_png(tmp_path / "whale.png")[..., :3].astype(int)
    y = seen["caption_y"]
    lit = image.sum(axis=-1) > 300
    assert (image[y : y + 50, :200].min(axis=-1) > 200).sum() > 100  # the word, in the text's white
    assert not lit[y : y + 50, 250:].any()      # a line of its own: nothing beside the word
    assert lit[y - 110 : y - 10, :].sum() > 1000  # the text above it, not overwritten


@pytest.mark.slow
def test_the_projection_blanks_shows_again_and_clears_on_cue(display, tmp_path):
    from ..conftest import PROJECT

    result = subprocess.run([sys.executable, "-m", "tests.outputs.blank_driver", str(tmp_path)],
                            capture_output=True, text=True, timeout=120, cwd=PROJECT)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    lit = {name: int((read_png(tmp_path / f"{name}.png")[..., :3].astype(int).sum(axis=-1) > 300).sum())
           for name in ("text", "blank", "again", "cleared")}
    assert lit["text"] > 5000 and lit["again"] > 5000   # a page of text, and again once shown
    assert lit["blank"] == 0 and lit["cleared"] == 0    # nothing: blanked, then an empty page
    assert seen["lines_after_clear"] <= 2               # the old lines gone, not hidden
