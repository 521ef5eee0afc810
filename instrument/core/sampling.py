"""Turning a distribution into a character: temperature, top-p (nucleus), a seeded draw."""
from __future__ import annotations

import numpy as np

from .vocab import PRINTABLE

_UNPRINTABLE = ~PRINTABLE


def softmax(logits: np.ndarray) -> np.ndarray:
    """Logits (any shape, last axis the characters) -> probabilities, in float64."""
    z = logits.astype(np.float64)
    z = np.exp(z - z.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


def shape_distribution(probs: np.ndarray, temperature: float = 1.0, top_p: float = 1.0,
                       min_p: float = 0.0) -> np.ndarray:
    """Re-shape probabilities (128,): p^(1/T), keep the smallest top set of mass >= top_p and
    what is at least min_p times the likeliest, never a control character other than newline and
    tab; renormalised."""
    return shape_rows(np.asarray(probs)[None], temperature, top_p, min_p)[0]


def shape_rows(probs: np.ndarray, temperature: float = 1.0, top_p: float = 1.0,
               min_p: float = 0.0) -> np.ndarray:
    """shape_distribution for each row of (K, 128)."""
    p = np.clip(np.asarray(probs, dtype=np.float64), 0.0, None)
    p[:, _UNPRINTABLE] = 0.0
    if min_p > 0.0:  # before temperature: what the models think unlikely stays out at any T
        p[p < min_p * p.max(axis=1, keepdims=True)] = 0.0
    if temperature != 1.0:
        # p^(1/T) in log space, so a tiny T neither underflows nor divides by zero
        with np.errstate(divide="ignore"):
            logp = np.log(p)
        p = np.exp((logp - logp.max(axis=1, keepdims=True)) / max(temperature, 1e-3))
    p /= p.sum(axis=1, keepdims=True)
    if top_p < 1.0:
        order = np.argsort(-p, axis=1, kind="stable")
        sorted_p = np.take_along_axis(p, order, axis=1)
        above = np.cumsum(sorted_p, axis=1) - sorted_p  # mass strictly above each candidate
        drop = np.zeros_like(p, dtype=bool)
        np.put_along_axis(drop, order, above >= top_p, axis=1)
        p = np.where(drop, 0.0, p)
        p /= p.sum(axis=1, keepdims=True)
    return p


def draw(probs: np.ndarray, rng: np.random.Generator) -> int:
    """One index from a distribution, reproducible for a given generator state."""
    cdf = np.cumsum(probs)
    return int(min(np.searchsorted(cdf, rng.random() * cdf[-1], side="right"), len(cdf) - 1))


TOTAL = 20.0  # e-folds of a push past which the characters are left out altogether


def push_down(row: np.ndarray, chars, efolds: float) -> None:
    """Make `chars` exp(efolds) times less likely in one distribution, in place, renormalised; from
    TOTAL e-folds on they are left out (at the coldest temperature every style gives a space after
    forty spaces 1 - 1e-30, which no finite push turns). A row with nothing else to write is left as
    it is, never zeroed. (Whether anything else is left is asked of the other entries themselves,
    counted, not summed: next to a 1.0 their 1e-30 vanish from a sum. `chars` are distinct.)"""
    if efolds <= 0:
        return
    if np.count_nonzero(row) == np.count_nonzero(row[chars]):
        return
    row[chars] = 0.0 if efolds >= TOTAL else row[chars] * np.exp(-efolds)
    row /= row.sum()
