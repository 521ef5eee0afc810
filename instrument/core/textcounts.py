"""The text memory: what followed each context of 1..ORDERS characters in the text written so far.

The corpus memory knows a style's corpus; this knows the piece. A text has its own words (a
story's names, a report's phrases, a program's identifiers) that come back, and counting them as
they come is how PPMd and zpaq, which learn the text they compress as they read it, beat the
styles on their held-out text (Shakespeare's held-out play: 2.26 bpc with the corpus memory alone,
1.96 with this too, gates fitted on one half and measured on the other). The counts are one table
for the whole ensemble (the text is everyone's); each style's gate weighs them (core/recall.py).

Only the last WINDOW characters are counted, so a long performance keeps a bounded table: the
oldest character's contexts are taken off as a new one comes in.
"""
from __future__ import annotations

from collections import deque

import numpy as np

ORDERS = 8          # contexts of 1..ORDERS characters
WINDOW = 1 << 16    # characters counted (about 18 minutes at 60 characters a second)
SYMBOLS = 128


class TextCounts:
    """Counts of what followed each short context in the last WINDOW characters of a text."""

    def __init__(self, orders: int = ORDERS, window: int = WINDOW):
        self.orders, self.window = orders, window
        self.reset()

    def reset(self) -> None:
        self.table: dict[bytes, dict[int, int]] = {}   # context -> {next character: count}
        self.text = bytearray()                          # the last window + orders characters
        self.events: deque[tuple[bytes, ...]] = deque()  # per character counted: the contexts it was counted in

    def accept(self, x: int) -> None:
        """x follows the text: counted after each of its contexts, the oldest character forgotten."""
        keys = tuple(bytes(self.text[-k:]) for k in range(1, min(self.orders, len(self.text)) + 1))
        for key in keys:
            followers = self.table.setdefault(key, {})
            followers[x] = followers.get(x, 0) + 1
        self.events.append((x, *keys))
        self.text.append(x)
        if len(self.events) > self.window:
            self._forget(self.events.popleft())
        if len(self.text) > 2 * self.orders:
            del self.text[: len(self.text) - self.orders]

    def _forget(self, event: tuple) -> None:
        x, *keys = event
        for key in keys:
            followers = self.table[key]
            followers[x] -= 1
            if not followers[x]:
                del followers[x]
                if not followers:
                    del self.table[key]

    def counts(self, tails: list[bytes]) -> np.ndarray:
        """(len(tails), ORDERS, 128) int32: what followed the last 1..ORDERS characters of each
        tail (a path's text: the committed text's end and its own pending characters)."""
        out = np.zeros((len(tails), self.orders, SYMBOLS), dtype=np.int32)
        for r, tail in enumerate(tails):
            for k in range(1, min(self.orders, len(tail)) + 1):
                followers = self.table.get(bytes(tail[-k:]))
                if followers is None:
                    break  # a longer context than one never seen is never seen either
                out[r, k - 1, list(followers)] = list(followers.values())
        return out

    def tail(self) -> bytes:
        """The committed text's last ORDERS characters."""
        return bytes(self.text[-self.orders:])
