"""The terminal: the text as it is written and, on a tty, a status line with the mix."""
from __future__ import annotations

import shutil
import sys
import time

from ..engine import Frame
from .base import Sink

STATUS_EVERY = 0.2  # seconds between status line redraws


class Console(Sink):
    """Writes every character; on a tty the last row shows pi and the rate, the text scrolls above."""

    name = "console"
    maxlen = 4

    def __init__(self, stream=None, names: list[str] | None = None, status: bool | None = None):
        super().__init__()
        self.stream = stream or sys.stdout
        self.names = names or []
        self.status = self.stream.isatty() if status is None else status
        self._last_status = 0.0
        self._count = 0
        self._t0 = time.monotonic()

    def opened(self) -> None:
        if self.status:
            rows = shutil.get_terminal_size().lines
            # a scroll region over all rows but the last keeps the status line in place
            self.stream.write(f"\n\x1b[1;{rows - 1}r\x1b[{rows - 1};1H")
            self.stream.flush()

    def write(self, frames: list[Frame], text: str) -> None:
        self.stream.write(text)
        self._count += len(text)
        if self.status and frames and time.monotonic() - self._last_status > STATUS_EVERY:
            self._draw_status(frames[-1])
        self.stream.flush()

    def _draw_status(self, frame: Frame) -> None:
        self._last_status = now = time.monotonic()
        size = shutil.get_terminal_size()
        mix = "  ".join(f"{n} {w:.2f}" for n, w in zip(self.names, frame.pi) if w > 0)
        rate = self._count / max(now - self._t0, 1e-9)
        line = f" {mix}  |  {rate:.0f} chars/s"[: size.columns - 1]
        self.stream.write(f"\x1b7\x1b[{size.lines};1H\x1b[2K\x1b[7m{line}\x1b[0m\x1b8")

    def closed(self) -> None:
        if self.status:
            rows = shutil.get_terminal_size().lines
            # clear the status row, drop the scroll region (that homes the cursor), go to the bottom
            self.stream.write(f"\x1b[{rows};1H\x1b[2K\x1b[r\x1b[{rows};1H")
        self.stream.write("\n")
        self.stream.flush()
