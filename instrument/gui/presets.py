"""The panel's presets: a choice of the engine's presets with load and morph (over so many
seconds), and a name to save the sound under. Two rows, under the morph pad and the text, so that
at 1280x800 they are in sight without scrolling (in the mixer's column they sat at y 930)."""
from __future__ import annotations


def build_presets(dpg, act) -> None:
    """act(sender, value, action) for "load", "morph" and "save"."""
    with dpg.group(horizontal=True):
        dpg.add_text("presets", color=(160, 160, 170))
        dpg.add_combo([], tag="preset-list", width=210)
        dpg.add_button(label="load", width=60, callback=act, user_data="load")
        dpg.add_button(label="morph", width=60, callback=act, user_data="morph")
        dpg.add_input_float(tag="morph-seconds", default_value=4.0, width=60, step=0, format="%.1f")
        dpg.add_text("s")
        dpg.add_input_text(tag="preset-name", hint="save as", width=120)
        dpg.add_button(label="save", width=50, callback=act, user_data="save")
        dpg.add_checkbox(label="replace", tag="preset-replace")


def chosen(dpg, action: str) -> str:
    """The preset an action is for: the name typed (save), else the one chosen."""
    return dpg.get_value("preset-name") if action == "save" else dpg.get_value("preset-list")
