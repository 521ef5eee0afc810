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
    """Log-linear product of experts: rho proportional to prod_i y_i ** pi_i."""
    logp = np.log(np.maximum(np.asarray(omega, dtype=np.float64), _TINY))
    score = np.asarray(pi, dtype=np.float64) @ logp
    rho = np.exp(score - score.max())
    return rho / rho.sum()


RULES = {"linear": linear, "product": product}


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
