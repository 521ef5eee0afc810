"""The panel's text pane: what the engine wrote, laid out as it arrives."""
from __future__ import annotations

from ..screen.textlayout import Glyph, TextLayout
from .client import EngineClient


class TextFollower:
    """The panel's text pane: the client's characters laid out as they arrive, only the new ones
    each frame (laying out the last 1,500 every frame was 4 ms of a frame beside a fast engine)."""

    def __init__(self, columns: int, colour_of):
        self.layout, self.colour_of, self.fed = TextLayout(columns), colour_of, 0

    def update(self, client: EngineClient) -> None:
        """Take what the client heard since the last update; call it under client.lock."""
        new = client.text_after(self.fed)
        self.layout.feed([Glyph(ch, self.colour_of(lead)) for ch, lead in new])
        self.fed = client.text_total

    def rewrap(self, columns: int) -> None:
        self.layout.rewrap(columns)
