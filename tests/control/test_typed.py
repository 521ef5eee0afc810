"""Typing a phrase into the terminal the instrument plays in: a real pseudo-terminal, a real
instrument process."""
from __future__ import annotations

import io
import os
import select
import sys
import time

import pytest

from instrument.control.typed import TypedPhrases
from instrument.tree import build_tree

from ..fakes import write_letter_models


def test_each_typed_line_is_a_prime_and_blank_lines_are_nothing():
    params = build_tree(["a"])
    typed = TypedPhrases(params, io.StringIO("In the beginning\n\n   \nAMEN\n"))
    typed.run()
    assert typed.sent == 2 and params.get("/prime") == "AMEN " and params.snapshot().writes["/prime"] == 2


def test_a_piped_or_detached_instrument_reads_no_input():
    assert not TypedPhrases.wanted(io.StringIO("x\n")) and not TypedPhrases.wanted(None)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a pseudo-terminal, as Linux gives one")
def test_a_line_typed_into_the_playing_instruments_terminal_comes_in_at_a_word_end(tmp_path):
    import pty

    models = write_letter_models(tmp_path / "models", {"ayes": "a"})
    pid, fd = pty.fork()
    if pid == 0:  # the instrument, its stdin and stdout the terminal
        os.environ["INSTRUMENT_MODELS"] = str(models)
        os.execv(sys.executable, [sys.executable, "-m", "instrument", "play", "--mix", "ayes=1", "--rate", "40",
                                  "--chars", "400", "--no-midi", "--no-oscquery", "--osc-listen", "127.0.0.1:0"])
    out, typed, deadline = b"", False, time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # the instrument ended
                break
            if not chunk:
                break
            out += chunk
        if not typed and out.count(b"a") > 40:
            os.write(fd, b"ZEBRA\n")
            typed = True
    os.waitpid(pid, 0)
    text = out.decode("ascii", "replace")
    assert typed and "ZEBRA " in text.split("ZEBRA\r\n", 1)[-1]  # after the terminal's echo of the line
    at = text.rindex("ZEBRA ")
    assert text[at - 1] in " \n"  # at a word's end, never inside "aaaZEBRA"
