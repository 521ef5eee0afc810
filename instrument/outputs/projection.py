"""The projection window: the text large on black, wrapped and scrolling, each character tinted by
the style that contributed most to it, so the audience can see who is writing.

A window output (window.py): Dear PyGui draws it in the thread that calls `run()`, the main
thread. It reads frames like any output and never steps a model; it draws at most 60 times a
second and only redraws lines that changed. With speech on, the word being spoken is shown under
the text, a line of its own (`caption`: the speech output's current word).
"""
from __future__ import annotations

import logging
import time

from ..screen import FONT
from ..screen.backdrop import backdrop_window, fit_to_viewport
from ..frames import Frame
from ..params import Param, ParamTree
from ..screen.textlayout import Glyph, TextLayout
from ..screen.textpaint import LinePainter
from ..screen.theme import RGB, Theme
from .window import WindowSink

log = logging.getLogger("instrument.projection")

SIZE_SETTLE = 0.25  # s a new text size must hold before the font is changed
ADVANCE = 1233 / 2048  # DejaVu Sans Mono: every glyph advances 1233 of 2048 units per em


PARAMS = [  # this module's table (tree.py builds the union)
    Param("/project/size", "int", (12, 200), 40, "projection text size in pixels"),
    Param("/project/tint", "bool", (), True, "tint each character by the style that wrote it"),
    Param("/project/blank", "bool", (), False, "show nothing (the text goes on underneath; off shows it again)",
          frozenset({"surface"})),
    Param("/project/clear", "trigger", (), None, "start the page empty: what was written is not shown again",
          frozenset({"event", "surface"})),
]


def glyphs_for(frames: list[Frame], text: str, colours: list[RGB], theme: Theme, tint: bool) -> list[Glyph]:
    """Each character of the text with its colour: the lead style of its frame. Frames a slow
    reader lost leave their characters in the colour of the first frame that remains."""
    known = [theme.primed if f.primed or f.lead < 0 else colours[f.lead] for f in frames][-len(text):]
    missing = len(text) - len(known)
    fill = known[0] if known else theme.text
    out = []
    for i, ch in enumerate(text):
        colour = (known[i - missing] if i >= missing else fill) if tint else theme.text
        out.append(Glyph(ch, colour))
    return out


class Projection(WindowSink):
    """The audience's window: stop() (any thread) or closing the window ends it."""

    name = "projection"
    maxlen = 4096  # frames for colours: at 60 draws a second none are lost below ~245k chars/s

    def __init__(self, params: ParamTree, names: list[str], theme: Theme, fullscreen: bool = False,
                 width: int = 1280, height: int = 720):
        super().__init__(width, height)
        self.params, self.theme, self.fullscreen = params, theme, fullscreen
        self.colours = theme.colours(names)
        self.layout = TextLayout(80)
        self._page = LinePainter("page")
        self._font_size = 0
        self._advance: float | None = None  # measured glyph width in pixels, once the font is drawn
        self._font_frames = 0  # frames drawn with the current font
        self._fonts: dict[int, int] = {}  # size -> Dear PyGui font
        self._asked = (0, 0.0)  # the size asked for, and since when
        self.caption = None     # () -> the word being spoken ("" between phrases), when speech is on
        self._clear = False     # /project/clear fired: the page starts empty at the next draw
        self._blank = False     # what the page shows now: nothing (/project/blank)
        params.add_listener(self._heard)
        self._captioned = None  # what the caption line shows now

    def write(self, frames: list[Frame], text: str) -> None:
        self.layout.feed(glyphs_for(frames, text, self.colours, self.theme, self.params.get("/project/tint")))

    def setup(self, dpg) -> None:
        bg = (*self.theme.background, 255)
        with dpg.theme() as flush:
            with dpg.theme_component(dpg.mvAll):
                dpg.add_theme_style(dpg.mvStyleVar_WindowPadding, 0, 0)
        # at the screen's corner: the default +100+100 puts a 1280x720 window off a 1280x800 screen
        dpg.create_viewport(title="instrument", width=self.size[0], height=self.size[1], clear_color=bg,
                            x_pos=0, y_pos=0)
        with backdrop_window(dpg, "projection", *self.size, no_scrollbar=True):  # the clear colour is its background
            dpg.add_drawlist(tag="page", width=self.size[0], height=self.size[1])
        dpg.bind_item_theme("projection", flush)
        dpg.setup_dearpygui()
        dpg.show_viewport()
        if self.fullscreen:
            dpg.toggle_viewport_fullscreen()

    def _font(self, dpg) -> int:
        """The font at /project/size. A size is taken once it has held for SIZE_SETTLE seconds (a
        fader swept from 12 to 200 would otherwise add a font, and rebuild the atlas, per step of
        it), and each size's font is made once."""
        size, now = self.params.get("/project/size"), time.monotonic()
        if size != self._asked[0]:
            self._asked = (size, now)
        if size != self._font_size and (not self._font_size or now - self._asked[1] >= SIZE_SETTLE):
            if size not in self._fonts:
                with dpg.font_registry():
                    self._fonts[size] = dpg.add_font(str(FONT), size)
            self._font_id = self._fonts[size]
            self._font_size, self._advance, self._font_frames = size, None, 0
            self._page.forget()
            self.layout.rewrap(self._columns(dpg))
        self._font_frames += 1
        if self._advance is None and self._font_frames > 2:
            self._measure(dpg, self._font_size)
        return self._font_id

    def _measure(self, dpg, size: int) -> None:
        """The font's real glyph width. A new font has no size until frames have been drawn with
        it (until then Dear PyGui answers with the old font's: going back from 80 px to 20, the
        text wrapped at 26 columns), so it is measured two frames on, and only believed near the
        font's own proportions."""
        measured = dpg.get_text_size("M" * 64, font=self._font_id)
        if measured and abs(measured[0] / 64 - ADVANCE * size) < 0.2 * ADVANCE * size:
            self._advance = measured[0] / 64
            self._page.forget()
            self.layout.rewrap(self._columns(dpg))

    def _glyph_width(self) -> float:
        return self._advance or ADVANCE * self._font_size

    def _columns(self, dpg) -> int:
        width = dpg.get_viewport_client_width() or self.size[0]
        return int((width - 2 * self._margin) / self._glyph_width())

    @property
    def _margin(self) -> int:
        return max(16, self._font_size // 2)

    def _heard(self, address: str, value, source: str) -> None:
        if address == "/project/clear":
            self._clear = True  # done by the window's thread, which owns the layout

    def _blank_or_clear(self, dpg) -> None:
        if self._clear:
            self._clear = False
            self.layout.lines = [[]]
            self._page.forget()
        blank = bool(self.params.get("/project/blank"))
        if blank != self._blank:
            dpg.configure_item("page", show=not blank)
            self._blank = blank

    def draw(self, dpg) -> None:
        self._blank_or_clear(dpg)
        font = self._font(dpg)
        width, height = fit_to_viewport(dpg, "projection")
        width, height = width or self.size[0], height or self.size[1]
        if dpg.get_item_width("page") != width or dpg.get_item_height("page") != height:
            dpg.configure_item("page", width=width, height=height)
            self.layout.rewrap(self._columns(dpg))
            self._page.forget()
        size = self._font_size  # the size in force (a new one waits until it has settled)
        line_height = int(size * 1.25)
        spare = line_height if self.caption is not None else 0  # the caption's line
        slots = max(1, (height - 2 * self._margin - spare) // line_height)
        self._page.paint(dpg, self.layout.lines, slots, (self._margin, self._margin), line_height,
                         self._glyph_width(), font, size)
        if self.caption is not None:
            self._draw_caption(dpg, self.caption(), (self._margin, height - self._margin - line_height), font, size)

    def _draw_caption(self, dpg, word: str, at: tuple[int, int], font: int, size: int) -> None:
        """The word being spoken, in the text's colour, redrawn only when it changes."""
        shown = (word, at, size)
        if shown == self._captioned:
            return
        if dpg.does_item_exist("caption"):
            dpg.delete_item("caption", children_only=True)
        else:
            dpg.add_draw_layer(tag="caption", parent="page")
        if word:
            item = dpg.draw_text(at, word, color=(*self.theme.text, 255), size=size, parent="caption")
            dpg.bind_item_font(item, font)
        self._captioned = shown
