"""Colours: one per style, from a YAML theme, so every surface shows a style in the same colour."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

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
        """A colour for each loaded style, in order; unknown styles take the fallbacks in turn."""
        out, spare = [], 0
        for name in names:
            if name in self.styles:
                out.append(self.styles[name])
            else:
                out.append(self.fallback[spare % len(self.fallback)])
                spare += 1
        return out


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
