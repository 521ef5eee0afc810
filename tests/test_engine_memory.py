"""The corpus memory in the engine, and the stages it joins: every style's distribution gets its
memory after the committed text (plain sampling) and after each lookahead path's own text, /memory
is its fader, /reset forgets the text in every stage, and `instrument score` reads a text exactly
as the engine predicts it."""
from __future__ import annotations

import os
import re

import numpy as np
import pytest
import torch

from instrument.cli import main
from instrument.core.copying import BANDS
from instrument.core.ensemble import Ensemble
from instrument.core.corpusindex import DEPTH, CorpusIndex
from instrument.core.memory import Memory
from instrument.core.memoryfile import write_memory
from instrument.core.words import Lexicon
from instrument.core.recall import Recall, n_features
from instrument.core.model import CharLSTM, ModelConfig
from instrument.engine import Engine
from instrument.train.memoryindex import reversed_bwt

CORPUS = b"the quiet fox jumps over the lazy dog and the quiet cat naps on the warm mat.\n" * 20
IDS = np.frombuffer(CORPUS, dtype=np.uint8)


def trusting_recall(orders: int = 6, lstm: float = -6.0, fade_from: int = DEPTH) -> Recall:
    """A gate that leans on the memory wherever it knows the context (and, by default, does not
    fade: CORPUS is one sentence said twenty times, so every stretch of it is recalled)."""
    gate = np.zeros((n_features(orders), orders + 1))
    gate[-1, 0] = lstm
    for k in range(1, orders + 1):
        gate[k - 1, k] = 2.0 * k  # the first features say which orders the corpus holds: the longest leads
    return Recall(gate, fade_from=fade_from, fade=0.8)


def _models():
    torch.manual_seed(3)
    return [CharLSTM(ModelConfig(1, 32, dropout=0.0)).half().float().eval() for _ in range(2)]


def _engine(lookahead: int = 0, memory_level: float = 1.0) -> Engine:
    memory = Memory([CorpusIndex(reversed_bwt(IDS)), None], [trusting_recall(), None])
    eng = Engine(Ensemble(_models(), ["a", "b"]), memory=memory)
    eng.params.set("/mix/a", 1.0)
    eng.params.set("/lookahead", lookahead)
    eng.params.set("/temperature", 1.0)
    eng.params.set("/memory", memory_level)
    return eng


def test_the_stages_are_every_part_that_reads_the_text():
    eng = _engine()
    assert eng.stages == (eng.ensemble, eng.memory, eng.copier, eng.lookahead, eng.presence, eng.repeats, eng.floods,
                          eng.words)


def test_a_remembering_style_follows_its_corpus_and_the_fader_takes_it_back_to_the_lstm():
    eng = _engine()
    eng.prime("the quiet fox jumps over the lazy d")
    frame = eng.step()
    assert frame.omega[0, ord("o")] > 0.8  # "lazy d" is always "lazy do" in its corpus
    faded = _engine()
    faded.memory.recalls[0] = trusting_recall(fade_from=20)
    faded.prime("the quiet fox jumps over the lazy d")
    assert faded.step().omega[0, ord("o")] < 0.2  # 35 characters recalled, 15 past where it fades
    off = _engine(memory_level=0.0)
    off.prime("the quiet fox jumps over the lazy d")
    lstm = off.ensemble.distributions(np.array([0]))[0]
    assert off.step().omega[0] == pytest.approx(lstm)  # /memory 0: the LSTM alone


def test_the_memory_writes_its_corpus_words_with_and_without_lookahead():
    words = set(CORPUS.decode().replace(".", " ").split())
    for lookahead in (0, 4):
        eng = _engine(lookahead)
        eng.prime("the ")
        text = eng.write(600)
        written = [w for w in text.replace(".", " ").split() if len(w) >= 3]
        assert sum(w in words for w in written) / len(written) > 0.9, text
        off = _engine(lookahead, memory_level=0.0)
        off.prime("the ")
        plain = [w for w in off.write(600).replace(".", " ").split() if len(w) >= 3]
        assert sum(w in words for w in plain) / max(1, len(plain)) < 0.5  # an untrained LSTM alone does not


def test_reset_forgets_the_text_in_every_stage():
    eng = _engine(lookahead=4)
    eng.params.set("/mix/b", 1.0)
    eng.prime("the quiet fox jumps")
    eng.write(300)
    assert eng.presence.log_gain.any() and eng.copier.text and (eng.memory.hi > 0).any()
    eng.params.set("/reset", None)
    eng.step()
    assert len(eng.copier.text) == 1 and eng.ensemble.position == 2  # the newline, and the one new character
    assert (eng.memory.hi[:, 1:] == 0).all()  # one character read since: only order 1 known
    assert not eng.presence.log_gain.any()


def test_a_prime_and_the_same_text_written_leave_the_same_state():
    """The ensemble and the memory read a prime later and in part (its last characters): the
    state must be what reading it all would have left."""
    text = "the lazy dog and the quiet cat naps on the warm mat. " * 12
    primed, read = _engine(), _engine()
    primed.prime(text)
    from instrument.core.stages import Heard

    heard = Heard(np.array([0]), np.array([1.0, 0.0]), np.full((1, 128), 1 / 128))
    for x in text.encode():
        read.memory.accept(x, heard)
    active = np.array([0])
    p = np.full((1, 128), 1 / 128)
    assert (primed.memory.mix(p, active, 1.0) == read.memory.mix(p, active, 1.0)).all()


@pytest.fixture
def installed_style(tmp_path, monkeypatch):
    """A style with a memory, installed in a models folder of its own."""
    folder = tmp_path / "models"
    folder.mkdir()
    model = _models()[0]
    model.save(folder / "fox.safetensors")
    write_memory(folder / "fox.memory", reversed_bwt(IDS), trusting_recall(), {"corpus_sha256": "x"}, Lexicon.of_ids(IDS))
    (folder / "fox.yaml").write_text("name: fox\ncopy: {lambda: [%s], fade: 0.9}\n" % ", ".join(["0.5"] * BANDS))
    monkeypatch.setenv("INSTRUMENT_MODELS", str(folder))
    return folder


def test_score_reads_a_text_as_the_engine_predicts_it(installed_style, tmp_path, capsys):
    text = tmp_path / "text.txt"
    text.write_text("the quiet fox jumps over the lazy dog and naps.\n" * 3)
    assert main(["score", "fox", str(text)]) == 0
    lines = capsys.readouterr().out.splitlines()
    played, lstm, recalled = (float(line.split()[0]) for line in lines)
    assert played < recalled < lstm  # the memory knows this text, and the copy its repeats
    from instrument.app.parts import build_engine, load_styles
    from instrument.app.settings import EngineSettings

    engine = build_engine(EngineSettings(models=["fox"], mix={}), load_styles(["fox"]))
    ids = np.frombuffer(text.read_bytes(), dtype=np.uint8)
    assert engine.surprise(ids, 0).mean(axis=0)[2] == pytest.approx(played, abs=1e-4)


def test_score_refuses_what_is_not_a_text_to_score(installed_style, tmp_path, capsys):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert main(["score", "fox", str(fifo)]) == 2
    assert "not a regular file" in capsys.readouterr().err
    big = tmp_path / "big.txt"
    big.write_bytes(b"a" * 2_000_001)
    assert main(["score", "fox", str(big)]) == 2
    assert "more than the 2,000,000 such a file may have" in capsys.readouterr().err
    binary = tmp_path / "bin"
    binary.write_bytes(b"\xff\xfe\x00")
    assert main(["score", "fox", str(binary)]) == 2
    assert "not UTF-8" in capsys.readouterr().err
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    assert main(["score", "fox", str(empty)]) == 2
    assert "no text to score" in capsys.readouterr().err
    fine = tmp_path / "fine.txt"
    fine.write_text("the quiet fox")
    assert main(["score", "nosuch", str(fine)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nosuch" in err


@pytest.mark.parametrize("lookahead", [0, 4])
def test_at_words_1_an_installed_style_writes_only_its_corpus_words(installed_style, lookahead):
    """Its LSTM alone (untrained: it spells nothing), with the words its memory file keeps."""
    from instrument.app.parts import build_engine, load_styles
    from instrument.app.settings import EngineSettings

    corpus_words = set(CORPUS.decode().replace(".", " ").split())
    shares = []
    for words in (1.0, 0.0):
        engine = build_engine(EngineSettings(models=["fox"], mix={"fox": 1.0}, values={
            "/memory": 0.0, "/copy": 0.0, "/words": words, "/lookahead": lookahead, "/seed": 2}), load_styles(["fox"]))
        written = re.findall(r"[a-z]+", engine.write(1500).lower())[:-1]  # the last may be cut off
        shares.append(sum(w in corpus_words for w in written) / len(written))
    assert shares[0] == 1.0 and shares[1] < 0.5, shares


def test_a_damaged_memory_is_named_and_the_style_plays_without_it(installed_style, caplog):
    path = installed_style / "fox.memory"
    data = bytearray(path.read_bytes())
    data[-5] ^= 1
    path.write_bytes(bytes(data))
    from instrument.app.parts import load_styles

    styles = load_styles(["fox"])
    assert styles.memories == [None]
    assert "fox plays without its corpus memory" in caplog.text and "damaged" in caplog.text


def test_the_text_memory_recalls_what_this_piece_said_and_copy_0_forgets_it():
    gate = np.zeros((n_features(6, 4), 1 + 6 + 4))
    gate[-1 - 16, 0] = -6.0  # the bias feature (before the 16 text features): the LSTM hardly trusted
    for j in range(1, 5):
        gate[5 * 6 + 4 + j - 1, 6 + j] = 2.0 * j  # each text order's "seen": the longest leads
    recall = Recall(gate, fade_from=DEPTH, fade=0.8, text_orders=4, text_fade=0.9)
    for level, sure in ((1.0, True), (0.0, False)):
        eng = Engine(Ensemble(_models(), ["a", "b"]),
                     memory=Memory([CorpusIndex(reversed_bwt(IDS)), None], [recall, None]))
        eng.params.set("/mix/a", 1.0)
        eng.params.set("/copy", level)
        eng.prime("qzv! qzv! qzv! qz")  # words of this piece, never in the corpus
        x = eng.step().omega[0, ord("v")]
        assert (x > 0.5) == sure, x
