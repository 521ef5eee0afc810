"""The panel: the mixer, the morph pad, the distributions and the text, in Dear PyGui.

It is an OSC client of the engine, exactly as TouchOSC would be (the paper's server/visualiser
split): it can run on another machine and costs the engine nothing. Everything it draws comes
from the engine's /describe, echoes, /frame and /text messages; everything it does is an OSC
message to the engine.
"""
from __future__ import annotations

import logging
import math
import threading
import time

import numpy as np

from ..screen.backdrop import backdrop_window, fit_to_viewport
from ..base.pacing import Pacer
from ..screen import FONT
from ..screen.textpaint import LinePainter
from ..screen.theme import Theme
from ..core import morph
from ..params import mix_address, style_of
from .client import EngineClient
from .faders import Faders
from .presets import build_presets, chosen
from .switches import add_switch, section_of
from .textfollower import TextFollower

log = logging.getLogger("instrument.panel")

FPS = 60
IDLE_FRAME = 0.05  # seconds between frames when nothing happens
W, H = 1280, 800
MIXER_W = 430
DIST_W, ROW_H = 816, 40
DIST_ROWS = 10       # rows of distributions the pane has room for (the mix and nine styles); with more
DIST_H = DIST_ROWS * ROW_H + 20  # active styles the rows get thinner, down to MIN_ROW_H
MIN_ROW_H = 16
FADERS_PER_ROW = 8   # at most, in a row of the mixer (a fader with its name, learn and CC is 48 px)
PAD = 250


class Panel:
    def __init__(self, client: EngineClient, theme: Theme, wek_inputs: tuple[str, int] | None = None,
                 stop: threading.Event | None = None):
        """wek_inputs: where Wekinator hears /wek/inputs; the pad's point goes there too. stop:
        set (by a signal, app/signals.stop_on_kill) to end run()."""
        self.client, self.theme, self.wek_inputs = client, theme, wek_inputs
        self.styles = [style_of(e["address"]) for e in client.tree if style_of(e["address"])]
        self.colours = dict(zip(self.styles, theme.colours(self.styles)))
        self.entries = {e["address"]: e for e in client.tree}
        self.frames_drawn = 0
        self._shot: str | None = None
        self._stop = stop or threading.Event()
        self._pad_point = (0.0, 0.0)
        self._drawn_step = -2
        self._pad_drawn = None
        self._last_heard, self._last_mouse = -1, None
        self._mono = 0
        self._advance = 15 * 1233 / 2048  # DejaVu Sans Mono's glyph width at 15 px
        self._text = TextFollower(self._text_columns(), lambda lead: self.colours.get(lead, theme.text))
        self._text_pane = LinePainter("text")
        self.faders = Faders(self.colours, self._slider_moved, self._learn)

    # --- the performer's moves -------------------------------------------------------------
    def move(self, address: str, value) -> None:
        """A control moved in the panel: send it, and remember it as the current value."""
        if isinstance(value, bool):
            value = 1.0 if value else 0.0
        self.client.values[address] = value
        self.client.send(address, value)

    def _slider_moved(self, sender, value, address):
        self.move(address, value)

    def _learn(self, sender, value, address):
        self.client.learning = address
        self.client.send("/learn", address)

    def _pad_moved(self, x: float, y: float) -> None:
        r = math.hypot(x, y)
        if r > 1:
            x, y = x / r, y / r
        self._pad_point = (x, y)
        pi = morph.weights(x, y, len(self.styles))
        for name, w in zip(self.styles, pi):
            self.client.values[mix_address(name)] = w
        self.client.send("/mix", *pi)
        if self.wek_inputs is not None:  # Wekinator learns from the pad's point: 0..1 each, as its sliders
            self.client.send_to(self.wek_inputs, "/wek/inputs", (x + 1) / 2, (y + 1) / 2)

    def _preset(self, sender, value, action):
        import dearpygui.dearpygui as dpg

        name = chosen(dpg, action)
        if not name:
            return
        if action == "morph":
            self.client.send("/preset/morph", name, float(dpg.get_value("morph-seconds")))
        elif action == "save":
            self.client.send("/preset/save", name, int(bool(dpg.get_value("preset-replace"))))
        else:
            self.client.send(f"/preset/{action}", name)

    # --- building ------------------------------------------------------------------------------
    def build(self, dpg) -> None:
        with dpg.font_registry():
            self._mono = dpg.add_font(str(FONT), 15)
        with dpg.theme() as bare:  # no child-window backgrounds either: the viewport's colour shows through
            with dpg.theme_component(dpg.mvAll):
                dpg.add_theme_color(dpg.mvThemeCol_ChildBg, (0, 0, 0, 0))
        dpg.create_viewport(title="instrument panel", width=W, height=H, clear_color=(14, 14, 18, 255), x_pos=0, y_pos=0)
        with backdrop_window(dpg, "panel", W, H):
            with dpg.group(horizontal=True):
                with dpg.child_window(width=MIXER_W, height=-1, border=False):
                    self._build_mixer(dpg)
                    self._build_globals(dpg)
                with dpg.child_window(width=-1, height=-1, border=False):
                    with dpg.group(horizontal=True):
                        dpg.add_text("distributions: the mix (top) and each active style", color=(160, 160, 170))
                        dpg.add_text("", tag="link", color=(120, 200, 160))
                    dpg.add_drawlist(tag="dists", width=DIST_W, height=DIST_H)
                    with dpg.group(horizontal=True):
                        with dpg.group():
                            dpg.add_text("morph pad", color=(160, 160, 170))
                            dpg.add_drawlist(tag="pad", width=PAD, height=PAD)
                        with dpg.group():
                            dpg.add_text("text", color=(160, 160, 170))
                            dpg.add_drawlist(tag="text", width=DIST_W - PAD - 16, height=PAD)
                    build_presets(dpg, self._preset)
                    dpg.add_text("", tag="notes", color=(200, 200, 120), wrap=DIST_W)
                    dpg.add_text("", tag="lost", color=(240, 90, 90), wrap=DIST_W)
        dpg.bind_item_theme("panel", bare)
        with dpg.handler_registry():
            dpg.add_mouse_drag_handler(callback=self._drag)
            dpg.add_mouse_click_handler(callback=self._drag)
        self._draw_pad(dpg)

    def _build_mixer(self, dpg) -> None:
        dpg.add_text("mixer", color=(160, 160, 170))
        count = -(-len(self.styles) // FADERS_PER_ROW)
        per_row = -(-len(self.styles) // count)  # rows as even as can be: 17 styles are 6, 6 and 5
        rows = [self.styles[i : i + per_row] for i in range(0, len(self.styles), per_row)]
        height = 170 if count == 1 else max(60, 220 // count)  # shorter faders, so the rest still fits
        for row in rows:
            self._build_fader_row(dpg, row, height)

    def _build_fader_row(self, dpg, names: list[str], height: int) -> None:
        with dpg.group(horizontal=True, horizontal_spacing=6):
            for name in names:
                address = mix_address(name)
                self.faders.add(dpg, name, address, self.client.values.get(address, 0.0), height)

    def _build_globals(self, dpg) -> None:
        """Every parameter the engine tags "surface": a row of choices, switches and triggers for
        each part of the tree (the engine's, speech's: its stop always in sight), then a slider for
        each number. A parameter added to the tree with the tag is here by itself."""
        dpg.add_spacer(height=8)
        surface = [e for e in self.client.tree if "surface" in e.get("tags", ())]
        rest = [e for e in surface if e["kind"] not in ("float", "int")]
        for section in dict.fromkeys(section_of(e["address"]) for e in rest):
            mine = [e for e in rest if section_of(e["address"]) == section]
            with dpg.group(horizontal=True):  # the switches, then each text field on a line of its own
                if section:
                    dpg.add_text(section, color=(160, 160, 170))
                for e in (e for e in mine if e["kind"] != "text"):
                    add_switch(dpg, e, section, self._slider_moved, self.client.send)
            for e in (e for e in mine if e["kind"] == "text"):
                with dpg.group(horizontal=True):
                    add_switch(dpg, e, section, self._slider_moved, self.client.send)
        for e in (e for e in surface if e["kind"] in ("float", "int")):
            address = e["address"]
            with dpg.group(horizontal=True):
                lo, hi = e.get("span") or e["range"]  # the part a hand wants (/rate: 1-400, not flat out)
                dpg.add_slider_float(tag=f"fader:{address}", width=220, min_value=float(lo), max_value=float(hi),
                                     default_value=float(e["value"]), callback=self._slider_moved, user_data=address,
                                     format="%.0f" if e["kind"] == "int" else "%.3f")  # beams 8, not 8.000
                dpg.add_text(f"{address[1:]:<11}")
                dpg.add_button(label="learn", tag=f"learn:{address}", width=46, callback=self._learn, user_data=address)
                dpg.add_text("", tag=f"cc:{address}", color=(150, 150, 150))

    # --- drawing -------------------------------------------------------------------------------
    def _drag(self, sender, app_data) -> None:
        import dearpygui.dearpygui as dpg

        if not dpg.is_item_hovered("pad") or not dpg.is_mouse_button_down(0):
            return
        mx, my = dpg.get_mouse_pos(local=False)
        px, py = dpg.get_item_rect_min("pad")
        x, y = (mx - px) / (PAD / 2) - 1, (my - py) / (PAD / 2) - 1
        self._pad_moved(x / 0.85, y / 0.85)

    def _draw_pad(self, dpg) -> None:
        pi = tuple(round(w, 2) for w in self._weights())
        if self._pad_drawn == (self._pad_point, pi):
            return
        self._pad_drawn = (self._pad_point, pi)
        dpg.delete_item("pad", children_only=True)
        c, r = PAD / 2, PAD / 2 * 0.85
        dpg.draw_rectangle((0, 0), (PAD, PAD), color=(60, 60, 70), fill=(22, 22, 28), parent="pad")
        dpg.draw_circle((c, c), r, color=(70, 70, 80), parent="pad")
        x, y = self._pad_point
        self._draw_spokes(dpg, (c + r * x, c + r * y), pi, c, r)
        for name, (px, py) in zip(self.styles, morph.positions(len(self.styles))):
            dpg.draw_circle((c + r * px, c + r * py), 7, fill=(*self.colours[name], 255), color=(0, 0, 0), parent="pad")
            dpg.draw_text(self._label_at(c + r * px, c + r * py, px, py), name[:6], color=(*self.colours[name], 200),
                          size=12, parent="pad")
        dpg.draw_circle((c + r * x, c + r * y), 9, color=(255, 255, 255), thickness=2, parent="pad")

    def _draw_spokes(self, dpg, at: tuple[float, float], pi: tuple[float, ...], c: float, r: float) -> None:
        """A line from the cursor to each sounding style, as thick and as bright as its weight: the
        cursor is the weights' centre of mass, which puts three styles spread round the circle at
        the centre (every voice at once, on the pad); the spokes say which three."""
        top = max(pi, default=0.0)
        for name, w, (px, py) in zip(self.styles, pi, morph.positions(len(self.styles))):
            if w > 0 and top > 0:
                share = w / top
                dpg.draw_line(at, (c + r * px, c + r * py), color=(*self.colours[name], int(60 + 160 * share)),
                              thickness=1 + 3 * share, parent="pad")

    @staticmethod
    def _label_at(x: float, y: float, px: float, py: float) -> tuple[float, float]:
        """Where a style's name goes beside its dot on the pad: inwards at the sides, so that no
        name is cut off by the pad's edge, above or below the dot at the top and bottom."""
        if px < -0.6:
            return x + 10, y - 6
        if px > 0.6:
            return x - 50, y - 6
        return x - 18, y + (-20 if py < 0 else 8)

    def _draw_distributions(self, dpg) -> None:
        frame = self.client.frame
        if frame is None or frame.step == self._drawn_step:
            return
        self._drawn_step = frame.step
        dpg.delete_item("dists", children_only=True)
        label_w, bar_w = 150, (DIST_W - 150 - 10) / 128
        labels = ["mix"] + frame.names
        row_h = max(MIN_ROW_H, min(ROW_H, (DIST_H - 20) // len(labels)))
        labels = labels[: (DIST_H - 20) // row_h]  # past the thinnest rows: the mix and those that fit
        sampled = ord(frame.char) if len(frame.char) == 1 and ord(frame.char) < 128 else -1
        for row, (label, dist) in enumerate(zip(labels, frame.rows)):
            y0 = row * row_h + 4
            colour = (230, 230, 230) if row == 0 else self.colours.get(label, (200, 200, 200))
            weight = "" if row == 0 else f" {self.client.values.get(mix_address(label), 0):.2f}"
            entropy = frame.entropy[row] if row < len(frame.entropy) else float("nan")
            dpg.draw_text((2, y0 + 2), f"{label}{weight}", color=(*colour, 255), size=min(15, row_h - 2), parent="dists")
            if row_h >= 32:
                dpg.draw_text((2, y0 + 20), f"H {entropy:.2f} bits", color=(150, 150, 150), size=13, parent="dists")
            base = y0 + row_h - 6
            dpg.draw_line((label_w, base), (DIST_W - 8, base), color=(50, 50, 60), parent="dists")
            for i in np.flatnonzero(dist * (row_h - 10) >= 1):  # a bar under a pixel tall would not show
                x = label_w + i * bar_w
                # fill only: an outline would be ~10 more triangles a bar, and a frame's bars ~3 ms of llvmpipe
                dpg.draw_rectangle((x, base - (row_h - 10) * float(dist[i])), (x + max(bar_w - 1, 1), base),
                                   fill=(*colour, 230), color=(0, 0, 0, 0), parent="dists")
            if sampled >= 0:
                x = label_w + sampled * bar_w
                dpg.draw_rectangle((x - 1, y0), (x + bar_w, base + 2), color=(255, 255, 255), parent="dists")
        base = len(labels) * row_h + 4
        for code, mark in ((32, "space"), (48, "0"), (65, "A"), (97, "a"), (122, "z")):
            dpg.draw_text((label_w + code * bar_w - 2, base - 4), mark, color=(120, 120, 130), size=12, parent="dists")
        if sampled >= 0:
            shown = {10: "\\n", 9: "\\t", 32: "space"}.get(sampled, frame.char)
            dpg.draw_text((40, 6), f"sampled: {shown}", color=(255, 255, 255), size=14, parent="dists")

    def _measure(self, dpg) -> None:
        """The font's real glyph width, known only once a frame has been drawn with it."""
        size = dpg.get_text_size("M" * 64, font=self._mono)
        if size and size[0] > 0 and abs(size[0] / 64 - self._advance) > 1e-3:
            self._advance = size[0] / 64
            self._text.rewrap(self._text_columns())

    def _text_columns(self) -> int:
        return int((DIST_W - PAD - 24) / self._advance)

    def _draw_text(self, dpg) -> None:
        if self.frames_drawn == 2:
            self._measure(dpg)
        self._text.update(self.client)
        size = 15
        self._text_pane.paint(dpg, self._text.layout.lines, int(PAD / (size * 1.3)), (4, 0), size * 1.3,
                              self._advance, self._mono, size)

    def _weights(self) -> list[float]:
        """Each style's fader, as the engine last said (what the pad's ring and spokes show)."""
        return [float(self.client.values.get(mix_address(n), 0.0)) for n in self.styles]

    def _follow_pad(self, dpg) -> None:
        """Unless the performer is dragging it, the pad's point sits at the weights' centre of mass."""
        if dpg.is_item_hovered("pad") and dpg.is_mouse_button_down(0):
            return
        pi = self._weights()
        total = sum(pi)
        if total > 0:
            points = morph.positions(len(self.styles))
            self._pad_point = (round(sum(w * p[0] for w, p in zip(pi, points)) / total, 3),
                               round(sum(w * p[1] for w, p in zip(pi, points)) / total, 3))

    def _sync_controls(self, dpg) -> None:
        """Follow the engine (MIDI, presets, TouchOSC), except a control the performer is holding."""
        for address, value in list(self.client.values.items()):
            tag = f"fader:{address}"
            if dpg.does_item_exist(tag) and not dpg.is_item_active(tag):
                if dpg.get_value(tag) != value:
                    dpg.set_value(tag, value)
                if self.faders.owns(address):
                    self.faders.show(dpg, address, float(value))
            if dpg.does_item_exist(f"cc:{address}"):
                label = "..." if self.client.learning == address else self.client.binding_for(address)
                if dpg.get_value(f"cc:{address}") != label:
                    dpg.set_value(f"cc:{address}", label)
        self._follow_pad(dpg)
        if dpg.get_item_configuration("preset-list")["items"] != self.client.presets:
            dpg.configure_item("preset-list", items=self.client.presets)
        dpg.set_value("notes", "  |  ".join(self.client.notes))
        dpg.set_value("lost", self.lost_message())
        dpg.set_value("link", self.link_message())

    def link_message(self) -> str:
        """The Link session as the engine reports it (empty when it is not in one)."""
        values = self.client.values
        if not values.get("/link/on"):
            return ""
        peers = int(values.get("/link/peers", 0))
        return f"Link: {peers} peer{'' if peers == 1 else 's'}, {float(values.get('/link/tempo', 0)):.1f} bpm"

    def lost_message(self) -> str:
        """What the panel says while the engine does not answer (empty while it does)."""
        if not self.client.lost:
            return ""
        host, port = self.client.engine
        return (f"engine lost: nothing from {host}:{port} for {time.monotonic() - self.client.last_heard:.0f} s. "
                f"These are its last values; the panel reconnects when it answers again.")

    # --- the loop ------------------------------------------------------------------------------
    def screenshot(self, path: str) -> None:
        self._shot = str(path)

    def stop(self) -> None:
        self._stop.set()

    def busy(self, dpg) -> bool:
        """Whether a frame is worth drawing: the engine sent something, or the performer is at the
        mouse. An idle panel draws 20 frames a second, a busy one 60."""
        heard, mouse = self.client.heard, (tuple(dpg.get_mouse_pos(local=False)), dpg.is_mouse_button_down(0))
        changed = heard != self._last_heard or mouse != self._last_mouse or mouse[1]
        self._last_heard, self._last_mouse = heard, mouse
        return changed

    def step(self, dpg) -> None:
        """One drawn frame."""
        fit_to_viewport(dpg, "panel")
        with self.client.lock:
            self._sync_controls(dpg)
            self._draw_distributions(dpg)
            self._draw_text(dpg)
        self._draw_pad(dpg)
        if self._shot:
            dpg.output_frame_buffer(file=self._shot)
            self._shot = None
        dpg.render_dearpygui_frame()
        self.frames_drawn += 1

    def open(self):
        """Create the window (Dear PyGui's context is per process); returns the dpg module."""
        import dearpygui.dearpygui as dpg

        dpg.create_context()
        self.build(dpg)
        dpg.setup_dearpygui()
        dpg.show_viewport()
        return dpg

    def run(self, seconds: float | None = None) -> None:
        """Draw at 60 frames a second until the window closes, stop(), or `seconds` pass."""
        dpg = self.open()
        try:
            end = None if seconds is None else time.monotonic() + seconds
            pacer, last = Pacer(), time.monotonic()
            while dpg.is_dearpygui_running() and not self._stop.is_set() and (end is None or time.monotonic() < end):
                if self.busy(dpg) or self._shot or time.monotonic() - last >= IDLE_FRAME:
                    self.step(dpg)
                    last = time.monotonic()
                pacer.wait(FPS, self._stop)
        finally:
            dpg.destroy_context()
