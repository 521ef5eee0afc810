"""Turning a distribution into a character: temperature, top-p (nucleus), a seeded draw."""
from __future__ import annotations

import torch

from .vocab import PRINTABLE

_UNPRINTABLE = torch.from_numpy(~PRINTABLE)


def shape_distribution(probs: torch.Tensor, temperature: float = 1.0, top_p: float = 1.0) -> torch.Tensor:
    """Re-shape probabilities (..., 128): p^(1/T), keep the smallest top set of mass >= top_p,
    never a control character other than newline and tab; renormalised."""
    p = probs.double().clamp_min(0)
    p = p.masked_fill(_UNPRINTABLE, 0.0)
    if temperature != 1.0:
        # p^(1/T) computed in log space so a tiny T neither underflows nor divides by zero
        logp = torch.log(p)
        p = torch.exp((logp - logp.max(dim=-1, keepdim=True).values) / max(temperature, 1e-3))
    p = p / p.sum(dim=-1, keepdim=True)
    if top_p < 1.0:
        sorted_p, order = torch.sort(p, dim=-1, descending=True)
        before = torch.cumsum(sorted_p, dim=-1) - sorted_p  # mass strictly above each candidate
        sorted_p = sorted_p.masked_fill(before >= top_p, 0.0)
        p = torch.zeros_like(p).scatter(-1, order, sorted_p)
        p = p / p.sum(dim=-1, keepdim=True)
    return p


def draw(probs: torch.Tensor, generator: torch.Generator) -> int:
    """One index from a 1-D distribution, reproducible for a given generator state."""
    return int(torch.multinomial(probs.double(), 1, generator=generator))
