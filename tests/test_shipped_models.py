"""Every shipped style: its card is honest (re-measured from the file) and it meets the bar."""
from __future__ import annotations

import hashlib

import pytest

from instrument.core.model import CharLSTM
from instrument.library import installed
from instrument.train.corpus import load_corpus
from instrument.train.evaluate import bits_per_char

from .conftest import CORPORA

SHIPPED = installed()
CODE = {"linux", "latex", "python", "javascript", "elisp"}
# Issue 18 asks every code style to beat xz -9e; none does yet. These are the margins they ship at
# (bpc above xz), so that a retrained file that is worse than today's fails here.
ABOVE_XZ = {"linux": 0.15, "latex": 0.15, "python": 0.15, "javascript": 0.25, "elisp": 0.15}
TOLERANCE = 0.003  # bpc; the same file and text, only summation order may differ between machines


def test_the_styles_are_shipped():
    names = {m.name for m in SHIPPED}
    expected = {"shakespeare", "bible", "austen", "nietzsche", "baudelaire", "linux", "latex", "speeches", "python",
                "chilcot", "lovesongs", "poe", "holmes", "beeton", "moby", "javascript", "elisp"}
    assert expected <= names, f"missing: {sorted(expected - names)}"


@pytest.mark.parametrize("info", SHIPPED, ids=[m.name for m in SHIPPED])
def test_card_is_complete_and_file_small(info):
    assert info.problem is None, info.problem
    for key in ("name", "description", "corpus", "arch", "params", "chars_trained", "minutes", "machine",
                "heldout", "date", "samples"):
        assert key in info.card, f"{info.name}.yaml lacks {key}"
    assert len(info.card["samples"]) == 3
    assert info.path.stat().st_size <= 9.5e6
    assert CharLSTM.load(info.path).config.arch == info.card["arch"]


@pytest.mark.parametrize("info", SHIPPED, ids=[m.name for m in SHIPPED])
def test_card_bpc_is_reproduced_from_the_shipped_file(info):
    corpus_path = CORPORA / info.card["corpus"]["file"]
    if not corpus_path.exists():
        pytest.skip(f"corpus {corpus_path} not present")
    assert hashlib.sha256(corpus_path.read_bytes()).hexdigest() == info.card["corpus"]["sha256"]
    corpus = load_corpus(corpus_path)
    check = info.card["heldout"]["check"]
    assert check["start"] == corpus.split
    measured = bits_per_char(CharLSTM.load(info.path), corpus.ids, check["start"], check["end"])
    assert measured == pytest.approx(check["bpc"], abs=TOLERANCE)


@pytest.mark.parametrize("info", SHIPPED, ids=[m.name for m in SHIPPED])
def test_quality_bar_against_xz(info):
    held = info.card["heldout"]
    if info.name in CODE:
        assert held["bpc"] <= held["xz_bpc"] + ABOVE_XZ[info.name]
    else:
        assert held["bpc"] < held["xz_bpc"]
