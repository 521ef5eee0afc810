"""Lookahead decoding and presence, with two toy styles whose words cannot be confused: one writes
words of a and b, the other words of x and y."""
from __future__ import annotations

import re

import numpy as np
import pytest

from instrument.core.lookahead import Lookahead, Plan, Shaping
from instrument.core.mixing import RULES, linear
from instrument.core.presence import WINDOW, Presence
from instrument.core.sampling import draw, shape_distribution

SPACE = ord(" ")


def _style(letters: str) -> np.ndarray:
    """(128, 128) next-character distributions by previous character: words of 2-5 letters."""
    table = np.full((128, 128), 1e-6)
    a, b = (ord(c) for c in letters)
    for prev in range(128):
        if prev in (a, b):
            table[prev, a] = table[prev, b] = 0.4
            table[prev, SPACE] = 0.2
        else:  # after a space (or anything else) a word starts
            table[prev, a] = table[prev, b] = 0.5
    return table / table.sum(axis=1, keepdims=True)


STYLES = [_style("ab"), _style("xy")]


class ToyEnsemble:
    """The rows interface of core.ensemble.Ensemble over the toy styles: a row's state is the
    last character it read."""

    def __init__(self):
        self.last = SPACE

    def distributions(self, active) -> np.ndarray:
        return np.stack([STYLES[i][self.last] for i in active])

    def feed(self, x: int) -> None:
        self.last = x

    def fork(self, active, rows: int) -> None:
        self.rows = np.full(rows, self.last)

    def step_rows(self, active, chars) -> np.ndarray:
        self.rows = np.where(np.asarray(chars) >= 0, chars, self.rows)
        return np.log(np.stack([STYLES[i][self.rows] for i in active]))  # (N, K, 128) logits

    def take_rows(self, active, source) -> None:
        self.rows = self.rows[np.asarray(source)]


def _write(n: int, depth: int, pi=(0.5, 0.5), seed: int = 0, moves: dict | None = None,
           temperature: float = 1.0, mode: str = "linear", phrase: float = 0.8, sweep: float = 0.0) -> str:
    """n characters of the toy styles; sweep: the temperature moves by this much every step
    (up, down, up...), as a knob swept by hand."""
    ens, look, rng = ToyEnsemble(), None, np.random.default_rng(seed)
    look = Lookahead(ens)
    out = []
    for t in range(n):
        pi = (moves or {}).get(t, pi)
        at = temperature + sweep * (t % 2)
        active = np.flatnonzero(np.array(pi) > 0)
        omega = ens.distributions(active)
        w = np.array(pi)[active] / sum(pi)
        if depth == 0:
            x = draw(shape_distribution(linear(w, omega), at), rng)
        else:
            plan = Plan(tuple(active.tolist()), tuple(np.array(pi)[active]), mode, 4, depth)
            x, _ = look.next_char(plan, w, omega, Shaping(temperature=at, phrase=phrase), rng)
            look.accept(x)  # the stage protocol: the committed character is handed back
        ens.feed(x)
        out.append(chr(x))
    return "".join(out)


def _mixed_words(text: str) -> int:
    return sum(1 for w in text.split() if set(w) & set("ab") and set(w) & set("xy"))


def test_the_per_character_mixture_writes_words_of_both_styles():
    assert _mixed_words(_write(600, depth=0)) > 20


def test_lookahead_writes_every_word_in_one_style_and_both_styles_are_heard():
    text = _write(600, depth=4)
    words = text.split()
    assert _mixed_words(text) == 0
    assert sum(set(w) <= set("ab") for w in words) > 0.2 * len(words)
    assert sum(set(w) <= set("xy") for w in words) > 0.2 * len(words)


def _phrases(text: str) -> list[tuple[str, int]]:
    """(style, words) of each run of words written by one style: "ab" or "xy"."""
    runs: list[tuple[str, int]] = []
    for word in text.split():
        style = "ab" if set(word) <= set("ab") else "xy"
        runs[-1:] = [(style, runs[-1][1] + 1)] if runs and runs[-1][0] == style else runs[-1:] + [(style, 1)]
    return runs


@pytest.mark.slow
@pytest.mark.parametrize("depth", [1, 4])
def test_phrase_keeps_a_style_for_several_words_and_the_faders_still_share_the_words(depth):
    """At phrase 0 the next word's style is drawn from the weights: with two equal styles a run
    of one style is 2 words long on average. At 0.8 the writer goes on with probability
    0.8 + 0.2 * 0.5 = 0.9, 10 words on average (12 measured: the choice between paths favours
    the likelier); and over many phrases each style still writes the share of words its fader
    asks. At depth 1 every word is begun after the space before it is committed, so the
    committed text's phrase is what carries it; at depth 4 the paths' pending words are too."""
    for phrase, low, high in ((0.0, 1.5, 2.6), (0.8, 6.0, 15.0)):
        runs = _phrases(_write(8000, depth=depth, phrase=phrase))
        mean = np.mean([n for _, n in runs])
        assert low < mean < high, (phrase, mean)
    runs = _phrases(_write(16000, depth=depth, pi=(0.75, 0.25), phrase=0.8))
    share = sum(n for style, n in runs if style == "ab") / sum(n for _, n in runs)
    assert share == pytest.approx(0.75, abs=0.08)


def test_a_move_ends_the_phrase_at_once():
    """The style writing a phrase does not keep the text after its fader goes down: a move
    starts the next word from the new weights (and the word being written from them too). Here
    style 0 leads, then the faders swap; left to the phrase, style 0 would go on for about 20
    more words."""
    for seed in range(5):
        text = _write(300, depth=8, pi=(1.0, 0.05), moves={200: (0.05, 1.0)}, phrase=0.95, seed=seed)
        before, after = _phrases(text[:200])[-1], _phrases(text[200:260])
        assert before[0] == "ab" and sum(n for style, n in after if style == "xy") >= 0.8 * sum(n for _, n in after)


def test_a_temperature_sweep_does_not_end_the_phrase():
    """A new temperature re-plans the paths (they were tempered at the old one) but the phrase
    goes on: a knob turned at every step must not make the styles take turns word by word."""
    runs = _phrases(_write(8000, depth=4, phrase=0.8, sweep=0.1))
    assert np.mean([n for _, n in runs]) > 6.0


@pytest.mark.parametrize("mode", sorted(RULES))
@pytest.mark.parametrize("temperature", [1.0, 0.5])
def test_one_style_alone_writes_with_lookahead_as_it_does_without(temperature, mode):
    """A soloist is not sharpened: the toy style ends a word with probability 0.2 at T 1 (tempered
    to 1/9 at T 0.5), so a sixth of its text is spaces (a tenth at T 0.5), with lookahead or not.
    Choosing the likelier path regardless of the mix made words longer (spaces 13% at T 1, 7% at T 0.5)."""
    expected = {1.0: 1 / 6, 0.5: 1 / 10}[temperature]
    for depth in (0, 8):
        text = _write(6000, depth=depth, pi=(1.0, 0.0), temperature=temperature, mode=mode)
        assert text.count(" ") / len(text) == pytest.approx(expected, abs=0.015), depth


def test_same_seed_same_text_and_another_seed_another():
    assert _write(300, depth=4, seed=3) == _write(300, depth=4, seed=3)
    assert _write(300, depth=4, seed=3) != _write(300, depth=4, seed=4)


def test_a_move_is_heard_in_the_next_character_not_a_lookahead_later():
    text = _write(200, depth=8, pi=(1.0, 0.0), moves={100: (0.0, 1.0)})
    assert set(text[:100]) <= set("ab ") and set(text[100:]) <= set("xy ")


@pytest.mark.parametrize("depth", [1, 2, 8])
def test_any_depth_writes_valid_text(depth):
    text = _write(200, depth=depth, pi=(1.0, 0.0))
    assert set(text) <= set("ab ") and "  " not in text


def test_presence_raises_a_style_the_listener_does_not_hear_until_it_is():
    """Style 0 explains every window better (a broad model); style 1's gain rises, 0's falls."""
    presence = Presence(2)
    active, pi = np.array([0, 1]), np.array([1.0, 1.0])
    for _ in range(20 * WINDOW):
        presence.hear(active, np.array([-1.0, -2.0]), pi, strength=1.0)
    w = presence.weights(pi, active, strength=1.0)
    assert w[1] > 0.8 and presence.share[0] > 0.9
    off = Presence(2)
    for _ in range(20 * WINDOW):
        off.hear(active, np.array([-1.0, -2.0]), pi, strength=0.0)
    np.testing.assert_allclose(off.weights(pi, active, strength=0.0), [0.5, 0.5])


def test_presence_raises_the_least_heard_style_most_when_one_style_is_heard_in_everything():
    """Style 0 (a broad model) wins 4 windows in 5 whatever is played, style 1 the fifth, style 2
    none. Style 2 must end with the largest weight: when the gains were not centred they all ran
    to the bound together, and styles 1 and 2 ended equal (0.50 each)."""
    presence = Presence(3)
    active, pi = np.arange(3), np.ones(3)
    for t in range(200 * WINDOW):
        leader = 1 if (t // WINDOW) % 5 == 0 else 0
        presence.hear(active, np.where(np.arange(3) == leader, -1.0, -2.0), pi, strength=1.0)
    w = presence.weights(pi, active, strength=1.0)
    assert w[2] > 4 * w[1] > 4 * w[0]


def test_presence_leaves_a_balanced_mix_alone_and_follows_unequal_faders():
    presence = Presence(2)
    active, pi = np.array([0, 1]), np.array([3.0, 1.0])
    for t in range(40 * WINDOW):  # style 0 wins 3 windows in 4, as its fader asks
        leader = 0 if (t // WINDOW) % 4 else 1
        presence.hear(active, np.where(np.arange(2) == leader, -1.0, -2.0), pi, strength=1.0)
    np.testing.assert_allclose(presence.weights(pi, active, 1.0), [0.75, 0.25], atol=0.08)


def test_a_style_that_feeds_on_its_own_runs_is_stopped_at_max_run():
    from instrument.core import lookahead as la

    sticky = np.full((128, 128), 1e-6)
    sticky[:, ord("a")] = 0.5
    sticky[:, ord("b")] = 0.5
    sticky[ord("a"), :] = 1e-6
    sticky[ord("a"), ord("a")] = 0.999  # after an a, another a, almost surely
    sticky /= sticky.sum(axis=1, keepdims=True)
    STYLES.append(sticky)
    try:
        text = _write(400, depth=4, pi=(0.0, 0.0, 1.0))
    finally:
        STYLES.pop()
    runs = [len(r) for r in re.findall("a+", text)]
    assert max(runs) == la.MAX_RUN and text.count("a") > 300


def _spacey(after_newline: bool) -> np.ndarray:
    """A style that, once it has written a space, writes spaces almost surely: straight after a
    newline (indentation) or inside a line."""
    table = np.full((128, 128), 1e-6)
    table[:, ord("a")] = 0.5
    table[:, ord("\n") if after_newline else SPACE] = 0.5
    table[ord("\n"), :] = 1e-6
    table[ord("\n"), SPACE if after_newline else ord("a")] = 1.0
    table[SPACE, :] = 1e-6
    table[SPACE, SPACE] = 0.999
    return table / table.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("after_newline", [True, False])
def test_indentation_and_gaps_inside_a_line_have_their_limits(after_newline):
    # Beeton with Python once wrote 1,400 spaces of "indentation", which was exempt from MAX_RUN
    from instrument.core import lookahead as la

    STYLES.append(_spacey(after_newline))
    try:
        text = _write(600, depth=4, pi=(0.0, 0.0, 1.0))
    finally:
        STYLES.pop()
    runs = [len(r) for r in re.findall(" +", text.lstrip(" "))]  # (the text's first spaces indent)
    assert max(runs) == (la.MAX_RUN if after_newline else la.MAX_GAP) and text.count(" ") > 300


def test_a_run_written_without_lookahead_counts_when_lookahead_comes_back():
    # plain sampling (or a prime) wrote 30 a's; lookahead, switched on again, may add only 2 more
    from instrument.core import lookahead as la

    sticky = np.full((128, 128), 1e-6)
    sticky[:, ord("a")] = 0.5
    sticky[:, ord("b")] = 0.5
    sticky[ord("a"), :] = 1e-6
    sticky[ord("a"), ord("a")] = 0.999
    sticky /= sticky.sum(axis=1, keepdims=True)
    STYLES.append(sticky)
    try:
        ens, rng = ToyEnsemble(), np.random.default_rng(0)
        look = Lookahead(ens)
        plan = Plan((2,), (1.0,), "linear", 4, 4)
        x, _ = look.next_char(plan, np.ones(1), ens.distributions([2]), Shaping(temperature=1.0), rng)  # a plan exists
        ens.feed(x)
        look.accept(x)
        for _ in range(la.MAX_RUN - 2):
            ens.feed(ord("a"))
            look.accept(ord("a"))
        text = ""
        for _ in range(10):
            x, _ = look.next_char(plan, np.ones(1), ens.distributions([2]), Shaping(temperature=1.0), rng)
            ens.feed(x)
            look.accept(x)
            text += chr(x)
    finally:
        STYLES.pop()
    assert len(text) - len(text.lstrip("a")) <= 2, text  # 30 + 2 = MAX_RUN
