"""The morph pad: styles sit on a circle; a point in the pad sets the weights by distance, so one
gesture morphs between styles (the paper's mouse interaction). The centre is every voice at once."""
from __future__ import annotations

import math

SIGMA = 0.35  # how far a style's voice carries across the pad (the circle has radius 1)


def positions(n: int) -> list[tuple[float, float]]:
    """Style i at angle 2 pi i / n, starting at the top, clockwise."""
    return [(math.sin(2 * math.pi * i / n), -math.cos(2 * math.pi * i / n)) for i in range(n)]


def weights(x: float, y: float, n: int) -> list[float]:
    """Gaussian in the distance to each style, scaled so the nearest style is at 1."""
    raw = [math.exp(-((x - px) ** 2 + (y - py) ** 2) / (2 * SIGMA ** 2)) for px, py in positions(n)]
    top = max(raw)
    return [round(w / top, 4) for w in raw]
