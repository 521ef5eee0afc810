"""Fitting a style's gate (train/memoryfit.py): it learns to lean on a memory that knows better
than the LSTM, and what it returns works through the engine's code."""
from __future__ import annotations

import numpy as np

from instrument.core.recall import Recall, features, n_features
from instrument.train.memoryfit import fit_gate


def samples(n: int = 4000, orders: int = 3, text_orders: int = 2, scale: float = 1e6, seed: int = 0) -> dict:
    """The LSTM gives the right character 0.1; the corpus's longest order knows it (0.9) where it
    was seen, which is most of the time; its counts are in the millions (a big corpus's)."""
    rng = np.random.default_rng(seed)
    counts = np.zeros((n, orders, 128), dtype=np.int64)
    y = rng.integers(97, 123, n)
    seen = rng.random(n) < 0.8
    for k in range(orders):
        counts[np.arange(n), k, y] = np.where(seen, (0.9 * scale / 10 ** k), 0).astype(np.int64)
        counts[np.arange(n), k, 32] = np.where(seen, (0.1 * scale / 10 ** k), 0).astype(np.int64)
    text = np.zeros((n, text_orders, 128), dtype=np.int64)
    f = features(np.full(n, 3.0), np.full(n, 0.3), counts, np.full(n, 5), text)
    share = lambda c: c[np.arange(n), :, y] / np.maximum(c.sum(-1), 1)
    return {"features": f.astype(np.float32), "p_y": np.full(n, 0.1), "corpus": share(counts).astype(np.float32),
            "text": share(text).astype(np.float32), "reach": np.full(n, 5), "run": np.zeros(n, dtype=np.int64),
            "counts": counts, "text_counts": text, "y": y}


def bits_of(gate, s, orders=3, text_orders=2) -> float:
    recall = Recall(gate.astype(np.float64), 24, 0.8, text_orders, 0.9)
    p = np.full((len(s["y"]), 128), 0.9 / 127)
    p[np.arange(len(s["y"])), s["y"]] = 0.1
    mixed = recall.mix(p, s["counts"], s["reach"], 1.0, s["text_counts"], s["run"])
    return float(-np.log2(mixed[np.arange(len(s["y"])), s["y"]]).mean())


def test_the_gate_leans_on_a_memory_that_knows_better():
    s = samples()
    gate = fit_gate(s, 24, 0.8, 0.9, steps=200)
    assert gate.shape == (n_features(3, 2), 1 + 3 + 2)
    lstm_alone = -np.log2(0.1)
    assert bits_of(gate, s) < 0.5 * lstm_alone  # the memory is right 80% of the time at 0.9


def test_the_fit_is_seeded_and_its_gate_works_through_plays_code():
    """Fitted on standardised features, the gate is given back for raw ones: Recall.mix (the
    engine's code) reading raw features gets the memory's gain."""
    s = samples(n=1000, scale=1e3, seed=1)
    gate = fit_gate(s, 24, 0.8, 0.9, steps=100)
    again = fit_gate(s, 24, 0.8, 0.9, steps=100)
    assert np.allclose(gate, again)  # seeded: the same gate twice
    assert bits_of(gate, s) < -np.log2(0.1) - 1.0
