"""The flood guard: whitespace outside indentation counted over the committed text and along
lookahead paths, and the push on what would add to it."""
from __future__ import annotations

import numpy as np
import pytest

from instrument.core.floods import FEWEST, INDENT, SHARE_FROM, WINDOW, Floods, flood_guard

SPACE, NEWLINE = ord(" "), ord("\n")
NONE = np.zeros(128, dtype=bool)  # no characters seen: the text is younger than the window


def _read(text: bytes) -> Floods:
    f = Floods()
    for x in text:
        f.accept(x)
    return f


def test_indented_code_is_no_flood():
    line = b"        if (x) {\n" + b"                return y;\n" + b"        }\n"
    assert _read(line * 30).share() < 0.1


def test_spaces_inside_a_line_are_a_flood():
    """The code mix at temperature 0.3: a quote and twelve spaces over and over."""
    f = _read(b'    x = "' + b'            "' * 40)
    assert f.share() > 0.8
    assert f.now()[1] == -1  # the line has content: a space there adds to the flood


def test_a_line_of_nothing_but_spaces_is_a_flood_once_it_ends():
    f = _read(b"x\n" + b" " * 20)
    assert f.share() == 0  # so far it may be indentation
    f.accept(NEWLINE)
    assert f.share() == 20 / WINDOW


def test_leading_whitespace_deeper_than_indentation_is_a_flood():
    f = _read(b"x\n" + b" " * (INDENT + 10))
    assert f.share() == 10 / WINDOW


def test_the_share_is_taken_over_the_last_window_only():
    f = _read(b"a b" + b" " * 0 + b"a" * (2 * WINDOW) + b"ab " * 10)
    assert f.share() == 10 / WINDOW


def test_each_lookahead_path_is_counted_with_the_committed_text():
    f = _read(b"word" + b"x " * 50)  # 50 flood spaces
    paths = np.array([list(b"  "), list(b"ab"), list(b"\n ")])
    shares, lines, _ = f.along(paths)
    committed = sum(f.flags[-(WINDOW - 2):])
    np.testing.assert_allclose(shares, np.array([committed + 2, committed, committed]) / WINDOW)
    assert lines.tolist() == [-1, -1, 1]  # content, content, one space of a new line's indentation


def test_the_guard_pushes_spaces_an_e_fold_a_flood_character_and_leaves_them_out_past_forty_percent():
    p = np.full(128, 0.5 / 126)
    p[SPACE], p[NEWLINE] = 0.4, 0.1
    assert flood_guard(p, SHARE_FROM, -1, NONE, 1.0) is p  # at the threshold: untouched
    assert flood_guard(p, 0.9, -1, NONE, 0.0) is p  # /flood_guard 0: off
    one, five = (flood_guard(p, SHARE_FROM + k / WINDOW, -1, NONE, 1.0) for k in (1, 5))
    odds = lambda q: q[SPACE] / q[ord("a")]
    np.testing.assert_allclose([odds(one), odds(five)], [odds(p) / np.e, odds(p) / np.e ** 5])
    assert flood_guard(p, 0.40, -1, NONE, 1.0)[SPACE] == 0.0
    assert flood_guard(p, 0.9, -1, NONE, 1.0)[NEWLINE] > p[NEWLINE]  # a newline ends the line: no flood
    np.testing.assert_allclose(five.sum(), 1.0)


def test_even_the_coldest_certainty_of_a_space_is_turned():
    """Tempered at 0.05, every code style gives a space after forty spaces 1 - 1e-30: next to it
    the other characters vanish from a sum, and no finite push would turn it."""
    p = np.zeros(128)
    p[SPACE], p[ord("(")] = 1.0, 5e-30
    assert flood_guard(p, 0.9, -1, NONE, 1.0)[ord("(")] == 1.0


def test_at_a_line_start_spaces_indent_and_only_an_empty_line_is_pushed():
    p = np.full(128, 0.5 / 126)
    p[SPACE], p[NEWLINE] = 0.4, 0.1
    out = flood_guard(p, 0.9, 4, NONE, 1.0)  # four spaces of indentation so far
    assert out[SPACE] > p[SPACE] and out[NEWLINE] < 1e-4
    np.testing.assert_array_equal(flood_guard(p, 0.9, 0, NONE, 1.0), p)  # a new line: nothing adds to a flood
    assert flood_guard(p, 0.9, INDENT, NONE, 1.0)[SPACE] < 1e-4  # deeper than indentation goes


def test_rows_are_pushed_each_by_their_own_flood_and_a_row_of_only_spaces_is_kept():
    p = np.full((2, 128), 1 / 128)
    out = flood_guard(p, np.array([0.9, 0.1]), np.array([-1, -1]), np.zeros((2, 128), bool), 1.0)
    assert out[0, SPACE] < 1e-4 and np.allclose(out[1], p[1])
    only = np.eye(128)[SPACE]
    np.testing.assert_array_equal(flood_guard(only, 0.9, -1, NONE, 1.0), only)


def test_the_characters_of_the_last_window_are_seen_once_it_is_full():
    young = _read(b"abc ")
    assert not young.seen().any()  # a text's first lines hold few kinds by nature
    f = _read(b"xyz" * 10 + b'    "\n' * 40)
    assert set(np.flatnonzero(f.seen())) == {ord(c) for c in ' "\n'}  # the xyz are out of the window


def test_a_text_of_a_few_characters_must_write_something_new():
    """An indented quote a line, over and over, or Python's '__doc__', in lines of two and three:
    every character the window holds is left out until it holds FEWEST kinds (spaces aside); at a
    lower level the push is milder."""
    p = np.full(128, 0.2 / 125)
    p[SPACE], p[NEWLINE], p[ord('"')] = 0.3, 0.2, 0.3
    one = _read(b'    "\n' * 40).seen()
    out = flood_guard(p, 0.0, -1, one, 1.0)
    assert out[[SPACE, NEWLINE, ord('"')]].sum() == 0.0 and out[ord("a")] > p[ord("a")]
    doc = _read(b"            '__doc__', '__doc__',\n" * 8).seen()  # six kinds
    assert flood_guard(p, 0.0, -1, doc, 1.0)[NEWLINE] == 0.0
    half = flood_guard(p, 0.0, -1, doc, 0.5)
    assert 0 < half[NEWLINE] < p[NEWLINE]
    enough = _read(bytes(range(ord("a"), ord("a") + FEWEST)) * 30).seen()
    assert flood_guard(p, 0.0, -1, enough, 1.0) is p


def test_a_style_of_few_characters_by_nature_is_left_alone():
    """A style that writes one letter (the tests' letter styles) gives everything else 2e-6: the
    window's few kinds are its own, not a flood, and nothing is pushed. The code mix's floods of
    quotes came with 0.04-0.14 on the characters the window lacked."""
    from instrument.core.stages import Heard

    def step(omega_row):
        return Heard(active=np.array([0]), pi=np.array([1.0]), omega=omega_row[None])

    one_letter = np.full(128, 2e-6 / 126)
    one_letter[ord("b")], one_letter[SPACE] = 0.88, 0.12 - 2e-6
    f = Floods()
    for x in b"bbbb " * 50:
        f.accept(x, step(one_letter))
    assert not f.seen().any()
    code = np.full(128, 0.05 / 126)
    code[ord('"')], code[NEWLINE], code[SPACE] = 0.35, 0.3, 0.3
    for x in b'    "\n' * 40:
        f.accept(x, step(code))
    assert f.seen()[ord('"')]


def test_each_lookahead_path_adds_its_own_characters_to_those_seen():
    f = _read(b'    "\n' * 40)
    _, _, seen = f.along(np.array([list(b"ab"), list(b'  ')]))
    assert seen[0, ord("a")] and seen[0, ord("b")] and not seen[1, ord("a")] and seen[1, ord('"')]


@pytest.mark.slow
def test_the_code_styles_at_a_cold_end_do_not_flood_the_page_with_spaces():
    """Python and Emacs Lisp at top-p 0.01 agree that the likeliest character after spaces is
    another space: without the guard 57% of the text is whitespace outside indentation (with
    lookahead, the default); with it, under 40% with lookahead or without."""
    from instrument.app.parts import build_engine
    from instrument.app.settings import EngineSettings

    names = ["python", "elisp"]

    def flood(values: dict) -> float:
        settings = EngineSettings(models=names, mix={n: 1.0 for n in names}, values={"/seed": 1, "/top_p": 0.01, **values})
        return outdented_whitespace(build_engine(settings).write(1200))

    assert flood({"/flood_guard": 0.0}) > 0.4
    for look in (0, 8):
        assert flood({"/lookahead": look}) < 0.4, look


def outdented_whitespace(text: str) -> float:
    """The share of whitespace outside indentation, as bench/quality.py measures it."""
    body = "".join(line.lstrip(" \t") if line.strip() else line for line in text.split("\n"))
    return sum(c.isspace() for c in body) / max(1, len(text))
