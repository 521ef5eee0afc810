"""Colours: one per style, from a YAML theme, so every surface shows a style in the same colour."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..base.files import FileProblem, read_yaml

DEFAULT = Path(__file__).with_name("theme.yaml")
RGB = tuple[int, int, int]


class ThemeError(ValueError):
    pass


def _rgb(value, where: str) -> RGB:
    if (not isinstance(value, (list, tuple)) or len(value) != 3
            or not all(isinstance(c, int) and 0 <= c <= 255 for c in value)):
        raise ThemeError(f"{where}: a colour is [R, G, B] with 0..255 each, got {value!r}")
    return tuple(value)


@dataclass
class Theme:
    styles: dict[str, RGB] = field(default_factory=dict)
    fallback: list[RGB] = field(default_factory=lambda: [(200, 200, 200)])
    primed: RGB = (140, 140, 140)
    background: RGB = (0, 0, 0)
    text: RGB = (230, 230, 230)

    def colours(self, names: list[str]) -> list[RGB]:
        """A colour for each loaded style, in order: the theme's, and for a style it does not list
        the candidate farthest (in CIELAB) from every colour already given (the theme's fallbacks
        first, then a grid of colours legible on black), so up to 24 styles stay apart; eight once
        shared four colours."""
        given = {n: self.styles[n] for n in names if n in self.styles}
        for name in names:
            if name not in given:
                given[name] = _farthest([*self.fallback, *CANDIDATES], list(given.values()))
        return [given[n] for n in names]


def lab(rgb) -> np.ndarray:
    """sRGB 0-255 -> CIELAB (D65), the space where a distance of ~2.3 is just noticeable."""
    c = np.asarray(rgb, dtype=np.float64) / 255
    c = np.where(c > 0.04045, ((c + 0.055) / 1.055) ** 2.4, c / 12.92)
    xyz = c @ _SRGB_TO_XYZ.T / _WHITE
    f = np.where(xyz > 216 / 24389, np.cbrt(xyz), (24389 / 27 * xyz + 16) / 116)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], axis=-1)


_SRGB_TO_XYZ = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
_WHITE = np.array([0.95047, 1.0, 1.08883])
_GRID = np.array([(r, g, b) for r in range(0, 256, 17) for g in range(0, 256, 17) for b in range(0, 256, 17)])
_LIGHTNESS = lab(_GRID)[:, 0]
CANDIDATES = [tuple(int(v) for v in c) for c in _GRID[(_LIGHTNESS >= 55) & (_LIGHTNESS <= 95)]]


def _farthest(candidates: list[RGB], taken: list[RGB]) -> RGB:
    """The candidate whose nearest taken colour is farthest (the first on a tie)."""
    if not taken:
        return candidates[0]
    gaps = np.linalg.norm(lab(candidates)[:, None] - lab(taken)[None], axis=-1).min(axis=1)
    return candidates[int(np.argmax(gaps))]


def load_theme(path: Path | None = None) -> Theme:
    path = Path(path or DEFAULT)
    try:
        data = read_yaml(path) or {}
    except FileProblem as e:
        raise ThemeError(str(e)) from None
    if not isinstance(data, dict):
        raise ThemeError(f"{path}: expected a mapping")
    theme = Theme()
    theme.styles = {str(k): _rgb(v, f"{path}: styles.{k}") for k, v in (data.get("styles") or {}).items()}
    if data.get("fallback"):
        theme.fallback = [_rgb(v, f"{path}: fallback") for v in data["fallback"]]
    for key in ("primed", "background", "text"):
        if key in data:
            setattr(theme, key, _rgb(data[key], f"{path}: {key}"))
    return theme
