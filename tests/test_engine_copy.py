"""The copy model in the engine: each style's distribution mixed with it after the committed text
(plain sampling) and after each lookahead path's own text, /copy as its fader, /reset forgetting."""
from __future__ import annotations

import logging

import numpy as np
import pytest
import torch

from instrument.core.copying import BANDS, Copier, CopyTable
from instrument.core.ensemble import Ensemble
from instrument.core.model import CharLSTM, ModelConfig
from instrument.engine import Engine
from instrument.app.parts import read_copy_table

REPEAT = "the cat sat on the mat. " * 3
PARTS = ["the cat ", "the dog ", "sat on ", "ran to ", "the mat. ", "a hat. "]
PHRASES = "".join(np.random.default_rng(0).choice(PARTS, 80))  # text that repeats in pieces


def _engine(lam: float = 0.9, lookahead: int = 0, fade: float = 1.0) -> Engine:
    torch.manual_seed(2)
    models = [CharLSTM(ModelConfig(1, 32, dropout=0.0)).half().float().eval() for _ in range(2)]
    copier = Copier([CopyTable((lam,) * BANDS, fade), CopyTable()])
    eng = Engine(Ensemble(models, ["a", "b"]), copier=copier)
    eng.params.set("/mix/a", 1.0)
    eng.params.set("/lookahead", lookahead)
    eng.params.set("/temperature", 1.0)
    return eng


def test_a_copying_style_puts_its_weight_on_what_followed_before():
    eng = _engine()
    eng.prime(REPEAT)
    pred = eng.copier.pred
    assert pred == ord("t") and eng.copier.length == 48  # the third "the cat sat on the mat. " matches the second back to its start
    raw = eng.ensemble.distributions(np.array([0]))[0, pred]
    frame = eng.step()
    assert frame.omega[0, pred] == pytest.approx(0.1 * raw + 0.9)


@pytest.mark.parametrize("level", [0.0, 0.5, 1.0])
def test_the_copy_fader_scales_it_and_at_zero_the_lstms_play_alone(level):
    eng = _engine()
    eng.params.set("/copy", level)
    eng.prime(REPEAT)
    pred = eng.copier.pred
    assert pred >= 0
    raw = eng.ensemble.distributions(np.array([0]))[0]
    frame = eng.step()
    g = 0.9 * level
    assert frame.omega[0, pred] == pytest.approx((1 - g) * raw[pred] + g)
    if level == 0:
        assert frame.omega[0] == pytest.approx(raw)


def test_in_product_mode_the_copy_joins_the_product_once():
    """Mixed into each style, the copy is the one thing all agree on, and the product multiplies
    agreement; so it is mixed into the product, by the styles' weighted gains."""
    from instrument.core.mixing import product

    eng = _engine()
    eng.params.set("/mix/b", 1.0)  # a copies at 0.9, b not: the weighted gain is 0.45
    eng.params.set("/mode", "product")
    eng.params.set("/loop_guard", 0.0)  # the primed text repeats itself: the guard would push the copy too
    eng.prime(REPEAT)
    pred = eng.copier.pred
    raw = eng.ensemble.distributions(np.array([0, 1]))
    frame = eng.step()
    assert frame.omega == pytest.approx(raw)  # each style as its LSTM has it
    expected = 0.55 * product(np.array([1.0, 1.0]), raw)
    expected[pred] += 0.45
    assert frame.rho == pytest.approx(expected)


def test_a_style_whose_card_has_no_copy_weights_does_not_copy():
    eng = _engine()
    eng.params.set("/mix/a", 0.0)
    eng.params.set("/mix/b", 1.0)
    eng.prime(REPEAT)
    assert eng.copier.pred >= 0
    raw = eng.ensemble.distributions(np.array([1]))[0]
    assert eng.step().omega[0] == pytest.approx(raw)


def test_reset_forgets_what_was_written():
    eng = _engine()
    eng.params.set("/prime", REPEAT)
    eng.step()
    eng.params.set("/reset", None)
    eng.step()
    assert len(eng.copier.text) == 1 and eng.copier.pred == -1


def _path_copies(look) -> list[tuple]:
    """What each path's copy state should be: the committed text's, carried along its characters."""
    out = []
    for chars in look.chars:
        pred, length, run = look.copier.pred, look.copier.length, look.copier.run
        for j, c in enumerate(chars):
            run = run + 1 if c == pred else run // 2
            pred, length = look.copier.predict(chars[:j + 1].astype(np.uint8).tobytes())
        out.append((pred, length, run))
    return out


@pytest.mark.parametrize("temperature, mode", [(0.6, "linear"), (0.8, "linear"), (0.6, "product")])
def test_every_lookahead_path_copies_from_its_own_text(temperature, mode):
    """Through commits and the refilling of paths that lost, each path's copy prediction, match
    length and run are those of the text it would write. Not exactly always: a path's prediction
    was made before the character just committed was searchable, so a match that starts there
    (inside a run) may be missing; all but a few of the paths' states must agree."""
    eng = _engine(lam=0.8, lookahead=6)  # no fade: the random styles would soon stop copying
    eng.params.set("/mix/b", 0.5)
    eng.params.set("/temperature", temperature)
    eng.params.set("/mode", mode)
    eng.params.set("/prime", PHRASES)
    look, agree, copying, total = eng.lookahead, 0, 0, 0
    for _ in range(120):
        eng.step()
        expected = [tuple(int(v) for v in e) for e in _path_copies(look)]
        got = list(zip(look.copy_pred.tolist(), look.copy_len.tolist(), look.copy_run.tolist()))
        agree += sum(g == e for g, e in zip(got, expected))
        copying += sum(e[0] >= 0 for e in expected)
        total += len(got)
    assert copying > total / 4  # the test is about paths that copy
    assert agree >= 0.97 * total, (agree, total)


def test_copying_plays_the_same_text_for_the_same_seed():
    def text(lookahead):
        eng = _engine(lam=0.6, lookahead=lookahead, fade=0.9)
        eng.params.set("/mix/b", 0.5)
        eng.params.set("/prime", REPEAT)
        return "".join(eng.step().char for _ in range(60))
    for lookahead in (0, 6):
        assert text(lookahead) == text(lookahead)


def test_a_hostile_card_copy_section_is_told_and_the_style_plays_without_it(tmp_path, caplog):
    weights = tmp_path / "odd.safetensors"
    weights.write_bytes(b"")
    (tmp_path / "odd.yaml").write_text("copy: {lambda: [.nan], fade: 2}\n")
    with caplog.at_level(logging.WARNING):
        assert read_copy_table(weights) == CopyTable()
    assert "odd plays without copying" in caplog.text and "copy.lambda" in caplog.text
    (tmp_path / "odd.yaml").write_text("name: odd\n")
    assert read_copy_table(weights) == CopyTable()
