"""A style's recall (core/recall.py): the gate that mixes its LSTM with what its corpus holds and
what the text has said, fitted on its dev slice, and the figures of the style with it.

The gate is fitted where every part of the style meets text as it meets new text: on the dev slice
(train/corpus.py), which the LSTM did not train on, with a corpus memory of the text before it
only (the shipped memory holds the dev slice too). Fitted on text the LSTM trained on, the gate
trusted the LSTM as if it knew every text that well (Shakespeare: 0.03 bpc gained, 0.12 when fitted
on text it had not seen); fitted on text the corpus memory held (each position leaving only itself
out), it found the text memory useless, since the corpus already held everything the text had said
(Holmes: the text memory's gates near zero, 0.047 bpc gained when fitted on unseen text). The text
memory and the copy model read the measured text from its start, as the instrument reads only what
it has written and as a compressor reads the text it compresses.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from ..core.copying import Copier
from ..core.corpusindex import DEPTH, CorpusIndex
from ..core.recall import Recall, features, n_features
from ..core.textcounts import ORDERS as TEXT_ORDERS, TextCounts
from .evaluate import _windows

ORDERS = 12           # corpus contexts of 1..ORDERS characters
FADE_FROM, FADE = 24, 0.8  # the corpus memory tires past a recalled stretch of 24, by 0.8 a character
TEXT_FADE = 0.9       # the text memory tires by this for each character of the copy's run
STEPS = 300           # full-batch optimiser steps of the gate's fit
L2 = 1e-5             # the gate's weight decay, in bits per squared weight
CHUNK = 2048          # positions read between two batched count lookups


@torch.no_grad()
def lstm_rows(model, ids: np.ndarray, start: int, end: int, streams: int = 32, burn_in: int = 256) -> np.ndarray:
    """p_lstm(. | ids[:t]) for t in [start, end): (end - start, 128) float32, as evaluate reads it."""
    was_training = model.training
    model.eval()
    inputs, _, mask = _windows(np.asarray(ids), start, end, streams, burn_in)
    state, parts = None, []
    for t in range(0, inputs.shape[0], 512):
        logits, state = model(inputs[t : t + 512], state)
        parts.append(F.softmax(logits.float(), -1))
    model.train(was_training)
    rows = torch.cat(parts).transpose(0, 1).numpy()  # (S, T, 128)
    return rows[mask.t().numpy()]


def copy_runs(text: np.ndarray) -> np.ndarray:
    """The copy model's run before each position of text, reading it from its start."""
    copier, runs = Copier(n_styles=1), np.zeros(len(text), dtype=np.int64)
    for i, x in enumerate(np.asarray(text).tolist()):
        runs[i] = copier.run
        copier.accept(x)
    return runs


def walk(index: CorpusIndex, ids: np.ndarray, start: int, end: int, orders: int, text_orders: int):
    """Yields (positions, corpus counts, lo, hi, text counts) in chunks for every t in [start, end):
    what the memories find after ids[:t]. The corpus contexts are whole from the first position
    (DEPTH characters before it are read first); the text memory starts empty at `start`."""
    lo, hi = index.empty(1)
    for t in range(max(0, start - DEPTH), start):
        index.advance(lo, hi, ids[t:t + 1])
    said = TextCounts(max(text_orders, 1))
    for a in range(start, end, CHUNK):
        b = min(end, a + CHUNK)
        los, his = np.zeros((b - a, DEPTH), dtype=np.int64), np.zeros((b - a, DEPTH), dtype=np.int64)
        text = np.zeros((b - a, text_orders, 128), dtype=np.int32)
        for t in range(a, b):
            los[t - a], his[t - a] = lo[0], hi[0]
            if text_orders:
                text[t - a] = said.counts([said.tail()])[0, :text_orders]
            x = int(ids[t])
            index.advance(lo, hi, np.array([x]))
            said.accept(x)
        yield np.arange(a, b), index.counts(los, his, orders), los, his, text


def _share(counts: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Each order's C(y) / N: (rows, orders)."""
    return counts[np.arange(len(y)), :, y] / np.maximum(counts.sum(axis=-1), 1)


def fit_samples(model, index: CorpusIndex, ids: np.ndarray, start: int, end: int, orders: int = ORDERS,
                text_orders: int = TEXT_ORDERS) -> dict:
    """The gate's inputs on [start, end), text the index does not hold: features, p_lstm(y), each
    expert's share of y, reach, run."""
    p = lstm_rows(model, ids, start, end)
    n = end - start
    out = {"features": np.zeros((n, n_features(orders, text_orders)), dtype=np.float32),
           "corpus": np.zeros((n, orders), dtype=np.float32), "text": np.zeros((n, text_orders), dtype=np.float32),
           "reach": np.zeros(n, dtype=np.int64), "run": copy_runs(ids[start:end]),
           "p_y": p[np.arange(n), ids[start:end]].astype(np.float64)}
    for pos, counts, lo, hi, text in walk(index, ids, start, end, orders, text_orders):
        y, i = ids[pos].astype(np.int64), pos - start
        reach = index.reach(lo, hi)
        rows = p[i].astype(np.float64)
        entropy = -(rows * np.log(np.maximum(rows, 1e-30))).sum(axis=1)
        out["features"][i] = features(entropy, rows.max(axis=1), counts, reach, text)
        out["corpus"][i], out["text"][i], out["reach"][i] = _share(counts, y), _share(text, y), reach
    return out


def feature_scales(f: torch.Tensor) -> torch.Tensor:
    """Each feature's largest magnitude over the samples, at least 1: the gate is fitted on
    features no larger than 1. Unscaled, a 4.7 M corpus's counts (log N up to 15) let the first
    optimiser steps push the LSTM's weight so far that the softmax saturated and never came back:
    the speeches' gate gave its memories nothing (1.7866 bpc, its LSTM's own; 1.4697 scaled).
    Centred and divided by their spread instead, features that hardly vary on the dev slice were
    magnified where they did vary in play: the repeating text of the tests, which its LSTM writes
    perfectly, came out as "sat. t t sat the t the cat. sathe"."""
    return torch.clamp(f.abs().max(dim=0).values, min=1.0)


def fit_gate(samples: dict, fade_from: int, fade: float, text_fade: float, steps: int = STEPS,
             seed: int = 0) -> np.ndarray:
    """The gate (F, 1 + K + KT) with the fewest bits over the samples, the fades applied as it
    plays; fitted on scaled features and given back for the raw ones (play reads raw)."""
    torch.manual_seed(seed)
    f, py, tk, tt = (torch.as_tensor(samples[k], dtype=torch.float64) for k in ("features", "p_y", "corpus", "text"))
    orders, text_orders = tk.shape[1], tt.shape[1]
    text_seen = f[:, 5 * orders + 4:5 * orders + 4 + text_orders] > 0  # each text order's "seen" feature
    seen = torch.cat([torch.ones(len(f), 1, dtype=torch.bool), f[:, :orders] > 0, text_seen], dim=1)
    scales = feature_scales(f)
    unit = f / scales
    fc = torch.as_tensor(fade ** np.maximum(0, samples["reach"] - fade_from), dtype=torch.float64)
    ft = torch.as_tensor(text_fade ** samples["run"].astype(np.float64), dtype=torch.float64)
    gate = torch.zeros(f.shape[1], 1 + orders + text_orders, dtype=torch.float64, requires_grad=True)
    optimiser = torch.optim.Adam([gate], lr=0.03)

    def bits() -> torch.Tensor:
        w = torch.softmax((unit @ gate).masked_fill(~seen, -math.inf), dim=1)
        wc, wt = w[:, 1:orders + 1], w[:, orders + 1:]
        p = py + fc * ((wc * tk).sum(1) - wc.sum(1) * py) + ft * ((wt * tt).sum(1) - wt.sum(1) * py)
        # a light L2 pull to zero: a dev slice of 10,000 characters (a small corpus's) must not fit the noise
        return -torch.log2(p.clamp_min(1e-30)).mean() + L2 * gate.square().sum()

    for _ in range(steps):
        optimiser.zero_grad()
        loss = bits()
        loss.backward()
        optimiser.step()
    with torch.no_grad():  # unit @ G = f @ (G / scales)
        return (gate / scales[:, None]).numpy().astype(np.float32)


def style_probs(model, index: CorpusIndex, recall: Recall, ids: np.ndarray, start: int, end: int,
                level: float = 1.0, text_level: float = 1.0) -> np.ndarray:
    """p_style(ids[t] | ids[:t]) for t in [start, end) before the copy model: the LSTM with its
    memories mixed in, by the code that plays (Recall.mix)."""
    p = lstm_rows(model, ids, start, end)
    runs = copy_runs(ids[start:end])
    out = np.zeros(end - start)
    for pos, counts, lo, hi, text in walk(index, ids, start, end, recall.orders, recall.text_orders):
        y = ids[pos].astype(np.int64)
        mixed = recall.mix(p[pos - start], counts, index.reach(lo, hi), level, text, runs[pos - start], text_level)
        out[pos - start] = mixed[np.arange(len(pos)), y]
    return out


def fit(model, index: CorpusIndex, ids: np.ndarray, start: int, end: int, orders: int = ORDERS,
        text_orders: int = TEXT_ORDERS) -> Recall:
    """The recall of a style fitted on ids[start:end], its dev slice: text its LSTM did not train
    on, and `index` holds only the text before it."""
    samples = fit_samples(model, index, ids, start, end, orders, text_orders)
    return Recall(fit_gate(samples, FADE_FROM, FADE, TEXT_FADE), FADE_FROM, FADE, text_orders, TEXT_FADE)
