"""Commands: the OSC messages that are actions rather than values (learn, presets, subscribe,
morph, describe). Like parameters they are a table: each module exposes its own as Command rows,
the OSC router maps them, and docs/osc.md is rendered from the same rows, so what answers is
what is documented (tests/test_docs.py checks both ways)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

Sender = tuple[str, int]
Reply = tuple[str, tuple]
Handler = Callable[[str, list, Sender], list[Reply]]


@dataclass(frozen=True)
class Command:
    address: str
    args: str     # how its arguments read, for the docs: "s name [f seconds]"
    doc: str      # what it does, and what it answers
    handler: Handler
