"""Where a new style starts: the installed style whose LSTM already predicts the new text best.

A performer's 300 KB text trained from nothing for ten minutes on two cores writes half-words; the
same ten minutes spent fine-tuning a style that already knows English (or C, or verse) give a
style that beats the compressors. Measured on the Iraq Inquiry's summary: from scratch (2x256, 40
passes) 1.7129 bpc alone and 1.4757 as played; from the speeches (2x512, 6 passes, 10 minutes)
1.4683 alone and 1.3651 as played (docs/models.md). Which style to start from is measured, not
guessed: each candidate's LSTM reads the first characters of the new text, and the one with the
fewest bits per character is the start.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..core.model import CharLSTM
from .evaluate import bits_per_char

CLOSEST = "closest"   # train --init's default for a new run: the installed style that predicts the text best
PROBE_CHARS = 12_000  # characters of the new text each candidate reads (a few seconds each on two cores)
FINE_TUNE_LR = 7e-4   # the learning rate a style is fine-tuned at (a scratch run's 3e-3 would undo what it knows)


@dataclass
class Start:
    path: Path | None               # the weights to start from; None: from scratch
    arch: str | None
    scores: dict[str, float]        # style -> bits per character on the probe (alone, before training)


def probe_of(ids: np.ndarray) -> np.ndarray:
    return np.asarray(ids[:PROBE_CHARS])


@torch.no_grad()
def score(weights: Path, probe: np.ndarray) -> float:
    model = CharLSTM.load(weights)
    model.eval()
    return bits_per_char(model, probe, 64, len(probe), streams=8, burn_in=64)


def closest_style(ids: np.ndarray, candidates: list[tuple[str, Path, str]], arch: str | None = None,
                  tell=lambda line: print(line, file=sys.stderr)) -> Start:
    """The candidate (name, weights, arch) that predicts the start of ids best; with `arch`, only
    candidates of that architecture. None of them: from scratch."""
    usable = [(n, p, a) for n, p, a in candidates if arch is None or a == arch]
    if not usable or len(ids) < 1_000:
        return Start(None, arch, {})
    probe = probe_of(ids)
    scores = {}
    for name, path, _ in usable:
        try:
            scores[name] = score(path, probe)
        except Exception as e:  # a damaged style is no start, and says so
            tell(f"  {name} left out as a start: {type(e).__name__}: {e}")
    if not scores:
        return Start(None, arch, {})
    best = min(scores, key=scores.get)
    ranked = ", ".join(f"{n} {b:.2f}" for n, b in sorted(scores.items(), key=lambda kv: kv[1])[:4])
    tell(f"starting from the style '{best}', which predicts this text best of the {len(scores)} installed "
         f"(bits per character on its first {len(probe):,} characters: {ranked}); --init none starts from nothing")
    arch_of = {n: a for n, _, a in usable}
    return Start(next(p for n, p, _ in usable if n == best), arch_of[best], scores)


def installed_candidates(folder: Path | None = None, leave_out: str | None = None) -> list[tuple[str, Path, str]]:
    """Every usable installed style as (name, weights, arch), but `leave_out` (the style being
    trained: its own weights would have seen the text)."""
    from ..app.library import installed

    return [(m.name, m.path, m.arch) for m in installed(folder)
            if not m.problem and m.name != leave_out and "x" in m.arch]  # a card without its shape: no start
