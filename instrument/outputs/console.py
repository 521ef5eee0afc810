"""The terminal: the text as it is written and, on a tty, a status line with the mix. Log lines
(a MIDI port opening, a preset loaded, a refused message) go through the console too, so that on
a terminal they never land inside a word: each starts on a fresh line, and the text's unfinished
line is written again after it."""
from __future__ import annotations

import logging
import logging.handlers
import os
import queue
import shutil
import sys
import threading
import time

from ..base.files import escaped
from ..frames import Frame
from .base import Sink

STATUS_EVERY = 0.2  # seconds between status line redraws


class Console(Sink):
    """Writes every character; on a tty the last row shows pi and the rate, the text scrolls above."""

    name = "console"
    maxlen = 4

    def __init__(self, stream=None, names: list[str] | None = None, status: bool | None = None, params=None):
        super().__init__()
        self.stream = stream or sys.stdout
        self.names = names or []
        self.params = params  # for what the status line says beside the mix (Link)
        self.status = self.stream.isatty() if status is None else status
        self._last_status = 0.0
        self._count = 0
        self._t0 = time.monotonic()
        self._lock = threading.Lock()
        self._line = ""  # the text since its last newline (what a log line would cut)

    def opened(self) -> None:
        if self.status:
            rows = shutil.get_terminal_size().lines
            # a scroll region over all rows but the last keeps the status line in place
            self.stream.write(f"\n\x1b[1;{rows - 1}r\x1b[{rows - 1};1H")
            self.stream.flush()

    def write(self, frames: list[Frame], text: str) -> None:
        with self._lock:
            self.stream.write(text)
            self._count += len(text)
            cut = text.rfind("\n")
            self._line = (self._line + text if cut < 0 else text[cut + 1 :])[-2000:]
            if self.status and frames and time.monotonic() - self._last_status > STATUS_EVERY:
                self._draw_status(frames[-1])
            self.stream.flush()

    def interject(self, line: str, err=None) -> None:
        """A log line on its own line. Where the text and the log share a terminal, the text's
        unfinished line is ended first and written again after it; a text piped to a file is
        never touched."""
        err = err or sys.stderr
        with self._lock:
            shared = _same_terminal(self.stream, err)
            if shared and self._line:
                self.stream.write("\n")
                self.stream.flush()
            err.write(line + "\n")
            err.flush()
            if shared and self._line:
                self.stream.write(self._line)
                self.stream.flush()

    def log_handler(self) -> logging.Handler:
        """A logging handler that writes through interject()."""
        console = self

        class Through(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                try:
                    console.interject(escaped(self.format(record), keep="\n\t"))  # a client's string never drives the terminal
                except Exception:
                    self.handleError(record)

        handler = Through()
        handler.setFormatter(logging.Formatter("instrument: %(message)s"))
        return handler

    def log_queue(self, limit: int = 1000) -> tuple[logging.Handler, logging.handlers.QueueListener]:
        """A handler that only hands each record to a queue, and the listener whose own thread
        writes them through interject(): a thread that logs (the MIDI callback, the OSC server,
        the engine) never waits on the console's lock or a stalled terminal. Past `limit` lines
        waiting, lines are dropped and counted (a flood must not grow memory): the handler's
        `dropped`."""
        handler = _DroppingQueueHandler(queue.Queue(limit))
        return handler, logging.handlers.QueueListener(handler.queue, self.log_handler())

    def _draw_status(self, frame: Frame) -> None:
        self._last_status = now = time.monotonic()
        size = shutil.get_terminal_size()
        mix = "  ".join(f"{n} {w:.2f}" for n, w in zip(self.names, frame.pi) if w > 0)
        rate = self._count / max(now - self._t0, 1e-9)
        line = f" {mix}  |  {rate:.0f} chars/s{self._link()}"[: size.columns - 1]
        self.stream.write(f"\x1b7\x1b[{size.lines};1H\x1b[2K\x1b[7m{line}\x1b[0m\x1b8")

    def _link(self) -> str:
        if self.params is None or not self.params.get("/link/on"):
            return ""
        peers = self.params.get("/link/peers")
        return f"  |  link {peers} peer{'' if peers == 1 else 's'} {self.params.get('/link/tempo'):.1f} bpm"

    def closed(self) -> None:
        if self.status:
            rows = shutil.get_terminal_size().lines
            # clear the status row, drop the scroll region (that homes the cursor), go to the bottom
            self.stream.write(f"\x1b[{rows};1H\x1b[2K\x1b[r\x1b[{rows};1H")
        self.stream.write("\n")
        self.stream.flush()


class _DroppingQueueHandler(logging.handlers.QueueHandler):
    """QueueHandler that drops a record when the queue is full instead of raising."""

    def __init__(self, q: queue.Queue):
        super().__init__(q)
        self.dropped = 0

    def enqueue(self, record: logging.LogRecord) -> None:
        try:
            self.queue.put_nowait(record)
        except queue.Full:
            self.dropped += 1


def _same_terminal(a, b) -> bool:
    """Whether two streams write to the same terminal."""
    try:
        if not (a.isatty() and b.isatty()):
            return False
        x, y = os.fstat(a.fileno()), os.fstat(b.fileno())
        return (x.st_dev, x.st_ino, x.st_rdev) == (y.st_dev, y.st_ino, y.st_rdev)
    except (AttributeError, OSError, ValueError):
        return False
