"""Lines of coloured text drawn into a Dear PyGui drawlist: the projection's page and the panel's
text pane. Each line slot is a draw layer of its own, redrawn only when its line changed, which
is mostly the last one: redrawing every visible line each frame was 1 ms of Python a frame in the
panel beside a fast engine."""
from __future__ import annotations

from .textlayout import Glyph, TextLayout


class LinePainter:
    def __init__(self, drawlist: str):
        self.drawlist = drawlist
        self._drawn: dict[int, tuple] = {}  # slot -> what it shows

    def forget(self) -> None:
        """Redraw every slot next time (the font, the width or the drawlist changed); a slot the
        new size has no room for is emptied then (see paint)."""
        self._drawn = dict.fromkeys(self._drawn, ())

    def paint(self, dpg, lines: list[list[Glyph]], slots: int, origin: tuple[float, float], line_height: float,
              advance: float, font: int, size: int) -> None:
        """The last `slots` lines, the first at `origin`, glyphs `advance` apart. Slots past
        `slots` that an earlier paint filled (the text was smaller) are emptied."""
        for slot in [s for s in self._drawn if s >= slots]:
            layer = f"{self.drawlist}/line-{slot}"
            if dpg.does_item_exist(layer):
                dpg.delete_item(layer, children_only=True)
            del self._drawn[slot]  # empty now, and forgotten until a paint fills it again
        visible = lines[-slots:]
        for slot in range(slots):
            line = visible[slot] if slot < len(visible) else []
            signature = (id(line), len(line), size, advance)
            if self._drawn.get(slot) != signature:
                self._redraw(dpg, slot, line, (origin[0], origin[1] + slot * line_height), advance, font, size)
                self._drawn[slot] = signature

    def _redraw(self, dpg, slot: int, line: list[Glyph], at: tuple[float, float], advance: float, font: int,
                size: int) -> None:
        layer = f"{self.drawlist}/line-{slot}"
        if dpg.does_item_exist(layer):
            dpg.delete_item(layer, children_only=True)
        else:
            dpg.add_draw_layer(tag=layer, parent=self.drawlist)
        column = 0
        for text, colour in TextLayout.runs(line):
            item = dpg.draw_text((at[0] + round(column * advance), at[1]), text, color=(*colour, 255), size=size,
                                 parent=layer)
            dpg.bind_item_font(item, font)
            column += len(text)
