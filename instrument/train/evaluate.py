"""Held-out bits per character, measured the way the instrument plays: a model that has read
what came before. Parallel streams each get a burn-in of preceding text, so the figure matches a
single pass over the held-out text to within noise, at a fraction of the time."""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from ..core.vocab import NEWLINE


def _windows(full: np.ndarray, start: int, end: int, streams: int, burn_in: int):
    """Rows of (inputs, targets, mask) covering targets full[start:end] in `streams` segments."""
    bounds = np.linspace(start, end, streams + 1).astype(int)
    rows = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        if b <= a:
            continue
        ctx = max(0, a - burn_in)
        prev = np.concatenate([[NEWLINE], full[ctx : b - 1]]) if ctx == 0 else full[ctx - 1 : b - 1]
        tgt = full[ctx:b]
        mask = np.arange(ctx, b) >= a
        rows.append((prev, tgt, mask))
    width = max(len(r[0]) for r in rows)
    pad = lambda a, v: np.pad(a, (width - len(a), 0), constant_values=v)  # left-pad: segments end together
    inputs = torch.from_numpy(np.stack([pad(r[0], NEWLINE) for r in rows]).astype(np.int64)).t()
    targets = torch.from_numpy(np.stack([pad(r[1], 0) for r in rows]).astype(np.int64)).t()
    mask = torch.from_numpy(np.stack([pad(r[2], False) for r in rows])).t()
    return inputs, targets, mask  # (T, S)


@torch.no_grad()
def log_probs(model, full: np.ndarray, start: int, end: int | None = None,
              streams: int = 32, burn_in: int = 256, chunk: int = 512) -> np.ndarray:
    """ln p(full[t] | full[:t]) for t in [start, end), in text order, with `burn_in` characters of
    context (float64 of the model's float32)."""
    end = len(full) if end is None else end
    was_training = model.training
    model.eval()
    inputs, targets, mask = _windows(np.asarray(full), start, end, streams, burn_in)
    state, parts = None, []
    for t in range(0, inputs.shape[0], chunk):
        logits, state = model(inputs[t : t + chunk], state)
        parts.append(F.log_softmax(logits.float(), -1).gather(-1, targets[t : t + chunk, :, None])[..., 0])
    model.train(was_training)
    logp = torch.cat(parts).t().numpy()
    return logp[mask.t().numpy()].astype(np.float64)  # the streams are consecutive: row-major is text order


def bits_per_char(model, full: np.ndarray, start: int, end: int | None = None,
                  streams: int = 32, burn_in: int = 256, chunk: int = 512) -> float:
    """Mean -log2 p(full[t] | full[:t]) over t in [start, end), with `burn_in` characters of context."""
    return float(-log_probs(model, full, start, end, streams, burn_in, chunk).mean() / math.log(2))
