"""The words guard (core/words.py): lexicons, the open word, and the text keeping to words at /words."""
from __future__ import annotations

import re

import numpy as np
import pytest

from instrument.core.lookahead import Lookahead, Plan, Shaping
from instrument.core.memory import Memory
from instrument.core.sampling import draw, shape_distribution
from instrument.core.words import Lexicon, Words, keep_words

from .test_lookahead import ToyEnsemble


def test_words_are_runs_of_letters_lower_cased():
    lexicon = Lexicon.of_text("Don't GFP_KERNEL; the\nThe cat2dog")
    assert lexicon.words == ["cat", "dog", "don", "gfp", "kernel", "t", "the"]
    assert lexicon.after("the") == (True, True, "")  # begun, a word, nothing follows
    assert lexicon.after("t") == (True, True, "h") and lexicon.after("") == (True, False, "cdgkt")
    assert lexicon.after("tx") == (False, False, "")
    assert Lexicon.from_bytes(lexicon.to_bytes()).words == lexicon.words
    assert Lexicon.from_bytes(b"").words == [] and Lexicon.from_bytes(Lexicon([]).to_bytes()).words == []


@pytest.mark.parametrize("data", [b"b\na", b"a\na", b"A\nb", b"a\n\nb", b"\na", b"a\n", b"a b", b"caf\xc3\xa9"])
def test_anything_but_distinct_lower_case_words_in_order_is_refused(data):
    with pytest.raises(ValueError):
        Lexicon.from_bytes(data)


LETTERS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def allowed(words: Words, active: tuple, word: str) -> set[str] | None:
    """The printable characters that keep `word` to the lexicons (None: nothing is judged)."""
    mask = words.coins(active, word)
    return None if mask is None else {chr(c) for c in range(32, 127) if not mask[c]}


def test_the_characters_that_would_coin_a_word():
    words = Words([Lexicon(["cat", "cot", "sat"]), Lexicon(["dog"]), None])
    others = {chr(c) for c in range(32, 127)} - LETTERS
    assert allowed(words, (0,), "c") == set("aoAO")  # "ca", "co": no word ends at "c"
    assert allowed(words, (0,), "cat") == others  # a word: it may end, but no word goes on from it
    assert allowed(words, (0,), "") == others | set("csCS")  # between words: a word's first letter, or anything else
    assert allowed(words, (0, 1), "") == others | set("csdCSD")  # a word of any playing style will do
    assert allowed(words, (0,), "cx") is None  # already coined: left alone until it ends
    assert allowed(words, (0, 2), "c") is None  # a style without a lexicon: nothing is judged


def test_the_stage_follows_the_committed_word_and_each_path():
    words = Words([Lexicon(["cat"])])
    for x in b"the Ca":
        words.accept(x)
    assert words.open == "ca"
    assert words.along(np.array([list(b"t "), list(b"ts"), list(b"T.")])) == ["", "cats", ""]
    words.reset()
    assert words.open == ""


def test_keep_words_pushes_each_row_by_its_own_mask_and_level():
    p = np.full((2, 128), 1 / 128)
    mask = np.zeros(128, dtype=bool)
    mask[ord("x")] = True
    out = keep_words(p, [mask, None], 1.0)
    assert out[0, ord("x")] == 0 and out[0].sum() == pytest.approx(1) and (out[1] == p[1]).all()
    half = keep_words(p[0], mask, 0.05)  # one e-fold
    assert half[ord("x")] / half[ord("y")] == pytest.approx(np.exp(-1))
    assert keep_words(p, [mask, mask], 0.0) is p


def without_bb(longest: int) -> list[str]:
    """Every word of a and b up to this long with no "bb" in it."""
    level = words = ["a", "b"]
    for _ in range(longest - 1):
        level = [w + c for w in level for c in "ab" if not w[-1] == c == "b"]
        words = words + level
    return words


# The toy style of tests/core/test_lookahead.py writes words of a and b (a fifth of its letters end
# a word). Its lexicon lacks every word with "bb" in it: about two in five of what it writes.
NO_BB = Lexicon(without_bb(16))


def write(words: float, lexicons, depth: int, n: int = 2000, seed: int = 0) -> str:
    ens, rng = ToyEnsemble(), np.random.default_rng(seed)
    memory = Memory([None] * len(lexicons), [None] * len(lexicons), lexicons)
    stage = Words(memory.lexicons)
    look = Lookahead(ens, memory=memory, words=stage)
    active = tuple(range(len(lexicons)))
    w = np.full(len(active), 1 / len(active))
    out = []
    for _ in range(n):
        omega = ens.distributions([0] * len(lexicons))
        if depth:
            x, _ = look.next_char(Plan(active, (1.0,) * len(active), "linear", 4, depth), w, omega,
                                  Shaping(temperature=1.0, words=words), rng)
        else:  # the plain sampler, as the engine draws at /lookahead 0
            rho = keep_words(w @ omega, stage.coins(active, stage.open), words)
            x = draw(shape_distribution(rho, 1.0), rng)
        look.accept(x)  # the stage protocol, as the engine hands each committed character on
        stage.accept(x)
        ens.feed(x)
        out.append(chr(x))
    return "".join(out)


def share_with_bb(text: str) -> float:
    words = re.findall(r"[ab]+", text)
    return sum("bb" in w for w in words) / len(words)


@pytest.mark.parametrize("depth", [0, 8])
def test_at_words_1_the_text_keeps_to_the_lexicon_and_at_0_it_coins_as_it_will(depth):
    coins = share_with_bb(write(0.0, [NO_BB], depth))
    assert coins > 0.3
    assert share_with_bb(write(1.0, [NO_BB], depth)) == 0
    assert 0.02 < share_with_bb(write(0.05, [NO_BB], depth)) < coins  # low on the fader: coined words only rarer


@pytest.mark.parametrize("depth", [0, 8])
def test_beside_a_style_without_words_nothing_is_judged(depth):
    """A style whose memory has no lexicon (written before lexicons were kept) may write any word:
    the text is exactly what /words 0 writes."""
    assert write(1.0, [NO_BB, None], depth, n=600) == write(0.0, [NO_BB, None], depth, n=600)
