"""The base of outputs that are windows (the projection). Dear PyGui draws in the thread that
calls `run()`, which must be the main thread (macOS's windowing insists, and glfw's docs ask it
everywhere), so such an output has no thread of its own: `start()` only subscribes, and `run()`
is its loop: read, write (the output keeps what it will draw), draw at most FPS times a second
when something is new (twice a second otherwise, for the window system), a screenshot when asked.
"""
from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

from ..base.pacing import Pacer
from ..screen.priority import lowered_priority, one_software_renderer_thread
from .base import Sink

if TYPE_CHECKING:  # the engine imports the tree, which imports the outputs: only for the hints
    from ..engine import Engine

FPS = 60
IDLE_REDRAW = 0.5  # seconds between frames when no text arrives


class WindowSink(Sink):
    """Subclasses implement setup(dpg) (the viewport and its items), write(frames, text) and
    draw(dpg) (bring the items up to date)."""

    def __init__(self, width: int = 1280, height: int = 720):
        super().__init__()
        self.size = (width, height)
        self._stop = threading.Event()
        self.frames_drawn = 0
        self._shot: str | None = None
        self._last_shot: str | None = None

    def start(self, engine: Engine) -> "WindowSink":
        """Subscribe; the loop is run() on the caller's (main) thread."""
        return self.attach(engine)

    def stop(self) -> None:
        self._stop.set()

    def screenshot(self, path: str, at_end: bool = False) -> None:
        """Save the next drawn frame (or the last one, at_end) as PNG."""
        if at_end:
            self._last_shot = str(path)
        else:
            self._shot = str(path)

    def run(self) -> None:
        """The window's loop at a lower priority; the renderer's threads, started from here,
        inherit it, so the engine comes first."""
        one_software_renderer_thread()
        with lowered_priority():
            self._loop()

    def _loop(self) -> None:
        import dearpygui.dearpygui as dpg

        dpg.create_context()
        try:
            self.setup(dpg)
            pacer, last_render = Pacer(), time.monotonic()
            while dpg.is_dearpygui_running() and not self._stop.is_set():
                closing = self.subscription.closed  # before the read: then the read has the last text
                frames, text = self.subscription.read(timeout=0)
                if text:
                    self.write(frames, text)
                # draw when there is something new (or twice a second, for the window system): an
                # idle window costs the engine nothing
                if text or self._shot or self.frames_drawn < 3 or time.monotonic() - last_render > IDLE_REDRAW:
                    self._render(dpg)
                    last_render = time.monotonic()
                pacer.wait(FPS, self._stop)
                if closing and not text:
                    break
            if self._last_shot:
                self._final_shot(dpg)
        finally:
            dpg.destroy_context()

    def _render(self, dpg) -> None:
        self.draw(dpg)
        if self._shot:
            dpg.output_frame_buffer(file=self._shot)
            self._shot = None
        dpg.render_dearpygui_frame()
        self.frames_drawn += 1

    def _final_shot(self, dpg) -> None:
        """The screenshot asked for at the end: drawn, captured on the next frame, flushed."""
        self.draw(dpg)
        dpg.output_frame_buffer(file=self._last_shot)
        for _ in range(3):
            dpg.render_dearpygui_frame()

    def setup(self, dpg) -> None:
        raise NotImplementedError

    def draw(self, dpg) -> None:
        raise NotImplementedError
