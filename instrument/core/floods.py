"""The flood guard: spaces pushed down once the text is mostly spaces, or the same few characters.

At the cold ends of the faders the code styles agree that the likeliest character after a space
is another space: with five code styles and Beeton, temperature 0.3 wrote `"            "` over
and over (74% whitespace), min-p 0.5 90%, product mode 79%. The loop guard (core/repeats.py)
breaks each exact repeat, but the run of spaces only changes its length and goes on. So this
stage counts what a reader sees as a flood: whitespace outside indentation (spaces and tabs
inside a line, a line's leading whitespace past INDENT, and every space of a line with nothing
else on it), over the last WINDOW characters. Past SHARE_FROM of them (60 of 200), a space or
tab that would add to the flood (and the newline that would end a line of nothing but whitespace)
is made e times less likely for each flood character more, and from 20 more (40%) it is not
written at all (sampling.push_down; a soft push alone never turns the coldest temperature, where
every style gives the next space 1 - 1e-30). /flood_guard's level scales the e-folds.

In the corpora, 200 characters are at most 19-23% such whitespace in 99 windows of 100 (Python,
Emacs Lisp and Beeton's tables reach 41-52% in one of a thousand), so the guard leaves a style's
own text alone and only a flood is pushed.

A flood can also be of a few characters: at temperature 0.05 the same mix, its spaces pushed,
wrote an indented quote a line, `            "` over and over (13% whitespace outside indentation,
and no exact repeat the loop guard could follow for long), and Python alone `'__doc__',` in lines
of two and three (225 characters written twice). So the guard also counts the kinds of character
the last WINDOW is made of, spaces aside: fewer than FEWEST, and every character it holds is left
out of the next (sampling.TOTAL), so the text writes something new until it has FEWEST kinds
again. 200 characters of the corpora hold 11-22 kinds at the least (Emacs Lisp, Beeton) and 28-37
as a rule; the floods seen held one to six. A style whose text has few kinds of character by
nature (DNA's four letters, the tests' styles of one letter) is left alone: the guard waits until
the styles themselves give the characters the window lacks at least NOVEL of their probability
(the code mix's floods came with letters and brackets at 0.04-0.14; a style of one letter gives
the rest 2e-6).
"""
from __future__ import annotations

import numpy as np

from .sampling import TOTAL, push_down

WINDOW = 200        # characters the share is taken over
SHARE_FROM = 0.30   # flood share before the guard pushes
SHARE_SCALE = 1 / WINDOW  # share over SHARE_FROM for each e-fold: each flood character more
INDENT = 32         # leading whitespace deeper than this is a flood, not indentation
SPACE, TAB, NEWLINE = 32, 9, 10
CONTENT = -1        # `line` once the line has something other than whitespace
FEWEST = 8          # kinds of character (spaces aside) in WINDOW below which the text is a flood of them
NOVEL = 1e-4        # the styles' probability of something new below which a few kinds are their own
WHITESPACE = np.zeros(128, dtype=bool)
WHITESPACE[[SPACE, TAB, NEWLINE]] = True


def flag(line: int, x: int) -> tuple[int, int, int]:
    """x written on a line whose state is `line` (the whitespace it began with, or CONTENT):
    (1 if x is flood whitespace, the line's state after x, how many of the line's earlier
    characters become flood: a newline after a line of nothing but whitespace makes its
    indentation (up to INDENT, the rest already counted) a flood)."""
    if x in (SPACE, TAB):
        if line == CONTENT:
            return 1, CONTENT, 0
        return int(line + 1 > INDENT), line + 1, 0
    if x == NEWLINE:
        return 0, 0, min(max(line, 0), INDENT)
    return 0, CONTENT, 0


def pushed(line: int) -> list[int]:
    """The characters that would add to a flood on a line whose state is `line`."""
    if line == CONTENT:
        return [SPACE, TAB]
    if line >= INDENT:
        return [SPACE, TAB, NEWLINE]
    return [NEWLINE] if line > 0 else []


class Floods:
    """The committed text's flood: which of its last characters are whitespace outside indentation,
    and which characters its last WINDOW are made of."""

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        self.flags = bytearray()  # 1 for each committed character that is flood whitespace
        self.text = bytearray()   # the committed characters (the last WINDOW to 2 WINDOW of them)
        self.counts = np.zeros(128, dtype=np.int64)  # each character's count in the last WINDOW
        self.line = 0  # the text begins as if after a newline
        self.novel = 1.0  # what the styles gave, at the last step, to characters the window lacks

    def accept(self, x: int, heard=None) -> None:
        """The stage protocol (core/stages.py): x is committed (written or primed)."""
        f, self.line, earlier = flag(self.line, x)
        if earlier:
            start = max(0, len(self.flags) - earlier)
            self.flags[start:] = b"\x01" * (len(self.flags) - start)
        self.flags.append(f)
        self.text.append(x)
        self.counts[x] += 1
        if len(self.text) > WINDOW:
            self.counts[self.text[-WINDOW - 1]] -= 1
        if len(self.flags) > 2 * WINDOW:
            del self.flags[:-WINDOW], self.text[:-WINDOW]
        if heard is not None and not heard.primed:
            self.novel = _novel(heard, self.counts > 0)

    def share(self, pending: int = 0) -> float:
        """The flood's share of the last WINDOW characters, leaving room for `pending` more."""
        keep = WINDOW - pending
        return sum(self.flags[-keep:]) / WINDOW if keep > 0 else 0.0

    def seen(self) -> np.ndarray:
        """(128,) which characters the last WINDOW hold, the ones a flood of a few would push down;
        none before the text is WINDOW long (its first lines are few characters by nature), nor
        when the styles themselves see almost nothing else to write (under NOVEL of their
        probability on the characters the window lacks: a style of one letter writes it)."""
        if len(self.text) < WINDOW or self.novel < NOVEL:
            return np.zeros(128, dtype=bool)
        return self.counts > 0

    def now(self) -> tuple[float, int, np.ndarray]:
        """(the flood's share, the line's state, the characters seen) after the committed text."""
        return self.share(), self.line, self.seen()

    def along(self, paths: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For K lookahead paths (their pending characters, (K, D)): each path's flood share, line
        state and characters seen, the committed text's followed along the path."""
        K, D = paths.shape
        base = self.share(D) * WINDOW
        shares, lines = np.zeros(K), np.zeros(K, dtype=int)
        for k in range(K):
            count, line = base, self.line
            for x in paths[k].tolist():
                f, line, earlier = flag(line, x)
                count += f + earlier
            shares[k], lines[k] = count / WINDOW, line
        seen = np.repeat(self.seen()[None], K, axis=0)
        if seen.any():
            seen[np.arange(K)[:, None], paths] = True
        return shares, lines, seen


def _novel(heard, seen: np.ndarray) -> float:
    """The mixture's probability (the styles' own, before any temperature) of the characters the
    window lacks, at the step that wrote the last character."""
    weights = np.asarray(heard.pi)[heard.active]
    if weights.sum() <= 0:
        return 1.0
    mixed = (weights / weights.sum()) @ np.asarray(heard.omega)
    return float(mixed[~seen].sum())


def flood_guard(p: np.ndarray, share, line, seen, level: float) -> np.ndarray:
    """p (128,) or (K, 128) pushed off a flood (rows renormalised; level 0 leaves p alone, and so
    does a row with nothing else to write): the characters that would add to a flood of whitespace,
    once its share is over SHARE_FROM, and every character the last WINDOW holds, once they are
    fewer than FEWEST kinds (spaces aside): those are left out."""
    if level <= 0:
        return p
    space = level * np.maximum(np.atleast_1d(share) - SHARE_FROM, 0.0) / SHARE_SCALE
    seen = np.atleast_2d(seen)
    kinds = (seen & ~WHITESPACE).sum(axis=1)
    few = np.where(seen.any(axis=1) & (kinds < FEWEST), level * TOTAL, 0.0)
    if not (np.any(space > 0) or np.any(few > 0)):
        return p
    out = np.array(p, dtype=np.float64)
    view = out.reshape(-1, out.shape[-1])
    for r, (state, e, f) in enumerate(zip(np.atleast_1d(line), space, few)):
        chars = pushed(int(state))
        if chars and e > 0:
            push_down(view[r], chars, e)
        if f > 0:
            push_down(view[r], np.flatnonzero(seen[r]), f)
    return out
