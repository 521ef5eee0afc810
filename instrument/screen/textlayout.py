"""Text wrapped into lines of coloured glyphs: shared by the projection window and the panel."""
from __future__ import annotations

from dataclasses import dataclass

RGB = tuple[int, int, int]
TAB = 4


@dataclass
class Glyph:
    ch: str
    colour: RGB


class TextLayout:
    """Characters wrapped into lines of at most `columns`, at word boundaries where possible."""

    def __init__(self, columns: int, keep_lines: int = 400):
        self.columns, self.keep_lines = max(columns, 8), keep_lines
        self.lines: list[list[Glyph]] = [[]]

    def feed(self, glyphs: list[Glyph]) -> None:
        for g in glyphs:
            if g.ch == "\n":
                self.lines.append([])
                continue
            for ch in (" " * TAB if g.ch == "\t" else g.ch):
                self.lines[-1].append(Glyph(ch, g.colour))
                if len(self.lines[-1]) > self.columns:
                    self._wrap()
        if len(self.lines) > self.keep_lines:
            del self.lines[: len(self.lines) - self.keep_lines]

    def _wrap(self) -> None:
        line = self.lines[-1]
        space = max((i for i, g in enumerate(line) if g.ch == " "), default=-1)
        if space > 0:
            rest = line[space + 1:]
            del line[space:]
        else:
            rest = line[self.columns:]
            del line[self.columns:]
        self.lines.append(rest)

    def rewrap(self, columns: int) -> None:
        glyphs = [g for i, line in enumerate(self.lines) for g in (line + ([Glyph("\n", (0, 0, 0))] if i < len(self.lines) - 1 else []))]
        self.columns, self.lines = max(columns, 8), [[]]
        self.feed(glyphs)

    @staticmethod
    def runs(line: list[Glyph]) -> list[tuple[str, RGB]]:
        """A line as runs of one colour (one draw call each)."""
        out: list[tuple[str, RGB]] = []
        for g in line:
            if out and out[-1][1] == g.colour:
                out[-1] = (out[-1][0] + g.ch, g.colour)
            else:
                out.append((g.ch, g.colour))
        return out
