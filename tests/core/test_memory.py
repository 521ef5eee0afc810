"""The corpus memory: the index counts what followed every context exactly (with the C kernel and
without), follows a text and a lookahead's paths alike, mixes as its doc says, and refuses a
damaged file with a message naming what is wrong."""
from __future__ import annotations

import json

import numpy as np
import pytest

from instrument.core import corpusindex as ix, memoryfile as mem
from instrument.core.corpusindex import DEPTH, CorpusIndex
from instrument.core.words import Lexicon
from instrument.core.memory import Memory
from instrument.core.memoryfile import read_memory, write_memory
from instrument.core.recall import Recall, n_features
from instrument.core.stages import Heard
from instrument.core.weights import ModelFileError
from instrument.train.memoryindex import reversed_bwt, suffix_array

TEXT = (b"the cat sat on the mat. the dog sat on the log. a cat and a dog met on a mat by the log.\n" * 3
        + b"then the cat ran. ")
IDS = np.frombuffer(TEXT, dtype=np.uint8)
KERNELS = [True, False] if ix._KERNEL is not None else [False]


def brute_counts(context: bytes) -> np.ndarray:
    """What followed every occurrence of context in TEXT, counted by hand."""
    out = np.zeros(128, dtype=np.int64)
    at = TEXT.find(context)
    while at >= 0:
        if at + len(context) < len(TEXT):
            out[TEXT[at + len(context)]] += 1
        at = TEXT.find(context, at + 1)
    return out


def test_suffix_array_sorts_every_suffix():
    s = np.frombuffer(b"mississippi\x00", dtype=np.uint8)
    assert suffix_array(s).tolist() == sorted(range(len(s)), key=lambda i: bytes(s[i:]))
    rng = np.random.default_rng(0)
    r = np.concatenate([rng.integers(97, 100, 500), [0]]).astype(np.uint8)
    assert suffix_array(r).tolist() == sorted(range(len(r)), key=lambda i: bytes(r[i:]))


def test_a_text_holding_the_end_mark_is_refused():
    with pytest.raises(ValueError, match="NUL"):
        reversed_bwt(np.frombuffer(b"ab\x00c", dtype=np.uint8))


@pytest.mark.parametrize("kernel", KERNELS)
def test_counts_are_what_followed_each_context(kernel):
    index = CorpusIndex(reversed_bwt(IDS), use_kernel=kernel)
    probe = b"on the mat. the dog and a cat ran on"
    lo, hi = index.empty(1)
    for t, x in enumerate(probe):
        index.advance(lo, hi, np.array([x]))
        counts = index.counts(lo, hi, 8)[0]
        for k in range(1, min(t + 1, 8) + 1):
            assert counts[k - 1].tolist() == brute_counts(probe[t + 1 - k:t + 1]).tolist(), (t, k)
        longest = max((k for k in range(1, min(t + 1, DEPTH) + 1) if probe[t + 1 - k:t + 1] in TEXT), default=0)
        assert index.reach(lo, hi)[0] == longest


def test_the_kernel_and_numpy_agree():
    if ix._KERNEL is None:
        pytest.skip("the memory's C kernel is not built")
    rng = np.random.default_rng(1)
    text = rng.choice(np.frombuffer(b"abc de", dtype=np.uint8), 5000)  # wide intervals: the samples are used
    c, n = CorpusIndex(reversed_bwt(text)), CorpusIndex(reversed_bwt(text), use_kernel=False)
    assert (c.occ == n.occ).all() and (c.C == n.C).all()
    lo1, hi1 = c.empty(3)
    lo2, hi2 = n.empty(3)
    for x in rng.choice(np.frombuffer(b"abcde ", dtype=np.uint8), (40, 3)):
        x = np.where(rng.random(3) < 0.2, -1, x)  # some rows wait
        c.advance(lo1, hi1, x)
        n.advance(lo2, hi2, x)
        assert (lo1 == lo2).all() and (hi1 == hi2).all()
        assert (c.counts(lo1, hi1, 6) == n.counts(lo2, hi2, 6)).all()


def recall(orders: int = 4, lstm_bias: float = 0.0, fade_from: int = 24, fade: float = 0.8) -> Recall:
    gate = np.zeros((n_features(orders), orders + 1), dtype=np.float32)
    gate[-1, 0] = lstm_bias  # the bias feature: how much the LSTM is preferred everywhere
    return Recall(gate, fade_from, fade)


def test_the_mixture_is_a_distribution_that_gives_unseen_orders_nothing():
    index = CorpusIndex(reversed_bwt(IDS))
    lo, hi = index.empty(1)
    for x in b"the c":
        index.advance(lo, hi, np.array([x]))
    p = np.full((1, 128), 1 / 128)
    counts = index.counts(lo, hi, 4)
    w = recall().weights(p, counts, index.reach(lo, hi))
    assert w[0].tolist() == pytest.approx([0.2] * 5)  # a zero gate: the LSTM and the four orders alike
    mixed = recall().mix(p, counts, index.reach(lo, hi), 1.0)
    assert mixed.sum() == pytest.approx(1.0)
    assert mixed[0, ord("a")] > 0.5  # "the c" is always followed by "a" here
    assert recall().mix(p, counts, index.reach(lo, hi), 0.0)[0].tolist() == p[0].tolist()  # level 0: the LSTM
    nothing = np.zeros_like(counts)
    assert recall().weights(p, nothing, np.zeros(1, dtype=np.int64))[0].tolist() == [1.0, 0, 0, 0, 0]


def test_the_memory_fades_where_the_text_recites():
    p = np.full((2, 128), 1 / 128)
    counts = np.zeros((2, 4, 128), dtype=np.int32)
    counts[:, :, ord("x")] = 5
    mixed = recall(fade_from=10, fade=0.5).mix(p, counts, np.array([10, 13]), 1.0)
    gain = (mixed[:, ord("x")] - p[0, ord("x")])
    assert gain[1] == pytest.approx(gain[0] * 0.5 ** 3)


def make_memory(n_styles: int = 2) -> Memory:
    index = CorpusIndex(reversed_bwt(IDS))
    return Memory([index] + [None] * (n_styles - 1), [recall()] + [None] * (n_styles - 1))


HEARD = Heard(np.array([0, 1]), np.array([0.5, 0.5]), np.ones((2, 128)) / 128)
PRIMED = Heard(np.array([0, 1]), np.array([0.5, 0.5]))


def test_a_prime_leaves_the_memory_where_reading_it_would():
    read, primed = make_memory(), make_memory()
    text = b"a long prime that says the cat sat on the mat " * 4
    for x in text:
        read.accept(x, HEARD)
        primed.accept(x, PRIMED)
    p = np.full((2, 128), 1 / 128)
    assert (primed.mix(p, np.array([0, 1]), 1.0) == read.mix(p, np.array([0, 1]), 1.0)).all()
    read.reset()
    assert (read.lo == 0).all() and (read.hi == 0).all()


def test_a_path_recalls_as_the_committed_text_would():
    committed, paths = make_memory(), make_memory()
    for x in b"the dog ":
        committed.accept(x, HEARD)
        paths.accept(x, HEARD)
    active = np.array([0, 1])
    paths.fork(active, 3)
    for x in b"sat":
        paths.step_rows(np.array([x, ord("q"), -1]))
        committed.accept(x, HEARD)
    paths.take_rows(np.array([0, 0, 2]))
    p = np.full((3, 2, 128), 1 / 128)
    rows = paths.mix_rows(p, active, 1.0)
    alone = committed.mix(p[0], active, 1.0)
    assert np.allclose(rows[0], alone) and np.allclose(rows[1], alone)  # row 1 is now a copy of row 0
    assert rows[0, 0, ord(" ")] > 0.5 and (rows[:, 1] == p[:, 1]).all()  # the style without a memory: unchanged


def save(tmp_path, bwt=None, gate=None, **meta):
    path = tmp_path / "s.memory"
    write_memory(path, reversed_bwt(IDS) if bwt is None else bwt, Recall(recall().gate if gate is None else gate, 24, 0.8),
                 {"corpus_sha256": "x", **meta})
    return path


def test_a_memory_file_reads_back(tmp_path):
    m = read_memory(save(tmp_path))
    assert (m.bwt == reversed_bwt(IDS)).all() and m.recall.orders == 4 and m.recall.fade == 0.8


def damage(path, at: int) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("harm, says", [
    (lambda p: damage(p, -20), "damaged"),                                    # a byte of the text flipped
    (lambda p: p.write_bytes(p.read_bytes()[:-30]), "not a readable memory"),  # cut short
    (lambda p: p.write_bytes(b"not safetensors at all"), "not a readable memory"),
])
def test_a_damaged_memory_file_is_refused_with_a_clear_message(tmp_path, harm, says):
    path = save(tmp_path)
    harm(path)
    with pytest.raises(ModelFileError, match=says):
        read_memory(path)


def test_a_changed_gate_is_found(tmp_path):
    from safetensors.numpy import save_file

    m = read_memory(save(tmp_path))
    gate = m.recall.gate.astype(np.float32)
    gate[3, 1] += 0.5
    path = tmp_path / "changed.memory"
    save_file({"bwt": m.bwt, "gate": gate}, str(path), metadata={mem.META_KEY: json.dumps(m.meta)})
    with pytest.raises(ModelFileError, match="damaged"):
        read_memory(path)


def test_memory_files_that_are_not_memories_are_refused(tmp_path):
    from safetensors.numpy import save_file

    with pytest.raises(ModelFileError, match="no such file"):
        read_memory(tmp_path / "none.memory")
    bad_gate = recall().gate.copy()
    bad_gate[0, 0] = np.nan
    with pytest.raises(ModelFileError, match="NaN"):
        read_memory(save(tmp_path, gate=bad_gate))
    other = tmp_path / "other.memory"
    save_file({"bwt": np.zeros(4, dtype=np.float32)}, str(other), metadata={mem.META_KEY: json.dumps({})})
    with pytest.raises(ModelFileError, match="holds"):
        read_memory(other)
    save_file({"bwt": reversed_bwt(IDS), "gate": recall().gate}, str(other))
    with pytest.raises(ModelFileError, match="not a style's memory"):
        read_memory(other)
    text = reversed_bwt(IDS)
    save_file({"bwt": text, "gate": recall().gate}, str(other), metadata={mem.META_KEY: json.dumps(
        {"crc32": mem.checksum(text, recall().gate), "fade_from": -3, "fade": 0.8})})
    with pytest.raises(ModelFileError, match="fade"):
        read_memory(other)


def brute_text_counts(text: bytes, context: bytes) -> np.ndarray:
    out = np.zeros(128, dtype=np.int64)
    for at in range(len(text) - len(context)):
        if text[at:at + len(context)] == context:
            out[text[at + len(context)]] += 1
    return out


def test_the_text_memory_counts_what_followed_each_context_so_far():
    from instrument.core.textcounts import TextCounts

    said = TextCounts(orders=4)
    text = b"abracadabra, a cadaver abides "
    for t, x in enumerate(text):
        got = said.counts([text[:t]])[0]
        for k in range(1, min(t, 4) + 1):
            assert got[k - 1].tolist() == brute_text_counts(text[:t], text[t - k:t]).tolist(), (t, k)
        said.accept(x)
    assert said.tail() == text[-4:]
    said.reset()
    assert not said.counts([b"abra"]).any()


def test_the_text_memory_forgets_what_left_its_window():
    from instrument.core.textcounts import TextCounts

    said = TextCounts(orders=3, window=50)
    text = b"xyz" * 10 + b"abcdefghij" * 10
    for x in text:
        said.accept(x)
    assert not said.counts([b"xy"])[0, 1].any()  # "xy" was last counted more than 50 characters ago
    assert said.counts([b"ab"])[0, 1, ord("c")] == 5  # the last 50 characters: "abcdefghij" five times
    assert sum(len(f) for f in said.table.values()) <= 3 * 50  # the table stays bounded


def test_the_text_memory_and_the_corpus_memory_each_have_their_fader():
    """/memory scales the corpus's part, /copy the text's: at 0 and 0 the LSTM alone."""
    orders, text_orders = 2, 2
    gate = np.zeros((n_features(orders, text_orders), 1 + orders + text_orders))
    r = Recall(gate, 24, 0.8, text_orders, 0.9)
    p = np.full((1, 128), 1 / 128)
    corpus = np.zeros((1, orders, 128), dtype=np.int32)
    corpus[0, :, ord("c")] = 3
    text = np.zeros((1, text_orders, 128), dtype=np.int32)
    text[0, :, ord("t")] = 2
    both = r.mix(p, corpus, np.array([1]), 1.0, text, np.array([0]), 1.0)
    assert both.sum() == pytest.approx(1.0) and both[0, ord("c")] == pytest.approx(both[0, ord("t")])  # all weighed alike
    no_text = r.mix(p, corpus, np.array([1]), 1.0, text, np.array([0]), 0.0)
    no_corpus = r.mix(p, corpus, np.array([1]), 0.0, text, np.array([0]), 1.0)
    # a memory faded out gives its share back to the LSTM: 0.6 of it here (the other memory has 0.4)
    assert no_text[0, ord("t")] == pytest.approx(p[0, 0] * 0.6) and no_text[0, ord("c")] > 0.3
    assert no_corpus[0, ord("c")] == pytest.approx(p[0, 0] * 0.6) and no_corpus[0, ord("t")] > 0.3
    assert (r.mix(p, corpus, np.array([1]), 0.0, text, np.array([0]), 0.0) == p).all()
    tired = r.mix(p, corpus, np.array([1]), 1.0, text, np.array([5]), 1.0)  # the text has repeated for 5
    gain = lambda m: m[0, ord("t")] - p[0, 0] * 0.6
    assert gain(tired) == pytest.approx(gain(both) * 0.9 ** 5)


def test_a_memory_file_keeps_its_text_orders_and_refuses_a_gate_of_the_wrong_shape(tmp_path):
    from safetensors.numpy import save_file

    gate = np.zeros((n_features(4, 3), 1 + 4 + 3), dtype=np.float32)
    path = tmp_path / "t.memory"
    write_memory(path, reversed_bwt(IDS), Recall(gate, 24, 0.8, 3, 0.85), {})
    m = read_memory(path)
    assert (m.recall.orders, m.recall.text_orders, m.recall.text_fade) == (4, 3, pytest.approx(0.85))
    meta = dict(m.meta, text_orders=2)  # says 2, holds a gate for 3
    meta["crc32"] = mem.checksum(m.bwt, gate)
    save_file({"bwt": m.bwt, "gate": gate}, str(path), metadata={mem.META_KEY: json.dumps(meta)})
    with pytest.raises(ModelFileError, match="gate"):
        read_memory(path)


def save_with_words(tmp_path, lexicon):
    path = tmp_path / "w.memory"
    write_memory(path, reversed_bwt(IDS), Recall(recall().gate, 24, 0.8), {"corpus_sha256": "x"}, lexicon)
    return path


def test_a_memory_file_keeps_its_texts_words(tmp_path):
    m = read_memory(save_with_words(tmp_path, Lexicon.of_ids(IDS)))
    assert m.lexicon.words == ["a", "and", "by", "cat", "dog", "log", "mat", "met", "on", "ran", "sat", "the", "then"]
    assert read_memory(save(tmp_path)).lexicon is None  # written before the words were kept: none, and it reads


def test_damaged_or_malformed_words_are_refused(tmp_path):
    from safetensors.numpy import save_file

    path = save_with_words(tmp_path, Lexicon(["cat", "dog"]))
    damage(path, -2)  # a letter of the words: the checksum covers them
    with pytest.raises(ModelFileError, match="damaged"):
        read_memory(path)
    text, gate = reversed_bwt(IDS), recall().gate
    for words, says in ((b"dog\ncat", "in order"), (b"Cat\ndog", "lower-case"), (b"cat\n\ndog", "lower-case"),
                        (b"cat\ncat", "in order")):
        array = np.frombuffer(words, dtype=np.uint8)
        meta = {**read_memory(save(tmp_path)).meta, "crc32": mem.checksum(text, gate, array)}
        save_file({"bwt": text, "gate": gate, "words": array}, str(path), metadata={mem.META_KEY: json.dumps(meta)})
        with pytest.raises(ModelFileError, match=says):
            read_memory(path)
    save_file({"bwt": text, "gate": gate, "words": np.zeros(3, dtype=np.float32)}, str(path),
              metadata={mem.META_KEY: json.dumps(read_memory(save(tmp_path)).meta)})
    with pytest.raises(ModelFileError, match="words are F32"):
        read_memory(path)


def test_words_over_the_cap_are_refused_before_they_are_read(tmp_path, monkeypatch):
    path = save_with_words(tmp_path, Lexicon(["cat", "dog", "mat"]))
    monkeypatch.setattr(mem, "MAX_WORDS", 10)  # "cat\ndog\nmat" is 11 bytes
    with pytest.raises(ModelFileError, match="at most 10 bytes"):
        read_memory(path)
