"""Every shipped style: its card is honest (re-measured from its files) and it meets the bar."""
from __future__ import annotations

import hashlib

import numpy as np
import pytest

from instrument.core.corpusindex import CorpusIndex
from instrument.core.memoryfile import read_memory
from instrument.core.model import CharLSTM
from instrument.app.library import installed
from instrument.train import memoryfit
from instrument.train.compressors import held_out_bpc, ppmd_bytes, zpaq_bytes
from instrument.train.copyfit import bits_with_copy, lstm_probs
from instrument.train.corpus import load_corpus

from .conftest import CORPORA
from .realparts import require

SHIPPED = installed()
CODE = {"linux", "latex", "python", "javascript", "elisp"}
TOLERANCE = 0.003  # bpc; the same files and text, only summation order may differ between machines
MAX_FILE = 9.5e6   # bytes, each of a style's files


def test_the_styles_are_shipped():
    names = {m.name for m in SHIPPED}
    expected = {"shakespeare", "bible", "austen", "nietzsche", "baudelaire", "linux", "latex", "speeches", "python",
                "chilcot", "lovesongs", "poe", "holmes", "beeton", "moby", "javascript", "elisp"}
    assert expected <= names, f"missing: {sorted(expected - names)}"


@pytest.mark.parametrize("info", SHIPPED, ids=[m.name for m in SHIPPED])
def test_card_is_complete_and_files_small(info):
    assert info.problem is None, info.problem
    for key in ("name", "description", "corpus", "arch", "params", "chars_trained", "minutes", "machine",
                "heldout", "date", "samples", "memory", "copy"):
        assert key in info.card, f"{info.name}.yaml lacks {key} (instrument models --fit {info.name})"
    assert len(info.card["samples"]) == 3
    assert info.copy_table is not None
    memory = info.path.with_suffix(".memory")
    assert info.path.stat().st_size <= MAX_FILE and memory.stat().st_size <= MAX_FILE
    assert hashlib.sha256(memory.read_bytes()).hexdigest() == info.card["memory"]["sha256"]
    assert read_memory(memory).recall.orders == info.card["memory"]["orders"]
    assert CharLSTM.load(info.path).config.arch == info.card["arch"]


def corpus_of(info):
    path = CORPORA / info.card["corpus"]["file"]
    if not path.exists():
        pytest.skip(f"corpus {path} not present")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == info.card["corpus"]["sha256"]
    return load_corpus(path)


@pytest.mark.slow
@pytest.mark.parametrize("info", SHIPPED, ids=[m.name for m in SHIPPED])
def test_card_bpc_is_reproduced_from_the_shipped_files(info):
    """The LSTM alone, with its memory and as it plays, on the held-out check slice."""
    corpus = corpus_of(info)
    check = info.card["heldout"]["check"]
    assert check["start"] == corpus.split
    model = CharLSTM.load(info.path)
    start, end = check["start"], check["end"]
    p = lstm_probs(model, corpus.ids, start, end)
    assert float(-np.log2(p).mean()) == pytest.approx(check["bpc"], abs=TOLERANCE)
    memory = read_memory(info.path.with_suffix(".memory"))
    assert (memory.bwt != 0).sum() == corpus.split  # it holds exactly the text before the held-out part
    recalled = memoryfit.style_probs(model, CorpusIndex(memory.bwt), memory.recall, corpus.ids, start, end)
    assert float(-np.log2(recalled).mean()) == pytest.approx(check["memory_bpc"], abs=TOLERANCE)
    text = np.asarray(corpus.ids[start:end])
    assert bits_with_copy(recalled, text, info.copy_table) == pytest.approx(check["played_bpc"], abs=TOLERANCE)


@pytest.mark.parametrize("info", SHIPPED, ids=[m.name for m in SHIPPED])
def test_ppmd_figure_is_reproduced(info):
    corpus = corpus_of(info)
    require("7z")
    bpc = held_out_bpc(ppmd_bytes, corpus.ids, corpus.split)
    assert bpc == pytest.approx(info.card["heldout"]["ppmd_bpc"], abs=1e-4)


SMALLEST = sorted(SHIPPED, key=lambda m: m.card.get("corpus", {}).get("bytes", 0))[:2]


@pytest.mark.parametrize("info", SMALLEST, ids=[m.name for m in SMALLEST])
def test_zpaq_figure_is_reproduced(info):
    """zpaq -m5 reads about 0.3 MB a second: re-measured on the two smallest corpora."""
    corpus = corpus_of(info)
    require("zpaq")
    bpc = held_out_bpc(zpaq_bytes, corpus.ids, corpus.split)
    assert bpc == pytest.approx(info.card["heldout"]["zpaq_bpc"], abs=1e-4)


@pytest.mark.parametrize("info", SHIPPED, ids=[m.name for m in SHIPPED])
def test_quality_bar(info):
    """Every style as it plays (its LSTM with its memory and the copy model) beats xz -9e on its
    held-out text, and neither the memory nor the copy costs anything on it."""
    held = info.card["heldout"]
    assert held["played_bpc"] < held["xz_bpc"]
    assert held["memory_bpc"] <= held["bpc"] + 0.002
    assert held["played_bpc"] <= held["memory_bpc"] + 0.002
