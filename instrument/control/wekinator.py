"""Wekinator (wekinator.org): a small neural net that maps any gesture (a webcam, a Leap Motion,
a phone's tilt, the panel's morph pad) to numbers, trained by example. It sends `/wek/outputs f f
...` to 127.0.0.1:12000 by default; the instrument listens there (`--wekinator`) and each vector
moves the mix as one move: output 1 the first style, output 2 the second, ... the loaded
styles numbered as params.style_numbers does (the shipped ones in their fixed order, then a
performer's own: adding a style of one's own moves no output), or in the order the mapping file gives:

    wekinator: [shakespeare, bible, linux]      # output 1 -> /mix/shakespeare, ...
    wekinator: [/mix/poe, /temperature]         # or any numeric address

Outputs past the list are ignored, a list longer than the vector moves what the vector reaches;
values are clamped to each parameter's range (a regression can overshoot 0..1). docs/wekinator.md
walks through a gesture-to-style setup.
"""
from __future__ import annotations

import logging
import math

from ..commands import Command
from ..params import ParamTree, mix_address, style_numbers

log = logging.getLogger("instrument.wekinator")

DEFAULT = "127.0.0.1:12000"  # where Wekinator sends its outputs unless told otherwise
INPUTS = "127.0.0.1:6448"    # where Wekinator listens for /wek/inputs


def targets(names: list[str], order: list[str] | None, params: ParamTree) -> list[str | None]:
    """The address each output moves (None: a style not loaded tonight, that output is skipped)."""
    if order:
        entries = order
    else:  # output i: the style numbered i (params.style_numbers), None where it is not loaded
        numbers = style_numbers(names)
        entries = [None] * (max(numbers.values(), default=-1) + 1)
        for name, number in numbers.items():
            entries[number] = name
    out = []
    for entry in entries:
        if entry is None:
            out.append(None)
            continue
        address = entry if entry.startswith("/") else mix_address(entry)
        numeric = address in params and params.params[address].kind in ("float", "int")
        out.append(address if numeric else None)
    return out


class Wekinator:
    def __init__(self, params: ParamTree, names: list[str], order: list[str] | None = None):
        self.params = params
        self.targets = targets(names, order, params)
        self.heard = 0

    def commands(self) -> list[Command]:
        return [Command("/wek/outputs", "f ...", "Wekinator's outputs (on its port, --wekinator): output i moves "
                        "the i-th style (or the mapping file's `wekinator:` list), as one move", self.outputs)]

    def outputs(self, address: str, args: list, sender) -> list:
        move = {}
        for target, value in zip(self.targets, args):
            if target is None or isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                continue
            lo, hi = self.params.params[target].range
            move[target] = min(max(float(value), lo), hi)
        if move:
            self.heard += 1
            self.params.set_many(move, source=f"wekinator:{sender[0]}")
        return []
