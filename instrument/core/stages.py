"""Decoder state: every part of the engine that reads the text it writes is a stage.

A stage takes each committed character through one verb, `accept(x, heard)`, and forgets the
text through another, `reset()`. The engine holds them in one list (Engine.stages) and hands every
character, written or primed, to each in turn, so all the state the next character depends on
is these stages and the engine's random generator: what a recording must reproduce, and the one
place a new stateful part (the corpus memory was the first) joins.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class Heard:
    """The step that wrote a character, as far as a stage may need it."""

    active: np.ndarray               # the styles that were playing (indices)
    pi: np.ndarray                   # every style's fader
    omega: np.ndarray | None = None  # the active styles' distributions the character came from; None: primed
    presence: float = 0.0            # /presence's strength

    @property
    def primed(self) -> bool:
        """Text given to the styles (/prime) rather than written by them."""
        return self.omega is None


class Stage(Protocol):
    def accept(self, x: int, heard: Heard) -> None:
        """x is committed (written, or primed)."""

    def reset(self) -> None:
        """The text is forgotten (/reset)."""
