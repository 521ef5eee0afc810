"""The panel's controls for the parameters that are not numbers: a choice, a switch, a trigger's
button, a text field sent on Enter; grouped by the part of the tree each belongs to."""
from __future__ import annotations

TEXT_HINTS = {"/speech/voice": "empty: each style's own; piper; a name",  # what fits 300 px
              "/prime": "type a phrase, then Enter"}


def section_of(address: str) -> str:
    """The part of the tree a parameter belongs to, for grouping: "speech" for /speech/stop, "" for
    the engine's own (/mode)."""
    parts = address.strip("/").split("/")
    return parts[0] if len(parts) > 1 else ""


def add_switch(dpg, e: dict, section: str, moved, send) -> None:
    """The control for one parameter of the tree's description `e`, labelled without its section;
    moved(sender, value, address) when it changes, send(address) when a trigger is pressed."""
    address = e["address"]
    name = address[len(section) + 2:] if section else address[1:]
    if e["kind"] == "enum":
        dpg.add_combo(list(e["range"]), tag=f"fader:{address}", width=120, default_value=e["value"],
                      callback=moved, user_data=address)
        dpg.add_text(name)
    elif e["kind"] == "bool":
        dpg.add_checkbox(label=name, tag=f"fader:{address}", default_value=bool(e["value"]), callback=moved,
                         user_data=address)
    elif e["kind"] == "trigger":
        dpg.add_button(label=name, width=max(60, 8 * len(name)), callback=lambda s, a, u: send(u), user_data=address)
    elif e["kind"] == "text":  # sent on Enter: the voice's name, a phrase to prime with
        dpg.add_input_text(tag=f"fader:{address}", width=300, default_value=str(e["value"]), on_enter=True,
                           hint=TEXT_HINTS.get(address, ""), callback=moved, user_data=address)
        dpg.add_text(name)
