"""What the two windows (the projection and the panel) share: a backdrop window that paints no
background, text laid out and painted line by line, the styles' colours (theme.yaml), the shipped
monospace font, a lower priority for the drawing threads, and whether a window can open here."""
from __future__ import annotations

import os
import sys
from pathlib import Path

# DejaVu Sans Mono (Bitstream Vera licence): every glyph advances the same width, so text wraps by columns.
FONT = Path(__file__).resolve().parent / "fonts" / "DejaVuSansMono.ttf"


def display_available() -> str | None:
    """None if a window can open here, else why not (glfw aborts the process without a display)."""
    from ..base.extras import missing

    problem = missing("dearpygui")
    if problem:
        return problem
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return "no display (DISPLAY is not set; on a headless machine run it under Xvfb)"
    return None
