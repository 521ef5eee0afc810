"""The mixer's faders: one vertical slider a style, in the style's colour, with its name (whole on
hover), its learn button and the control it is learnt to.

A vertical slider draws its value at its top, over its grab when the fader is near 1: a style's
light colour under white digits hid "1.00" (issue 29). Near the top the digits take the colour
that reads on the grab (black on a light one), and white again below it."""
from __future__ import annotations

LABEL = 8      # characters of a style's name under its fader ("speeches", not "speech"); the rest on hover
# px: the grab's height and padding (Dear PyGui's defaults), the digits' midline below the track's top
# (measured on the screenshots: at 0.86 on a 73 px fader the grab's top crosses the digits' middle)
GRAB, PADDING, MIDLINE = 10, 2, 8.3
WHITE, BLACK = (255, 255, 255, 255), (0, 0, 0, 255)


def luminance(rgb) -> float:
    """Relative luminance (WCAG, 0..1) of an 8-bit sRGB colour."""
    def linear(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (linear(c) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def over_grab(height: int) -> float:
    """The fader value from which the grab lies under the middle of the digits, on a fader
    `height` px tall (0.86 for the 73 px of three rows, 0.95 for one row's 170)."""
    return 1.0 - MIDLINE / max(1.0, height - 2 * PADDING - GRAB)


def digits_on(rgb) -> tuple:
    """The colour of digits drawn over a grab of colour rgb: whichever of black and white contrasts
    more with it (WCAG contrast ratio)."""
    lum = luminance(rgb)
    return BLACK if (lum + 0.05) / 0.05 > 1.05 / (lum + 0.05) else WHITE


class Faders:
    def __init__(self, colours: dict, moved, learn):
        """colours: style -> RGB; moved(sender, value, address), learn(sender, value, address)."""
        self.colours, self.moved, self.learn = colours, moved, learn
        self._themes: dict[str, tuple[int, int]] = {}  # address -> (digits white, digits on the grab)
        self._from: dict[str, float] = {}  # address -> the value from which the digits lie on the grab
        self._over: dict[str, bool] = {}

    def add(self, dpg, name: str, address: str, value: float, height: int) -> None:
        colour = (*self.colours[name][:3], 255)
        themes = []
        for digits in (WHITE, digits_on(colour)):
            with dpg.theme() as theme:
                with dpg.theme_component(dpg.mvAll):
                    dpg.add_theme_color(dpg.mvThemeCol_SliderGrab, colour)
                    dpg.add_theme_color(dpg.mvThemeCol_SliderGrabActive, colour)
                    dpg.add_theme_color(dpg.mvThemeCol_Text, digits)
            themes.append(theme)
        self._themes[address], self._from[address] = tuple(themes), over_grab(height)
        with dpg.group():
            dpg.add_slider_float(tag=f"fader:{address}", vertical=True, height=height, width=40, min_value=0.0,
                                 max_value=1.0, format="%.2f", default_value=float(value),
                                 callback=self._moved, user_data=address)
            self.show(dpg, address, float(value))
            with dpg.tooltip(dpg.add_text(name[:LABEL], color=colour)):
                dpg.add_text(name)  # the whole name on hover
            dpg.add_button(label="learn", tag=f"learn:{address}", width=40, callback=self.learn, user_data=address)
            dpg.add_text("", tag=f"cc:{address}", color=(150, 150, 150))

    def show(self, dpg, address: str, value: float) -> None:
        """The digits' colour for the fader at value (the theme is rebound only when it changes)."""
        over = value >= self._from[address]
        if self._over.get(address) != over:
            dpg.bind_item_theme(f"fader:{address}", self._themes[address][over])
            self._over[address] = over

    def owns(self, address: str) -> bool:
        return address in self._themes

    def _moved(self, sender, value, address) -> None:
        import dearpygui.dearpygui as dpg

        self.show(dpg, address, value)
        self.moved(sender, value, address)
