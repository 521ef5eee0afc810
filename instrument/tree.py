"""The parameter tree, built once: the union of every module's own table (params.py has the
styles' weights and the engine's controls; the clock, the voice and the projector theirs). A new
module with parameters adds its table here, and every surface (OSC, MIDI-learn, the panel,
presets, OSCQuery, docs/osc.md) has them at once."""
from __future__ import annotations

from .control import clock, history, link
from .outputs import midi_out, projection, speech
from .params import CONTROLS, ParamTree, style_params

TABLES = (CONTROLS, clock.PARAMS, link.PARAMS, history.PARAMS, midi_out.PARAMS, speech.PARAMS, projection.PARAMS)


def build_tree(names: list[str]) -> ParamTree:
    """Every parameter of an instrument playing these styles."""
    return ParamTree.of(style_params(names) + [p for table in TABLES for p in table])
