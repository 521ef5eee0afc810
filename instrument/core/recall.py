"""How a style mixes what it remembers with what its LSTM predicts: the gate (core/memory.py's
module doc has the whole picture).

Experts: the LSTM; for each of the last 1..K characters, what followed that context in the style's
corpus (C_k / N_k, core/corpusindex.py); for each of the last 1..KT, what followed it in the text
written so far (T_j / M_j, core/textcounts.py). The gate gives each a weight from what it reads of
them (how much each context saw, how many different characters followed it, how sure the likeliest
is; how sure the LSTM is; how long a stretch the corpus holds), a softmax over the experts whose
contexts were seen:

    recalled = w_0 p_lstm + sum_k w_k C_k / N_k + sum_j v_j T_j / M_j

and two faders and two fades pull each memory's part back towards the LSTM:

    p = p_lstm + a * fc * (sum_k w_k C_k / N_k - W p_lstm) + b * ft * (sum_j v_j T_j / M_j - V p_lstm)

W and V are the corpus's and the text's total weights; a is /memory and b /copy; fc =
fade ** max(0, reach - fade_from) tires the corpus memory where the text has followed the corpus
for long (so a style does not recite its corpus), ft = text_fade ** run tires the text memory
where the text has been repeating itself (the copy model's run, core/copying.py), so a piece does
not loop. At a = b = 1 and no fade p is the recalled mixture; at a = b = 0, the LSTM alone.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def n_features(orders: int, text_orders: int = 0) -> int:
    return 5 * orders + 4 + 4 * text_orders


def _order_features(counts: np.ndarray, parts: int) -> list[np.ndarray]:
    """Per order: whether seen, log(1 + N), kinds / N, top / N (and log(1 + kinds) for parts 5)."""
    total = counts.sum(axis=-1, dtype=np.float64)
    kinds = (counts > 0).sum(axis=-1).astype(np.float64)
    top = counts.max(axis=-1).astype(np.float64)
    per = np.maximum(total, 1.0)
    out = [(total > 0).astype(np.float64), np.log1p(total), kinds / per, top / per]
    return out + [np.log1p(kinds)] if parts == 5 else out


def features(entropy: np.ndarray, top: np.ndarray, counts: np.ndarray, reach: np.ndarray,
             text: np.ndarray | None = None) -> np.ndarray:
    """(rows, n_features): what the gate reads. entropy and top: the LSTM's (nats, and its
    likeliest character's probability), (rows,); counts (rows, K, 128) the corpus's; reach
    (rows,); text (rows, KT, 128) the text's counts, or None."""
    rows = len(counts)
    parts = [*_order_features(counts, 5), np.asarray(entropy, dtype=np.float64)[:, None],
             np.asarray(top, dtype=np.float64)[:, None], np.log1p(np.asarray(reach, dtype=np.float64))[:, None],
             np.ones((rows, 1))]
    if text is not None and text.shape[1]:
        parts += _order_features(text, 4)
    return np.concatenate(parts, axis=1)


@dataclass(frozen=True)
class Recall:
    """One style's gate (n_features(K, KT), 1 + K + KT) and fades."""

    gate: np.ndarray
    fade_from: int = 24
    fade: float = 0.8
    text_orders: int = 0
    text_fade: float = 0.9

    @property
    def orders(self) -> int:
        return self.gate.shape[1] - 1 - self.text_orders

    def weights(self, p, counts, reach, text=None) -> np.ndarray:
        """(rows, 1 + K + KT): the LSTM's share, each corpus order's, each text order's."""
        return weights(np.asarray(p, dtype=np.float64), counts, reach, self._text(text, len(counts)), self.gate)

    def mix(self, p, counts, reach, level: float, text=None, run=None, text_level: float = 1.0) -> np.ndarray:
        """p_style for each row: the levels are /memory and /copy; run the copy's (rows,)."""
        rows = len(counts)
        return mix(np.asarray(p, dtype=np.float64), counts, reach, self._text(text, rows),
                   np.zeros(rows) if run is None else np.asarray(run), self.gate, self.fade_from, self.fade,
                   self.text_fade, self.orders, level, text_level)

    def _text(self, text, rows: int) -> np.ndarray:
        return np.zeros((rows, self.text_orders, 128), dtype=np.int32) if text is None else text


def weights(p: np.ndarray, counts: np.ndarray, reach: np.ndarray, text: np.ndarray, gate: np.ndarray) -> np.ndarray:
    """The gate's softmax for each row; gate (F, E) for all rows, or (rows, F, E) a row each."""
    entropy = -(p * np.log(np.maximum(p, 1e-30))).sum(axis=-1)
    f = features(entropy, p.max(axis=-1), counts, reach, text)
    z = f @ gate if gate.ndim == 2 else np.einsum("rf,rfe->re", f, gate)
    seen = np.concatenate([np.ones((len(p), 1), dtype=bool), counts.sum(axis=-1) > 0, text.sum(axis=-1) > 0], axis=1)
    z = np.where(seen, z, -np.inf)
    z = np.exp(z - z.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def mix(p, counts, reach, text, run, gate, fade_from, fade, text_fade, orders: int, level: float,
        text_level: float) -> np.ndarray:
    """The module doc's p for rows that may each have their own gate and fades (several styles at
    once: gate (rows, F, E), the fades (rows,))."""
    w = weights(p, counts, reach, text, gate)
    corpus_w, text_w = w[:, 1:orders + 1], w[:, orders + 1:]
    corpus = np.einsum("rk,rkv->rv", corpus_w, counts / np.maximum(counts.sum(axis=-1, keepdims=True), 1))
    said = np.einsum("rk,rkv->rv", text_w, text / np.maximum(text.sum(axis=-1, keepdims=True), 1))
    fc = level * np.power(fade, np.maximum(0, reach - fade_from))
    ft = text_level * np.power(text_fade, run)
    return (p + fc[:, None] * (corpus - corpus_w.sum(axis=1, keepdims=True) * p)
            + ft[:, None] * (said - text_w.sum(axis=1, keepdims=True) * p))
