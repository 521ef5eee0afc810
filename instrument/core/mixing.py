"""Mixing rules: pure functions from the models' distributions Omega (N x 128) and the weights
pi (N,) to one distribution rho (128,)."""
from __future__ import annotations

import numpy as np

_TINY = 1e-30  # floor for log(0): a style that rules a character out keeps it (almost) out


def linear(pi: np.ndarray, omega: np.ndarray) -> np.ndarray:
    """The paper's eq. (2): rho = pi @ Omega / |pi @ Omega|_1."""
    rho = np.asarray(pi, dtype=np.float64) @ np.asarray(omega, dtype=np.float64)
    return rho / rho.sum()


def product(pi: np.ndarray, omega: np.ndarray) -> np.ndarray:
    """Log-linear product of experts with normalised weights, a weighted geometric mean:
    rho proportional to prod_i y_i ** (pi_i / sum pi). Raw faders would raise every expert to a
    higher power as more faders go up (eight at 1: the eighth power, near-greedy decoding)."""
    logp = np.log(np.maximum(np.asarray(omega, dtype=np.float64), _TINY))
    w = np.asarray(pi, dtype=np.float64)
    score = (w / w.sum()) @ logp
    rho = np.exp(score - score.max())
    return rho / rho.sum()


RULES = {"linear": linear, "product": product}


def cap_confidence(omega: np.ndarray, cap: float) -> np.ndarray:
    """Each style's distribution with no character above `cap`: the excess is spread over the
    others in proportion, so a style that spikes on one character cannot take the mix over (the
    paper's "spiking model" effect). cap 1 changes nothing."""
    if cap >= 1.0:
        return omega
    omega = np.asarray(omega, dtype=np.float64)
    top = omega.max(axis=-1, keepdims=True)
    over = top > cap
    if not over.any():
        return omega
    rest = 1.0 - top
    scale = np.where(over, (1.0 - cap) / np.maximum(rest, 1e-12), 1.0)
    capped = np.where(omega == top, np.where(over, cap, omega), omega * scale)
    return capped / capped.sum(axis=-1, keepdims=True)


def mix(mode: str, pi: np.ndarray, omega: np.ndarray) -> np.ndarray:
    """rho under the named rule; pi must have some positive weight."""
    return RULES[mode](pi, omega)


def active_models(pi: np.ndarray, threshold: float) -> np.ndarray:
    """Indices of models to step: weight >= threshold (and > 0). If every positive weight is
    under the threshold, the heaviest style plays alone rather than the text stopping."""
    pi = np.asarray(pi, dtype=np.float64)
    chosen = np.flatnonzero((pi >= threshold) & (pi > 0))
    if len(chosen) == 0 and pi.max(initial=0.0) > 0:
        chosen = np.array([int(np.argmax(pi))])
    return chosen
