"""Type a phrase live: each line typed into the terminal the instrument plays in goes in as a
prime (/prime), which lands at the end of the word being written (engine.py). A thread of its own
reads the lines; it is started only when stdin is a terminal, so a piped or detached instrument
never waits on input, and Ctrl-D ends it."""
from __future__ import annotations

import sys
import threading

from ..params import ParamTree

LONGEST = 10_000  # characters of a typed line kept: /prime's own limit


class TypedPhrases:
    def __init__(self, params: ParamTree, stream=None):
        self.params = params
        self.stream = stream if stream is not None else sys.stdin
        self.sent = 0
        self._thread = threading.Thread(target=self.run, name="typing", daemon=True)

    @staticmethod
    def wanted(stream=None) -> bool:
        stream = stream if stream is not None else sys.stdin
        try:
            return stream is not None and stream.isatty()
        except (ValueError, OSError):  # closed
            return False

    def start(self) -> "TypedPhrases":
        self._thread.start()
        return self

    def run(self) -> None:
        for line in self.stream:
            phrase = line.strip()[:LONGEST]
            if phrase:
                self.params.set("/prime", phrase + " ", source="terminal")  # the styles go on after it
                self.sent += 1
