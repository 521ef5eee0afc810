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
