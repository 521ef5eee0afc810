"""The copy model: a style that remembers what the text has already said.

An LSTM of this size forgets within a few hundred characters, and code repeats itself further
away than that: an identifier, a call, a block of boilerplate comes back. That is where xz beat
the code styles. The copy model (a "match model", as in PAQ, or the neural cache of Grave et al.,
2017) remembers: where the last MIN characters of the text occurred before, it predicts the
character that followed them then. Each style mixes it into its own distribution,

    p_i(x) = (1 - g_i) p_lstm_i(x) + g_i [x == copied],   g_i = lambda_i(L) * fade_i ** run * level,

where L is how far back the match goes (in bands of BAND characters, up to LONGEST), run is how
long the text has been copying (one more for each right copy, halved for a miss: carry_run), and
level is the /copy fader.
lambda and fade are fitted per style on its training text (train/copyfit.py) and kept in its card:
code styles copy a lot, prose styles hardly. In product mode the copy joins the styles' product
once, by their weighted gains (mix_after), not each style. The fade keeps a style from reciting: without it,
copying fed on its own output and wrote the same 500-1,000 characters twice (bench/copying.py).

The copy model reads only the committed text, the text the styles have written together, never
a training corpus; the same code measures each card's held-out figure (it reads the held-out
text as it goes, as xz does) and plays.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MIN = 6           # characters of context a match needs
LONGEST = 64      # a match is followed back this far at most
BAND = 4          # lambda per band of this many characters of match length
BANDS = LONGEST // BAND + 1  # the last band: LONGEST and over
MEMORY = 1 << 18  # characters of text searched (about 70 minutes at 60 characters a second)


@dataclass(frozen=True)
class CopyTable:
    """One style's copy weights: lambda per band of match length, and the fade per right copy."""

    lam: tuple = (0.0,) * BANDS
    fade: float = 1.0

    @classmethod
    def from_card(cls, section) -> CopyTable:
        """The card's `copy:` section; ValueError saying what is wrong with it."""
        if not isinstance(section, dict):
            raise ValueError("copy: is not a mapping")
        lam, fade = section.get("lambda"), section.get("fade")
        if not isinstance(lam, list) or len(lam) != BANDS:
            raise ValueError(f"copy.lambda must be a list of {BANDS} numbers")
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in [*lam, fade]):
            raise ValueError("copy.lambda and copy.fade must be numbers")
        try:
            lam, fade = [float(v) for v in lam], float(fade)
        except OverflowError:
            raise ValueError("copy.lambda and copy.fade must be finite numbers") from None
        if not all(0.0 <= v < 1.0 for v in lam) or not 0.0 < fade <= 1.0:  # NaN fails both
            raise ValueError("copy.lambda must lie in [0, 1) and copy.fade in (0, 1]")
        return cls(tuple(lam), fade)

    def to_card(self, digits: int | None = 4) -> dict:
        """The card's section; digits None keeps every digit (a recording must replay the weights
        the piece played, which a hand-edited card may give to more places)."""
        lam = list(self.lam) if digits is None else [round(v, digits) for v in self.lam]
        return {"lambda": lam, "fade": self.fade}


def band(length: np.ndarray | int) -> np.ndarray:
    return np.minimum(np.asarray(length) // BAND, BANDS - 1)


def carry_run(run, hit):
    """How long the text has been copying, after one more character: one more for a right copy,
    halved for a miss. Not reset to 0: a loop misses once a period where its lines differ (after
    "     * @" lodash's doc comments go on "static" or "memberOf"), and a run that started again
    there left its copy at full weight: JavaScript wrote 204 characters twice in 3,000, 82 when
    halved, for 0.036 bpc more on its held-out text (0.013 for Python)."""
    return np.where(hit, run + 1, run // 2) if isinstance(run, np.ndarray) else (run + 1 if hit else run // 2)


class Copier:
    """The copy model over the committed text, and every style's weights for it.

    `pred` is what it predicts for the next character (-1: no match), `length` how far back that
    match goes, `run` how long the text has been copying (see carry_run)."""

    def __init__(self, tables: list[CopyTable] | None = None, n_styles: int = 0):
        tables = tables or [CopyTable()] * n_styles
        self.lam = np.array([t.lam for t in tables], dtype=np.float64).reshape(len(tables), BANDS)
        self.fade = np.array([t.fade for t in tables], dtype=np.float64)
        self.copies = bool(self.lam.any())  # whether any style copies (a table of zeros costs nothing a step)
        self.reset()

    def table(self, i: int) -> CopyTable:
        """Style i's copy weights (what a recording keeps, so a replay copies as the piece did)."""
        return CopyTable(tuple(float(v) for v in self.lam[i]), float(self.fade[i]))

    def reset(self) -> None:
        self.text = bytearray()
        self.offset = 0                  # absolute position of text[0] (older text is forgotten)
        self.seen: dict[bytes, int] = {}  # the last MIN characters -> absolute position of what followed
        self.pred, self.length, self.run = -1, 0, 0

    def accept(self, x: int, heard=None) -> None:
        """x is committed, written or primed (the stage protocol, core/stages.py): the run grows
        or halves, and the next character's prediction is made."""
        self.run = carry_run(self.run, x == self.pred)
        self.text.append(x)
        end = self.offset + len(self.text)
        if len(self.text) >= MIN:
            key = bytes(self.text[-MIN:])
            self.pred, self.length = self._lookup(key, bytes(self.text[-LONGEST - 1:]))
            self.seen[key] = end
        if len(self.text) > 2 * MEMORY:
            self._forget()

    def predict(self, pending: bytes | bytearray) -> tuple[int, int]:
        """(prediction, match length) for the character after the committed text and `pending`
        (a lookahead path's characters not yet committed). Only the committed text is searched for
        the last MIN characters (a path's own few characters hold a match only inside a run)."""
        if not pending:
            return self.pred, self.length
        tail = bytes(self.text[-LONGEST - 1:]) + bytes(pending)
        if len(tail) < MIN:
            return -1, 0
        return self._lookup(tail[-MIN:], tail, bytes(pending))

    def _lookup(self, key: bytes, tail, pending: bytes = b"") -> tuple[int, int]:
        """The character that followed the last occurrence of key, and how far back the match
        with `tail` (the text ending with key) goes."""
        k = self.seen.get(key)
        if k is None:
            return -1, 0
        i = k - self.offset  # where the character that followed is, in text + pending
        n = MIN
        while n < LONGEST and i - n - 1 >= 0 and n + 1 <= len(tail) and self.text[i - n - 1] == tail[-n - 1]:
            n += 1
        return (self.text[i] if i < len(self.text) else pending[i - len(self.text)]), n

    def _forget(self) -> None:
        """Keep the last MEMORY characters: text before them is no longer searched."""
        drop = len(self.text) - MEMORY
        del self.text[:drop]
        self.offset += drop
        self.seen = {key: at for key, at in self.seen.items() if at >= self.offset}

    def gains(self, active: np.ndarray, length, run, level: float) -> np.ndarray:
        """g for each active style: (N,) for a scalar length and run, (K, N) for K of each."""
        active = np.asarray(active)
        g = np.moveaxis(self.lam[active][:, band(length)], 0, -1)  # (..., N)
        g = g * self.fade[active] ** np.asarray(run)[..., None] * level
        return np.where(np.asarray(length)[..., None] > 0, g, 0.0)

    def mix(self, omega: np.ndarray, active: np.ndarray, level: float, pred=None, length=None, run=None) -> np.ndarray:
        """Each active style's distribution with the copy mixed in. omega: (N, 128) after the
        committed text (pred, length, run default to the committed ones), or (K, N, 128) for K
        lookahead paths with pred, length, run of shape (K,)."""
        if not self.copies or level <= 0:
            return omega
        pred, length, run = self._where(pred, length, run)
        return _spike(omega, pred, self.gains(active, length, run, level))  # g: (N,) or (K, N)

    def mix_after(self, p: np.ndarray, active: np.ndarray, weights: np.ndarray, level: float, pred=None,
                  length=None, run=None) -> np.ndarray:
        """A mixture p (128,), or (K, 128) for K paths, with the copy mixed in once, by the styles'
        weighted gains (weights summing to 1). Product mode's: mixed into each style before the
        product, the copy is the one thing every style agrees on, and the product multiplies the
        agreement (eight styles: distinct words fell from 0.63 to 0.55)."""
        if not self.copies or level <= 0:
            return p
        pred, length, run = self._where(pred, length, run)
        return _spike(p, pred, self.gains(active, length, run, level) @ np.asarray(weights, dtype=np.float64))

    def _where(self, pred, length, run) -> tuple:
        """The copy's state: the committed text's, or the paths' as given."""
        if pred is None:
            return self.pred, self.length, self.run
        return np.asarray(pred), np.asarray(length), np.asarray(run)


def _spike(dist: np.ndarray, pred, g) -> np.ndarray:
    """(1 - g) dist + g [x == pred]: dist (..., 128) with g of its leading shape; pred a character,
    or one per path along the first axis (-1: no match, where g is 0 too)."""
    if not np.any(g):
        return dist
    out = dist * (1.0 - np.asarray(g))[..., None]
    if np.ndim(pred) == 0:
        out[..., int(pred)] += g
    else:
        rows = np.flatnonzero(pred >= 0)
        out[rows, ..., pred[rows]] += np.asarray(g)[rows]
    return out
