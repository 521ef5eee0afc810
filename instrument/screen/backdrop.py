"""A window that covers the whole viewport and paints no background of its own.

Dear PyGui's primary window paints its background as one blended, textured quad over every pixel,
whatever its theme or flags say. Under software OpenGL (Mesa's llvmpipe) that quad is most of a
frame: 5.5 of 6 ms for an empty 1280x800 window here, against 0.4 ms for a window without a
background (docs/performance.md, the panel). The viewport's clear colour paints the same
background for nothing, so the panel and the projection use this instead of a primary window.
"""
from __future__ import annotations


def backdrop_window(dpg, tag: str, width: int, height: int, **flags):
    """A context manager, like dpg.window: a window at the top-left corner, width x height, no
    title bar, no background; keep it the viewport's size with fit_to_viewport()."""
    return dpg.window(tag=tag, pos=(0, 0), width=width, height=height, no_title_bar=True, no_move=True,
                      no_resize=True, no_collapse=True, no_background=True, no_bring_to_front_on_focus=True,
                      **flags)


def fit_to_viewport(dpg, tag: str) -> tuple[int, int]:
    """Resize the window to the viewport's client area if that changed; returns (width, height)."""
    width, height = dpg.get_viewport_client_width(), dpg.get_viewport_client_height()
    if width > 0 and height > 0 and (dpg.get_item_width(tag), dpg.get_item_height(tag)) != (width, height):
        dpg.configure_item(tag, width=width, height=height)
    return width, height
