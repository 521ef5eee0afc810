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


def logsumexp(a: np.ndarray, axis: int = -1) -> np.ndarray:
    top = a.max(axis=axis, keepdims=True)
    return (top + np.log(np.exp(a - top).sum(axis=axis, keepdims=True))).squeeze(axis)


class Rule:
    """A mixing rule: everything a choice of /mode changes, in one object. The engine and the
    lookahead (core/lookahead.py) ask the rule and never test its name, so a rule added to RULES
    plays as itself on every surface at once.

    - combine(pi, omega): the plain mixture rho, what the sampler draws from without lookahead;
    - tempers_styles: the temperature shapes each style before mixing (each as it would write
      alone) rather than the mixture after;
    - copy_after: the copy model (core/copying.py) joins the mixture rather than each style;
    - keeps_phrases: a style that wrote a word may go on to the next (/phrase);
    - proposals(paths, logw, phrase), scores(paths, logw, phrase): each lookahead path's next
      distribution, and how likely the path is under the rule's model of text; `paths` is the
      Lookahead, read through walk(), omega, mix_lp and copy_after();
    - sharpness(weights): the power a path's likelihood is raised to when one is chosen."""

    name = ""
    tempers_styles = True
    copy_after = False
    keeps_phrases = True

    def combine(self, pi: np.ndarray, omega: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def proposals(self, paths, logw: np.ndarray, phrase: float) -> np.ndarray:
        raise NotImplementedError

    def scores(self, paths, logw: np.ndarray, phrase: float) -> np.ndarray:
        raise NotImplementedError

    def sharpness(self, weights: np.ndarray) -> float:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<mixing rule {self.name}>"


def spread(weights: np.ndarray) -> float:
    """1 - sum w_i^2: 0 for one style alone, 0.875 for eight equal ones."""
    return 1.0 - float(np.sum(np.square(weights)))


class Linear(Rule):
    """The paper's weighted average; with lookahead, a word-level mixture: every word is written
    by one style, each tempered as it would write alone (core/lookahead.py's doc)."""

    name = "linear"
    # How hard a spread-out mix leans towards likely paths. bench/quality.py, eight and nine
    # styles, T 0.8, 10,000 characters, before presence's gains were centred: 0 gave 88-90% real
    # words and 0.66 distinct; 0.3 not scaled by the spread 94-95% and 0.59-0.60, scaled (as here)
    # 93-94% and 0.63; 0.6 not scaled 95-97% and 0.56, with Baudelaire down to 3-4% of the text.
    # With the gains centred, 0.3 scaled gives 91-92% and 0.60-0.63 (docs/performance.md).
    foresight = 0.3

    def combine(self, pi, omega):
        return linear(pi, omega)

    def proposals(self, paths, logw, phrase):
        _, prior, e = paths.walk(logw, phrase)
        post = prior + e  # which style is writing each path's word
        post = np.exp(post - post.max(axis=1, keepdims=True))
        post /= post.sum(axis=1, keepdims=True)
        return np.einsum("kn,knv->kv", post, paths.omega)

    def scores(self, paths, logw, phrase):
        total, prior, e = paths.walk(logw, phrase)
        return total + logsumexp(prior + e)

    def sharpness(self, weights):
        return self.foresight * spread(weights)


class Product(Rule):
    """Log-linear product of experts (a weighted geometric mean), tempered as a whole; the copy
    joins the product's result; a path is as likely as the product of its characters' mixtures."""

    name = "product"
    tempers_styles = False
    copy_after = True
    keeps_phrases = False

    def combine(self, pi, omega):
        return product(pi, omega)

    def proposals(self, paths, logw, phrase):
        score = np.einsum("n,knv->kv", np.exp(logw), np.log(np.maximum(paths.omega, _TINY)))
        p = np.exp(score - score.max(axis=1, keepdims=True))
        return paths.copy_after(p / p.sum(axis=1, keepdims=True), np.exp(logw))

    def scores(self, paths, logw, phrase):
        return paths.mix_lp.sum(axis=1)

    def sharpness(self, weights):
        return spread(weights)


RULES: dict[str, Rule] = {rule.name: rule for rule in (Linear(), Product())}


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
    return RULES[mode].combine(pi, omega)


def active_models(pi: np.ndarray, threshold: float) -> np.ndarray:
    """Indices of models to step: weight >= threshold (and > 0). If every positive weight is
    under the threshold, the heaviest style plays alone rather than the text stopping."""
    pi = np.asarray(pi, dtype=np.float64)
    chosen = np.flatnonzero((pi >= threshold) & (pi > 0))
    if len(chosen) == 0 and pi.max(initial=0.0) > 0:
        chosen = np.array([int(np.argmax(pi))])
    return chosen
