"""Turning a distribution into a character: temperature, top-p (nucleus), a seeded draw."""
from __future__ import annotations

import numpy as np

from .vocab import PRINTABLE

_UNPRINTABLE = ~PRINTABLE


def shape_distribution(probs: np.ndarray, temperature: float = 1.0, top_p: float = 1.0) -> np.ndarray:
    """Re-shape probabilities (128,): p^(1/T), keep the smallest top set of mass >= top_p,
    never a control character other than newline and tab; renormalised."""
    p = np.clip(np.asarray(probs, dtype=np.float64), 0.0, None)
    p[_UNPRINTABLE] = 0.0
    if temperature != 1.0:
        # p^(1/T) in log space, so a tiny T neither underflows nor divides by zero
        with np.errstate(divide="ignore"):
            logp = np.log(p)
        p = np.exp((logp - logp.max()) / max(temperature, 1e-3))
    p /= p.sum()
    if top_p < 1.0:
        order = np.argsort(-p, kind="stable")
        sorted_p = p[order]
        above = np.cumsum(sorted_p) - sorted_p  # mass strictly above each candidate
        keep = order[above < top_p]
        q = np.zeros_like(p)
        q[keep] = p[keep]
        p = q / q.sum()
    return p


def draw(probs: np.ndarray, rng: np.random.Generator) -> int:
    """One index from a distribution, reproducible for a given generator state."""
    cdf = np.cumsum(probs)
    return int(min(np.searchsorted(cdf, rng.random() * cdf[-1], side="right"), len(cdf) - 1))
