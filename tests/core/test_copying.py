"""The copy model (core/copying.py): its predictions against a brute-force reading of the text,
its memory bound, its mixture, and the card's copy: section refused when hostile."""
from __future__ import annotations

import numpy as np
import pytest

from instrument.core import copying
from instrument.core.copying import BANDS, LONGEST, MIN, Copier, CopyTable


def brute(text: bytes, i: int, sources: int | None = None, since: int = 0) -> tuple[int, int]:
    """What should be predicted for text[i]: the character after the last earlier occurrence of
    text[i-MIN:i] (ending before `sources`, at or after `since`), and how far back it matches."""
    if i < MIN:
        return -1, 0
    key = text[i - MIN:i]
    last = min(i, sources if sources is not None else i)
    for j in range(last - 1, since + MIN - 1, -1):
        if text[j - MIN:j] == key and j < i:
            n = MIN
            while n < LONGEST and j - n - 1 >= since and text[j - n - 1] == text[i - n - 1]:
                n += 1
            return text[j], n
    return -1, 0


def random_text(n: int, seed: int, letters: bytes = b"ab c\n") -> bytes:
    rng = np.random.default_rng(seed)
    return bytes(rng.choice(list(letters), n))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_predictions_and_runs_match_a_brute_force_reading(seed):
    text = random_text(600, seed) + b"a repeated phrase that goes on " * 3
    copier, run = Copier(), 0
    for i, x in enumerate(text):
        pred, length = brute(text, i)
        assert (copier.pred, copier.length) == (pred, length), i
        assert copier.run == run
        run = run + 1 if x == pred else run // 2
        copier.accept(x)


def test_a_long_repeat_is_matched_to_the_longest_band():
    copier = Copier()
    for x in b"def read_config(name):\n    return load(path)\n" * 3:
        copier.accept(x)
    assert copier.pred == ord("d") and copier.length == LONGEST
    assert copier.run > 40  # the third copy was predicted right all along


@pytest.mark.parametrize("seed", [3, 4])
def test_a_path_is_predicted_as_the_text_it_continues(seed):
    text = random_text(800, seed)
    committed, copier = text[:700], Copier()
    for x in committed:
        copier.accept(x)
    for cut in range(701, 709):  # pending: text[700:cut]
        pred, length = copier.predict(text[700:cut])
        assert (pred, length) == brute(text, cut, sources=701), cut


def test_memory_is_bounded_and_what_is_kept_still_predicts(monkeypatch):
    monkeypatch.setattr(copying, "MEMORY", 300)
    text = random_text(5000, 5)
    copier = Copier()
    for i, x in enumerate(text):
        copier.accept(x)
        assert len(copier.text) <= 600 and all(at >= copier.offset for at in copier.seen.values())
    assert (copier.pred, copier.length) == brute(text, len(text), since=copier.offset)


def table(value: float, fade: float = 1.0) -> CopyTable:
    return CopyTable((value,) * BANDS, fade)


def primed(tables, text: bytes) -> Copier:
    copier = Copier(tables)
    for x in text:
        copier.accept(x)
    return copier


def test_each_style_mixes_the_copy_by_its_own_weight_and_the_fader():
    copier = primed([table(0.5), table(0.0)], b"hello world, hello wor")
    assert copier.pred == ord("l")
    omega = np.full((2, 128), 1 / 128)
    mixed = copier.mix(omega, np.array([0, 1]), 1.0)
    assert mixed.sum(axis=1) == pytest.approx([1, 1])
    assert mixed[0, ord("l")] == pytest.approx(0.5 / 128 + 0.5)
    assert mixed[1] == pytest.approx(omega[1])  # a style whose card says it does not copy
    half = copier.mix(omega, np.array([0, 1]), 0.5)
    assert half[0, ord("l")] == pytest.approx(0.75 / 128 + 0.25)
    assert copier.mix(omega, np.array([0, 1]), 0.0) is omega
    assert copier.mix(omega[:1], np.array([0]), 1.0)[0, ord("l")] == pytest.approx(0.5 / 128 + 0.5)


def test_the_weight_fades_as_a_copy_runs_on():
    copier = primed([table(0.8, fade=0.5)], b"abcdefghij abcdefgh")
    assert (copier.pred, copier.length, copier.run) == (ord("i"), 8, 2)  # "g" and "h" were copied right
    assert copier.gains(np.array([0]), copier.length, copier.run, 1.0) == pytest.approx([0.8 * 0.5 ** 2])
    copier.accept(ord("X"))  # the copy said "i": its run halves (a loop's miss must not refresh it)
    assert copier.run == 1


def test_paths_mix_each_their_own_prediction():
    copier = primed([table(0.5)], b"xyzuvw1 xyzuvw2 ")
    omega = np.full((3, 1, 128), 1 / 128)
    mixed = copier.mix(omega, np.array([0]), 1.0, pred=np.array([ord("1"), -1, ord("2")]),
                       length=np.array([6, 0, 6]), run=np.array([0, 0, 0]))
    assert mixed.sum(axis=-1) == pytest.approx(np.ones((3, 1)))
    assert mixed[0, 0, ord("1")] == pytest.approx(0.5 / 128 + 0.5)
    assert mixed[1, 0] == pytest.approx(omega[1, 0])
    assert mixed[2, 0, ord("2")] == pytest.approx(0.5 / 128 + 0.5)


def test_no_match_mixes_nothing():
    copier = primed([table(0.9)], b"abcdefgh")
    assert copier.pred == -1
    omega = np.full((1, 128), 1 / 128)
    assert copier.mix(omega, np.array([0]), 1.0) is omega


def test_a_card_section_round_trips():
    t = CopyTable(tuple(np.linspace(0, 0.9, BANDS).round(4)), 0.9)
    assert CopyTable.from_card(t.to_card()) == t


@pytest.mark.parametrize("section", [
    None, [], "copy", {"lambda": [0.1] * (BANDS - 1), "fade": 0.9}, {"lambda": [0.1] * BANDS},
    {"lambda": [0.1] * (BANDS - 1) + [float("nan")], "fade": 0.9}, {"lambda": [0.1] * BANDS, "fade": True},
    {"lambda": [0.1] * (BANDS - 1) + ["0.5"], "fade": 0.9}, {"lambda": [1.0] * BANDS, "fade": 0.9},
    {"lambda": [-0.1] * BANDS, "fade": 0.9}, {"lambda": [0.1] * BANDS, "fade": 0.0},
    {"lambda": [0.1] * BANDS, "fade": 1e308 * 10}, {"lambda": [10 ** 400] * BANDS, "fade": 0.9},
])
def test_a_hostile_card_section_is_refused_with_a_reason(section):
    with pytest.raises(ValueError, match="copy"):
        CopyTable.from_card(section)
