"""The console: log lines never land inside a word of the text on a shared terminal, and never
touch a text that goes to a file."""
from __future__ import annotations

import io
import logging
import os

from instrument.outputs.console import Console


def _read_all(fd: int) -> str:
    import select

    out = b""
    while select.select([fd], [], [], 0.2)[0]:
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        out += chunk
    return out.decode().replace("\r\n", "\n")


def test_on_a_shared_terminal_a_log_line_starts_a_line_and_the_unfinished_line_is_written_again():
    master, slave = os.openpty()
    out, err = os.fdopen(slave, "w"), os.fdopen(os.dup(slave), "w")
    console = Console(stream=out, status=False)
    console.write([], "In the beginning\nAnd the LORD said unto Mo")
    console.interject("instrument: MIDI: listening on instrument", err)
    console.write([], "ses, Go")
    assert _read_all(master) == ("In the beginning\nAnd the LORD said unto Mo\ninstrument: MIDI: listening on "
                                 "instrument\nAnd the LORD said unto Moses, Go")


def test_a_text_piped_away_is_exactly_the_text():
    out, err = io.StringIO(), io.StringIO()
    console = Console(stream=out, status=False)
    console.write([], "And the LORD said unto Mo")
    console.interject("instrument: preset salon loaded", err)
    console.write([], "ses")
    assert out.getvalue() == "And the LORD said unto Moses" and err.getvalue() == "instrument: preset salon loaded\n"


def test_the_log_handler_goes_through_the_console(monkeypatch):
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr("sys.stderr", err)
    console = Console(stream=out, status=False)
    logger = logging.getLogger("instrument.test-console")
    logger.addHandler(console.log_handler())
    logger.propagate = False
    logger.warning("OSC refused: no parameter at %r", "/mx/bible")
    assert err.getvalue() == "instrument: OSC refused: no parameter at '/mx/bible'\n"


def test_the_status_line_shows_the_link_session_when_there_is_one():
    import io

    import numpy as np

    from instrument.frames import Frame
    from instrument.outputs.console import Console
    from instrument.tree import build_tree

    tree = build_tree(["ayes"])
    stream = io.StringIO()
    console = Console(stream, ["ayes"], status=True, params=tree)
    frame = Frame(0, "a", np.ones(1), np.zeros(1, dtype=int))
    console.write([frame], "a")
    assert "link" not in stream.getvalue()
    for address, value in (("/link/on", True), ("/link/peers", 2), ("/link/tempo", 97.5)):
        tree.set(address, value, source="link")
    console._last_status = 0.0
    console.write([frame], "a")
    assert "link 2 peers 97.5 bpm" in stream.getvalue()


class _StalledTerminal(io.StringIO):
    """A terminal that stops taking bytes until released (a paused tty, a full pipe)."""

    def __init__(self):
        super().__init__()
        import threading

        self.release = threading.Event()

    def write(self, text):
        self.release.wait(10)
        return super().write(text)


def test_a_thread_that_logs_never_waits_on_a_stalled_terminal(monkeypatch):
    """The MIDI callback, the OSC server and the engine log through a queue the console's own
    thread drains: with the terminal stalled, 200 log calls return at once, and every line
    arrives, in order, once it takes bytes again."""
    import threading

    err = _StalledTerminal()
    monkeypatch.setattr("sys.stderr", err)
    console = Console(stream=io.StringIO(), status=False)
    handler, listener = console.log_queue()
    logger = logging.getLogger("instrument.test-console-queue")
    logger.addHandler(handler)
    logger.propagate = False
    listener.start()
    try:
        done = threading.Event()
        thread = threading.Thread(target=lambda: ([logger.warning("line %d", i) for i in range(200)], done.set()))
        thread.start()
        assert done.wait(2.0)  # not held by the stalled terminal (its writes wait up to 10 s each)
        assert err.getvalue() == ""
        err.release.set()
    finally:
        listener.stop()
    assert err.getvalue().splitlines() == [f"instrument: line {i}" for i in range(200)]
    assert handler.dropped == 0


def test_a_flood_of_log_lines_is_dropped_and_counted_not_queued_without_end(monkeypatch):
    err = _StalledTerminal()
    monkeypatch.setattr("sys.stderr", err)
    console = Console(stream=io.StringIO(), status=False)
    handler, listener = console.log_queue(limit=50)
    logger = logging.getLogger("instrument.test-console-flood")
    logger.addHandler(handler)
    logger.propagate = False
    for i in range(120):  # the listener is not started: nothing drains
        logger.warning("line %d", i)
    assert handler.dropped == 70 and handler.queue.qsize() == 50


def test_a_clients_escape_codes_never_reach_the_terminal(monkeypatch):
    """`oscsend localhost 9000 /learn s $'/x\\e[2J\\e]0;PWNED\\a'` once cleared and retitled the
    performer's terminal through a log line."""
    err = io.StringIO()
    monkeypatch.setattr("sys.stderr", err)
    console = Console(stream=io.StringIO(), status=False)
    logger = logging.getLogger("instrument.test-console-escapes")
    logger.addHandler(console.log_handler())
    logger.propagate = False
    logger.warning("OSC refused: no parameter at %s", "/x\x1b[2J\x1b]0;PWNED\x07\x9b")
    shown = err.getvalue()
    assert "\x1b" not in shown and "\x07" not in shown and "\x9b" not in shown
    assert shown == "instrument: OSC refused: no parameter at /x\\x1b[2J\\x1b]0;PWNED\\x07\\x9b\n"
