"""A style's copy weights (core/copying.py), fitted on its training text, and its held-out bits per
character with them: measured by the same Copier that plays, reading the measured text as it goes
(as the instrument reads only what it has written, and as xz reads the text it compresses)."""
from __future__ import annotations

import numpy as np

from ..core.copying import BANDS, Copier, CopyTable, band
from .evaluate import log_probs

FIT_CHARS = 200_000  # training characters (the last before the held-out part) lambda is fitted on
FADE = 0.9           # the copy's weight times this per character of its run (core/copying.carry_run)
GRID = np.linspace(0.0, 0.95, 20)
MIN_SAMPLES = 50     # a band with fewer matches keeps lambda 0


def lstm_probs(model, ids: np.ndarray, start: int, end: int) -> np.ndarray:
    """p_lstm(ids[t] | ids[:t]) for t in [start, end), as evaluate.bits_per_char reads them."""
    return np.exp(log_probs(model, ids, start, end))


def trace(text: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each position of text: the copy's prediction (-1: none), its match length and run,
    from the text before that position only (the Copier reads the text from its start)."""
    copier = Copier(n_styles=1)
    n = len(text)
    pred, length, run = np.full(n, -1), np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    for i, x in enumerate(text.tolist()):
        pred[i], length[i], run[i] = copier.pred, copier.length, copier.run
        copier.accept(x)
    return pred, length, run


def _mixture_bits(p: np.ndarray, hit: np.ndarray, g: np.ndarray) -> np.ndarray:
    return -np.log2((1 - g) * p + g * hit)


def fit_table(p: np.ndarray, text: np.ndarray, fade: float = FADE) -> CopyTable:
    """lambda per band: the grid value with the fewest bits over that band's matches."""
    pred, length, run = trace(text)
    hit, faded, bands = (pred == text).astype(np.float64), fade ** run, band(length)
    lam = np.zeros(BANDS)
    for k in range(BANDS):
        sel = (length > 0) & (bands == k)
        if sel.sum() >= MIN_SAMPLES:
            bits = [_mixture_bits(p[sel], hit[sel], g * faded[sel]).sum() for g in GRID]
            lam[k] = GRID[int(np.argmin(bits))]
    return CopyTable(tuple(float(v) for v in lam), fade)


def bits_with_copy(p: np.ndarray, text: np.ndarray, table: CopyTable) -> float:
    """Mean bits per character of the style (LSTM probabilities p, mixed with the copy) over text."""
    copier = Copier([table])
    pred, length, run = trace(text)
    g = copier.gains(np.array([0]), length, run, 1.0)[:, 0]
    return float(_mixture_bits(p, (pred == text).astype(np.float64), g).mean())


def fit(model, ids: np.ndarray, split: int, fit_chars: int = FIT_CHARS, fade: float = FADE) -> CopyTable:
    """The copy weights of a style whose training text is ids[:split]."""
    start = max(0, split - fit_chars)
    return fit_table(lstm_probs(model, ids, start, split), np.asarray(ids[start:split]), fade)


def bits_per_char_with_copy(model, ids: np.ndarray, start: int, end: int, table: CopyTable) -> float:
    """Bits per character of ids[start:end], the copy reading that text from `start`."""
    return bits_with_copy(lstm_probs(model, ids, start, end), np.asarray(ids[start:end]), table)
