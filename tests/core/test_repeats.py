"""The loop guard: the repeat the text is in, followed along lookahead paths, and the push off it."""
from __future__ import annotations

import numpy as np
import pytest

from instrument.core.repeats import GUARD_FROM, GUARD_SCALE, Repeats, guard


def _read(text: bytes) -> Repeats:
    r = Repeats()
    for x in text:
        r.accept(x)
    return r


def test_a_phrase_said_over_and_over_is_a_repeat_that_grows_a_character_at_a_time():
    r = _read(b"In the beginning. " + b"and Abiathar, " * 20)
    char, length = r.next()
    assert chr(char) == "a" and length >= len(b"and Abiathar, ") * 19  # all but the first time
    r.accept(ord("a"))
    assert r.next()[1] == length + 1
    r.accept(ord("X"))  # it leaves the phrase: no repeat
    assert r.next() == (-1, 0)


def test_a_row_of_spaces_and_an_asterisk_is_seen_where_the_copy_model_is_blind():
    """min-p 0.5 wrote "            *" for the rest of the piece: the copy model's six-character
    match inside a run of spaces is one character back, and it never saw the loop."""
    r = _read(b"x" * 5 + b"            *" * 30)
    char, length = r.next()
    assert chr(char) == " " and length > 300


def test_a_loop_of_lines_each_written_twice_is_seen_whole():
    """The code mix at top-p 0.01 wrote two #include lines, each twice, for the rest of the piece:
    the last occurrence of the text's end is the line just before (a repeat never longer than a
    line), the loop is four lines back."""
    loop = b"#include <linux/sched/cputime.h>\n" * 2 + b"#include <linux/cpu.h>\n" * 2
    r = _read(b"/* start */\n" + loop * 6)
    char, length = r.next()
    assert length >= len(loop) * 5 and chr(char) == "#"


def test_text_that_does_not_repeat_has_no_repeat():
    r = _read(b"The quick brown fox jumps over the lazy dog; pack my box with five dozen liquor jugs.")
    assert r.next() == (-1, 0)


def test_each_lookahead_path_follows_the_repeat_or_leaves_it():
    r = _read(b"and Abiathar, " * 5)
    paths = np.array([list(b"and Ab"), list(b"and Xy"), list(b"an")[:1] * 6])
    chars, lengths = r.along(paths)
    assert chr(chars[0]) == "i" and lengths[0] == r.next()[1] + 6
    assert chars[1] == -1 and lengths[1] == 0 and chars[2] == -1


def test_the_guard_leaves_short_repeats_alone_and_pushes_long_ones_harder_as_they_grow():
    p = np.full(128, 0.2 / 127)
    p[ord("a")] = 0.8
    assert guard(p, ord("a"), GUARD_FROM, 1.0) is p  # a refrain, a repeated name: untouched
    pushed = [guard(p, ord("a"), GUARD_FROM + k, 1.0)[ord("a")] for k in (8, 24, 64)]
    assert pushed[0] < 0.8 and pushed[0] > pushed[1] > pushed[2] and pushed[2] < 0.01
    assert guard(p, ord("a"), 500, 0.0) is p  # /loop_guard 0: off
    np.testing.assert_allclose(guard(p, ord("a"), 100, 1.0).sum(), 1.0)
    cold = np.zeros(128)  # tempered at 0.05: the repeat is certain but for 1e-30
    cold[ord("a")], cold[ord("b")] = 1.0, 1e-30
    assert guard(cold, ord("a"), GUARD_FROM + 20 * GUARD_SCALE, 1.0)[ord("b")] == 1.0
    only = np.eye(128)[ord("a")]  # nothing else to write: left as it is, never a row of zeros
    np.testing.assert_array_equal(guard(only, ord("a"), 500, 1.0), only)


def test_rows_are_pushed_each_by_their_own_repeat():
    p = np.full((2, 128), 1 / 128)
    out = guard(p, np.array([ord("a"), -1]), np.array([200, 0]), 1.0)
    assert out[0, ord("a")] < 1e-5 and np.allclose(out[1], p[1])


@pytest.mark.slow
@pytest.mark.parametrize("setting", [{"/top_p": 0.01}, {"/min_p": 0.5}, {"/temperature": 0.05}])
def test_the_cold_ends_of_the_faders_do_not_loop(setting):
    """Three shipped styles at a cold end of a fader: without the guard they write one phrase for
    the rest of the piece ("and Abiathar, and Abiathar, ..."); with it no stretch of more than 200
    characters comes twice, with lookahead (the default) or without."""
    from instrument.app.parts import build_engine
    from instrument.app.settings import EngineSettings

    names = ["bible", "austen", "shakespeare"]

    def text(values: dict) -> str:
        settings = EngineSettings(models=names, mix={n: 1.0 for n in names}, values={"/seed": 1, **setting, **values})
        return build_engine(settings).write(1200)

    if "/top_p" in setting:  # the loop the guard is for (the others loop with more styles up), as the
        # styles wrote it before the words guard, which changes what a cold end's likeliest path is
        assert _longest_repeat(text({"/loop_guard": 0.0, "/words": 0.0, "/lookahead": 0})) > 300
    for look in (0, 8):
        assert _longest_repeat(text({"/lookahead": look})) <= 200, look


def _longest_repeat(text: str) -> int:
    lo, hi = 0, len(text) // 2
    while lo < hi:
        n = (lo + hi + 1) // 2
        seen, found = set(), False
        for i in range(len(text) - n + 1):
            s = text[i:i + n]
            if s in seen:
                found = True
                break
            seen.add(s)
        lo, hi = (n, hi) if found else (lo, n - 1)
    return lo
