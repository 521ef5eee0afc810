"""/undo and /panic on a real tree and real presets, with a clock the test moves."""
from __future__ import annotations

import time

from instrument.control.history import DEPTH, QUIET, History
from instrument.control.presets import Presets
from instrument.tree import build_tree

from ..polling import wait_for


def _setup(tmp_path):
    params = build_tree(["bible", "linux"])
    params.set("/mix/bible", 0.5)
    presets = Presets(params, tmp_path)
    now = {"t": 0.0}
    history = History(params, presets, clock=lambda: now["t"])
    return params, presets, history, now


def test_a_sweep_is_one_move_and_undo_takes_moves_back_one_by_one(tmp_path):
    params, _, _, now = _setup(tmp_path)
    for v in (0.6, 0.7, 0.8):  # one fader swept: changes closer together than QUIET
        params.set("/mix/bible", v, source="midi")
        now["t"] += 0.1
    now["t"] += QUIET
    params.set("/temperature", 1.2, source="osc")
    params.set("/undo")
    assert params.get("/temperature") == 0.8 and params.get("/mix/bible") == 0.8
    params.set("/undo")
    assert params.get("/mix/bible") == 0.5  # the whole sweep, at once
    params.set("/undo")  # nothing left: nothing moves
    assert params.get("/mix/bible") == 0.5 and params.get("/temperature") == 0.8


def test_a_preset_and_a_fader_right_after_it_are_two_moves(tmp_path):
    params, presets, _, now = _setup(tmp_path)
    presets.path("hot").write_text("values: {/mix/linux: 1.0, /temperature: 1.5}")
    presets.load("hot")
    params.set("/mix/bible", 0.9, source="midi")  # at once, but from another source
    params.set("/undo")
    assert params.get("/mix/bible") == 0.0 and params.get("/temperature") == 1.5  # the preset's (its whole mix)
    params.set("/undo")
    assert (params.get("/mix/linux"), params.get("/temperature"), params.get("/mix/bible")) == (0.0, 0.8, 0.5)


def test_panic_goes_back_to_the_last_recalled_preset_or_to_the_start(tmp_path):
    params, presets, _, now = _setup(tmp_path)
    params.set("/temperature", 2.0, source="osc")
    params.set("/panic")
    assert params.get("/temperature") == 0.8 and params.get("/mix/bible") == 0.5  # no preset yet: the start
    presets.path("calm").write_text("values: {/mix/bible: 0.3, /temperature: 0.6}")
    presets.load("calm")
    now["t"] += QUIET
    params.set("/temperature", 2.5, source="osc")
    params.set("/mix/linux", 1.0, source="osc")
    params.set("/panic")
    assert (params.get("/temperature"), params.get("/mix/bible"), params.get("/mix/linux")) == (0.6, 0.3, 0.0)


def test_undo_stops_a_morph_and_takes_it_back(tmp_path):
    params, presets, _, now = _setup(tmp_path)
    presets.path("far").write_text("values: {/mix/bible: 1.0, /temperature: 2.0}")
    presets.morph("far", 5.0)
    assert wait_for(lambda: params.get("/temperature") > 0.85)
    params.set("/undo")
    time.sleep(0.1)  # a glide still running would have moved it again by now
    assert params.get("/temperature") == 0.8 and params.get("/mix/bible") == 0.5


def test_the_history_is_bounded(tmp_path):
    params, _, history, now = _setup(tmp_path)
    for i in range(DEPTH + 10):
        now["t"] += QUIET
        params.set("/temperature", 0.1 + i / 100, source="osc")
    assert len(history.states) == DEPTH
