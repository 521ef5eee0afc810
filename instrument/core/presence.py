"""Presence: what a fader promises, the text keeps.

Equal faders do not give equal presence: a broad English model explains most English text best,
so it writes most of it, and a narrow style (French verse among English prose) is hardly heard.
This controller listens to the text as a listener would: every WINDOW characters it gives the
window to the style whose model found it likeliest, keeps a running share of windows per style,
and nudges each style's weight by how far its share is below or above what its fader asks
(pi_i / sum pi). It is an integral controller on log weights, with a bounded gain, so it settles
where the shares match the faders as far as a bounded gain can make them. The log gains are kept
centred (their mean 0): only their ratios matter, and uncentred they all ran up to the bound
together while the broadest style kept taking the text, so the least heard was raised no more
than the rest (Baudelaire among eight equal styles: 4% of the windows; centred, 10%).
"""
from __future__ import annotations

import numpy as np

WINDOW = 40          # characters per window, as the quality bench classifies them
SMOOTHING = 0.1      # share of the newest window in the running shares (about the last 10 windows)
RATE = 0.15          # step of the log gain per window, at strength 1, for a style missing entirely
MAX_LOG_GAIN = 2.5   # gains stay within e^-2.5 .. e^2.5 (about 1/12 .. 12)


class Presence:
    """Per-style gains on the mixing weights, learnt from the committed text."""

    def __init__(self, n_styles: int):
        self.log_gain = np.zeros(n_styles)
        self.share = np.full(n_styles, np.nan)   # running share of windows; NaN: not yet heard
        self.window = np.zeros(n_styles)         # log-likelihood of the current window, per style
        self.filled = 0
        self.active: tuple = ()

    def reset(self) -> None:
        self.__init__(len(self.log_gain))

    def weights(self, pi: np.ndarray, active: np.ndarray, strength: float) -> np.ndarray:
        """The active styles' mixing weights: their faders times their gains, summing to 1."""
        w = np.asarray(pi, dtype=np.float64)[active]
        if strength > 0:
            w = w * np.exp(self.log_gain[active])
        return w / w.sum()

    def accept(self, x: int, heard) -> None:
        """The stage protocol (core/stages.py): a written character is heard by every style that
        played it (primed text is not the styles' own)."""
        if not heard.primed:
            self.hear(heard.active, np.log(np.maximum(heard.omega[:, x], 1e-30)), heard.pi, heard.presence)

    def hear(self, active: np.ndarray, logp: np.ndarray, pi: np.ndarray, strength: float) -> None:
        """One committed character: logp[i] = log P(char) under active style i."""
        if tuple(active) != self.active:  # a different set of styles: start the window again
            self.active, self.window[:], self.filled = tuple(active), 0.0, 0
        self.window[active] += logp
        self.filled += 1
        if self.filled < WINDOW:
            return
        self._settle(np.asarray(active), np.asarray(pi, dtype=np.float64)[active], strength)
        self.window[:], self.filled = 0.0, 0

    def _settle(self, active: np.ndarray, pi: np.ndarray, strength: float) -> None:
        won = np.zeros(len(active))
        won[np.argmax(self.window[active])] = 1.0
        target = pi / pi.sum()
        share = self.share[active]
        share = np.where(np.isnan(share), target, share)  # a style just raised starts on target
        share = (1 - SMOOTHING) * share + SMOOTHING * won
        self.share[active] = share
        if strength > 0 and len(active) > 1:
            step = RATE * strength * (target - share) / np.maximum(target, 1e-3)
            gain = self.log_gain[active] + step
            # only the gains' ratios matter (the weights are normalised): centred, they cannot all
            # drift to the bound together while one broad style takes the text, which flattens
            # the differences between the others
            self.log_gain[active] = np.clip(gain - gain.mean(), -MAX_LOG_GAIN, MAX_LOG_GAIN)
