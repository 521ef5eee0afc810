"""A style's memories: of its own corpus, and of the text written so far.

An LSTM of this size, trained for an hour or two on two cores, has not learnt its corpus, and
forgets the piece within a few hundred characters: 7-Zip's PPMd, which only counts what followed
each context (in the corpus, and in the text as it reads it), predicted 13 of the 17 styles'
held-out text better than the styles did. So each style counts too:

- its corpus memory: for each of the last 1..K characters written, what followed that context
  in the style's training text, every occurrence of it (as infini-gram does), from an index of
  the text (core/corpusindex.py);
- the text memory: what followed each of the last 1..KT characters earlier in this piece
  (core/textcounts.py), one table for the whole ensemble;

and a small gate, fitted per style on text its LSTM did not train on, mixes them with its LSTM by
what it reads of each (core/recall.py has the formula). Two fades keep this from reciting: the
corpus memory tires where the text has followed the corpus for long (past `fade_from` characters
of its reach, the longest stretch the corpus holds), the text memory where the text has been
repeating itself (the copy model's run). /memory scales the first, /copy the second (and the copy
model, core/copying.py): at 0 and 0 the LSTMs play alone, the paper's styles.

A memory also knows its text's words, which the words guard keeps the text to (core/words.py).
Like the copy model it reads only the text written (the committed text, or a lookahead path's),
and the same code plays and measures the cards (train/memoryfit.py, `instrument score`).
"""
from __future__ import annotations

import numpy as np

from .corpusindex import DEPTH, CorpusIndex
from .words import Lexicon
from .recall import Recall, mix
from .textcounts import TextCounts


class Memory:
    """Every style's memories, following the committed text (and, for the lookahead, each path's).
    Styles without a corpus memory pass their LSTM's distribution through unchanged."""

    def __init__(self, indexes: list[CorpusIndex | None], recalls: list[Recall | None],
                 lexicons: list[Lexicon | None] | None = None):
        if len(indexes) != len(recalls) or (lexicons is not None and len(lexicons) != len(indexes)):
            raise ValueError("one recall and one lexicon (or None) per index")
        self.indexes, self.recalls = list(indexes), list(recalls)
        self.lexicons = list(lexicons) if lexicons is not None else [None] * len(indexes)
        self.remembers = any(i is not None for i in self.indexes)
        self.text = TextCounts(max([r.text_orders for r in recalls if r is not None] + [1]))
        self.paths: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self.tails: list[bytes] = []
        self.reset()

    @classmethod
    def none(cls, n_styles: int) -> Memory:
        return cls([None] * n_styles, [None] * n_styles)

    def has(self, i: int) -> bool:
        return self.indexes[i] is not None

    def reset(self) -> None:
        """The text is forgotten: no context yet, nothing said."""
        self.lo, self.hi = CorpusIndex.empty(len(self.indexes))
        self.text.reset()
        self.paths, self.tails = {}, []
        self.primed: list[int] = []

    def accept(self, x: int, heard=None) -> None:
        """x is committed (the stage protocol, core/stages.py): the text memory counts it, every
        style's corpus contexts move on. Primed text moves them when next needed, and only its
        last DEPTH characters, which are all the contexts depend on."""
        if not self.remembers:
            return
        self.text.accept(x)
        if heard is not None and heard.primed:
            self.primed.append(x)
            return
        self._read_primed()
        self._advance([x])

    def _advance(self, chars: list[int]) -> None:
        for i, index in enumerate(self.indexes):
            if index is not None:
                lo, hi = self.lo[i:i + 1], self.hi[i:i + 1]
                for x in chars:
                    index.advance(lo, hi, np.array([x]))

    def _read_primed(self) -> None:
        if self.primed:
            chars, self.primed = self.primed[-DEPTH:], []
            self._advance(chars)

    def mix(self, omega: np.ndarray, active: np.ndarray, level: float, text_level: float = 1.0,
            run: int = 0) -> np.ndarray:
        """The active styles' distributions (N, 128) after the committed text, memories mixed in
        (level: /memory; text_level: /copy; run: the copy model's)."""
        if not self.remembers or (level <= 0 and text_level <= 0):
            return omega
        self._read_primed()
        states = {i: (self.lo[i:i + 1], self.hi[i:i + 1]) for i in np.asarray(active).tolist() if self.has(i)}
        return self._mix_states(np.asarray(omega, dtype=np.float64)[None], active, states, [self.text.tail()],
                                np.array([run]), level, text_level)[0]

    def _mix_states(self, omega, active, states: dict, tails: list[bytes], run: np.ndarray, level: float,
                    text_level: float) -> np.ndarray:
        """omega (R, N, 128) with the memories of each style in `states` (index -> its R rows' lo,
        hi) mixed in: the styles' rows gathered into one batch (a few numpy calls a step, not a
        few per style), grouped by their numbers of orders."""
        out = np.array(omega, dtype=np.float64)
        columns = {i: col for col, i in enumerate(np.asarray(active).tolist())}
        groups: dict[tuple, list[int]] = {}
        for i in states:
            groups.setdefault((self.recalls[i].orders, self.recalls[i].text_orders), []).append(i)
        rows = out.shape[0]
        said = self.text.counts(tails)  # (R, KT, 128), the same for every style
        for (orders, text_orders), styles in groups.items():
            recalls = [self.recalls[i] for i in styles]
            counts = np.concatenate([self.indexes[i].counts(*states[i], orders) for i in styles])
            reach = np.concatenate([self.indexes[i].reach(*states[i]) for i in styles])
            p = np.concatenate([out[:, columns[i]] for i in styles])
            each = lambda values: np.repeat(values, rows, axis=0)
            mixed = mix(p, counts, reach, np.tile(said[:, :text_orders], (len(styles), 1, 1)), np.tile(run, len(styles)),
                        each(np.stack([r.gate for r in recalls])), each([r.fade_from for r in recalls]),
                        each([r.fade for r in recalls]), each([r.text_fade for r in recalls]), orders, level,
                        text_level)
            for n, i in enumerate(styles):
                out[:, columns[i]] = mixed[n * rows:(n + 1) * rows]
        return out

    # --- the lookahead's paths ---------------------------------------------------------------
    def fork(self, active: np.ndarray, rows: int) -> None:
        """`rows` copies of each active style's committed contexts, and of the text's end."""
        if not self.remembers:
            return
        self._read_primed()
        self.paths = {i: (np.repeat(self.lo[i:i + 1], rows, axis=0), np.repeat(self.hi[i:i + 1], rows, axis=0))
                      for i in np.asarray(active).tolist() if self.indexes[i] is not None}
        self.tails = [self.text.tail()] * rows

    def step_rows(self, x: np.ndarray) -> None:
        """Path r reads x[r] (-1: it waits), in every forked style."""
        if not self.paths:
            return
        for i, (lo, hi) in self.paths.items():
            self.indexes[i].advance(lo, hi, x)
        keep = self.text.orders
        self.tails = [(t + bytes([c]))[-keep:] if c >= 0 else t for t, c in zip(self.tails, np.asarray(x).tolist())]

    def take_rows(self, source: np.ndarray) -> None:
        """Path r becomes a copy of path source[r]."""
        self.paths = {i: (lo[source], hi[source]) for i, (lo, hi) in self.paths.items()}
        self.tails = [self.tails[s] for s in np.asarray(source).tolist()] if self.tails else []

    def mix_rows(self, omega: np.ndarray, active: np.ndarray, level: float, text_level: float = 1.0,
                 run: np.ndarray | None = None) -> np.ndarray:
        """Each path's distributions (K, N, 128) with the forked styles' memories mixed in (run:
        each path's copy run)."""
        if not self.paths or (level <= 0 and text_level <= 0):
            return omega
        run = np.zeros(len(omega), dtype=np.int64) if run is None else np.asarray(run)
        return self._mix_states(omega, active, self.paths, self.tails, run, level, text_level)
