"""Text from one model: prime it, then sample character by character."""
from __future__ import annotations

import numpy as np
import torch

from .model import CharLSTM
from .sampling import draw, shape_distribution
from .vocab import NEWLINE, decode, encode


@torch.no_grad()
def generate(model: CharLSTM, n_chars: int, prime: str = "", temperature: float = 0.8,
             top_p: float = 1.0, seed: int = 0) -> str:
    """n_chars of text continuing `prime` (the prime itself is not returned)."""
    model.eval()
    rng = np.random.default_rng(seed)
    ids = torch.from_numpy(encode(prime).astype("int64")) if prime else torch.tensor([NEWLINE])
    logits, state = model(ids.view(-1, 1))
    out = []
    for _ in range(n_chars):
        probs = torch.softmax(logits[-1, 0].double(), dim=-1).numpy()
        nxt = draw(shape_distribution(probs, temperature, top_p), rng)
        out.append(nxt)
        logits, state = model(torch.tensor([[nxt]]), state)
    return decode(out)
