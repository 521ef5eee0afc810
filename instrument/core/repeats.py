"""The loop guard: how long the text has been repeating itself, and a push off the repeat.

At the cold ends of the faders (top-p 0.01, min-p 0.5, temperature 0.3) eight styles agree on one
likeliest path, and the likeliest path after a phrase is the phrase again: "and Abiathar, and
Abiathar, ..." for the rest of the piece (a run of 2,334 characters), or a row of spaces and an
asterisk written over and over. The copy model cannot see these loops (its match is the last
occurrence of six characters, which inside a run of spaces is one character back), so this
stage follows the repeat itself: the length R of the text's end that it has written before, d
characters back (the longest found from the last CANDIDATES occurrences of its last KEY
characters, then followed one character at a time while it holds). Once R passes GUARD_FROM,
the character that would go on repeating is made less likely, by exp(-level (R - GUARD_FROM) /
GUARD_SCALE): a loop of a hundred characters is broken, a line of verse that comes back once (a
refrain) is not touched.
From sampling.TOTAL e-folds on (R = 192 at level 1) the character is left out: at temperature
0.05 every style gives a row of spaces its next space 1 - 1e-30, which no finite push turns (the
code mix wrote 897 characters twice).
"""
from __future__ import annotations

import numpy as np

from .sampling import push_down

KEY = 12           # characters whose last occurrence proposes a repeat
WINDOW = 5000      # characters back a repeat is looked for
GUARD_FROM = 32    # characters repeated before the guard pushes (a repeated name, a short refrain, is shorter)
GUARD_SCALE = 8    # characters of repeat over GUARD_FROM for each e-fold of the push
LONGEST = 512      # a new repeat is followed back this far at most (past it the push is total anyway)
CANDIDATES = 4     # earlier occurrences of the last KEY characters tried for the longest repeat


class Repeats:
    """The committed text's repeat: its length, its distance back, and the character it predicts."""

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        self.text = bytearray()
        self.offset = 0
        # the last KEY characters -> the last CANDIDATES places they ended (absolute), oldest first
        self.seen: dict[bytes, list[int]] = {}
        self.length, self.distance = 0, 0

    def accept(self, x: int, heard=None) -> None:
        """The stage protocol (core/stages.py): x is committed (written or primed)."""
        self.text.append(x)
        n = self.offset + len(self.text)
        if self.distance and self._at(n - 1 - self.distance) == x:
            self.length += 1
        else:
            self.length, self.distance = self._find(n)
        if len(self.text) >= KEY:
            ends = self.seen.setdefault(bytes(self.text[-KEY:]), [])
            ends.append(n)
            if len(ends) > CANDIDATES:
                del ends[0]
        if len(self.text) > 2 * WINDOW:
            self._forget()

    def _at(self, i: int) -> int:
        j = i - self.offset
        return self.text[j] if 0 <= j < len(self.text) else -1

    def _find(self, n: int) -> tuple[int, int]:
        """(length, distance) of the longest repeat the text's end starts now, among the last
        CANDIDATES occurrences of its last KEY characters. (The last one alone is often the
        shortest: in "A\nA\nB\nB\n" over and over it is the line just before, and the loop of four
        lines, 578 characters written twice by the code mix at top-p 0.01, was never seen.)"""
        if len(self.text) < KEY:
            return 0, 0
        best = (0, 0)
        for before in reversed(self.seen.get(bytes(self.text[-KEY:]), ())):
            distance = n - before
            if distance > WINDOW:
                break
            length = KEY
            while length < LONGEST and self._at(n - 1 - length) >= 0 and \
                    self._at(n - 1 - length) == self._at(n - 1 - length - distance):
                length += 1
            best = max(best, (length, distance))
        return best
    def _forget(self) -> None:
        drop = len(self.text) - WINDOW
        del self.text[:drop]
        self.offset += drop
        kept = ((k, [at for at in ends if at - KEY >= self.offset]) for k, ends in self.seen.items())
        self.seen = {k: ends for k, ends in kept if ends}

    def next(self) -> tuple[int, int]:
        """(the character that would go on repeating, how long the repeat is); -1 when none."""
        if not self.distance:
            return -1, 0
        return self._at(self.offset + len(self.text) - self.distance), self.length

    def along(self, paths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For K lookahead paths (their pending characters, (K, D)): the character each would
        repeat next and the repeat's length, the committed repeat followed along each path (a path
        that leaves it has none)."""
        K, D = paths.shape
        chars, lengths = np.full(K, -1), np.zeros(K, dtype=int)
        if not self.distance:
            return chars, lengths
        n, d = self.offset + len(self.text), self.distance
        for k in range(K):
            length, ok = self.length, True
            for t in range(D):
                i = n + t - d  # the character this one repeats
                if (paths[k, t - d] if i >= n else self._at(i)) != paths[k, t]:
                    ok = False
                    break
                length += 1
            if ok:
                i = n + D - d
                chars[k] = paths[k, D - d] if i >= n else self._at(i)
                lengths[k] = length
        return chars, lengths


def guard(p: np.ndarray, char, length, level: float) -> np.ndarray:
    """p (128,) or (K, 128) with the repeating character (one, or one a row) pushed down once the
    repeat is longer than GUARD_FROM, and left out from sampling.TOTAL e-folds on (a repeat of
    GUARD_FROM + 160 at level 1); rows renormalised. level 0 (or no repeat) leaves p as it is."""
    push = level * np.maximum(np.asarray(length) - GUARD_FROM, 0) / GUARD_SCALE
    if level <= 0 or not np.any(push > 0):
        return p
    out = np.array(p, dtype=np.float64)
    view = out.reshape(-1, out.shape[-1])
    for r, (c, e) in enumerate(zip(np.atleast_1d(np.asarray(char)), np.atleast_1d(push))):
        if c >= 0:
            push_down(view[r], [c], e)
    return out
